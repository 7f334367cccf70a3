/**
 * Text encoding and decoding by charset label, over `TextDecoder` and `Buffer`.
 *
 * @module
 */
import { Buffer } from 'node:buffer';

const ENCODABLE: Record<string, BufferEncoding> = {
  'us-ascii': 'latin1',
  ascii: 'latin1',
  'iso-8859-1': 'latin1',
  latin1: 'latin1',
  'utf-16le': 'utf16le',
};

/** The highest code unit each single-byte charset can hold. */
const MAX_CODE: Record<string, number> = { 'us-ascii': 0x7f, ascii: 0x7f, 'iso-8859-1': 0xff, latin1: 0xff };


/**
 * Encodes `text` in `charset` (`utf-8` when null; labels are case-insensitive). UTF-8, ASCII,
 * ISO-8859-1 and UTF-16LE can be encoded. Like Python's strict `str.encode`, a character the
 * charset cannot hold is an error, never silently replaced.
 *
 * @throws RangeError for any other charset, or for a character outside ASCII / ISO-8859-1
 *   when encoding in those.
 */
export function encodeText(text: string, charset: string | null = 'utf-8'): Uint8Array {
  // The default label, and the one `Response` passes, skip the lower-casing.
  const label = charset === 'utf-8' ? charset : (charset ?? 'utf-8').toLowerCase();
  // Buffer.from is several times faster than TextEncoder for short strings (it may share
  // Node's 8 KiB pool, so callers must use the view, never its whole `.buffer`).
  if (label === 'utf-8' || label === 'utf8') {
    const buffer = Buffer.from(text, 'utf8');
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }
  const encoding = ENCODABLE[label];
  if (!encoding) throw new RangeError(`cannot encode text as charset ${JSON.stringify(charset)}`);
  const max = MAX_CODE[label];
  if (max !== undefined) {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) > max) {
        throw new RangeError(`cannot encode ${JSON.stringify(text[i])} at index ${i} as charset ${label}`);
      }
    }
  }
  return Buffer.from(text, encoding);
}

/**
 * Decodes `bytes` with the WHATWG decoder for `charset` (`utf-8` when null). With `fatal`,
 * malformed input throws a `TypeError`; without it, it becomes U+FFFD.
 *
 * @throws RangeError when the charset is not one the WHATWG Encoding Standard knows.
 */
export function decodeText(bytes: Uint8Array, charset: string | null = 'utf-8', fatal = false): string {
  if (charset === 'utf-8' || charset === null) return (fatal ? UTF8_FATAL : UTF8).decode(bytes);
  return new TextDecoder(charset, { fatal }).decode(bytes);
}

/**
 * The WHATWG Encoding Standard's "UTF-8 decode without BOM or fail": `bytes` as UTF-8, where a
 * leading EF BB BF is the text's first character, U+FEFF, not a byte order mark to drop, as in
 * a protocol element that is UTF-8 by definition (RFC 3629 §6): a Basic user-id, a cookie's
 * name or value.
 *
 * @throws TypeError when `bytes` are not valid UTF-8.
 */
export function decodeUtf8WithoutBom(bytes: Uint8Array): string {
  return UTF8_WITHOUT_BOM.decode(bytes);
}

/**
 * The encoding a byte order mark at the start of `bytes` names (WHATWG Encoding Standard, "BOM
 * sniff"): `utf-8` for EF BB BF, `utf-16be` for FE FF, `utf-16le` for FF FE; null without one.
 */
export function bomEncoding(bytes: Uint8Array): 'utf-8' | 'utf-16be' | 'utf-16le' | null {
  const [b0, b1, b2] = bytes;
  if (b0 === 0xef && b1 === 0xbb && b2 === 0xbf) return 'utf-8';
  if (b0 === 0xfe && b1 === 0xff) return 'utf-16be';
  if (b0 === 0xff && b1 === 0xfe) return 'utf-16le';
  return null;
}

/**
 * Decodes a body as the WHATWG Encoding Standard's "decode" does: a byte order mark decides the
 * encoding and is removed, whatever `charset` says; without one, `charset` (`utf-8` when null)
 * decodes it. Malformed input becomes U+FFFD. So a body labelled `utf-16` (little-endian to the
 * WHATWG decoders) that starts with a big-endian BOM is read big-endian, as RFC 2781 has it.
 *
 * @throws RangeError when there is no BOM and the charset is not one the standard knows.
 */
export function decodeBody(bytes: Uint8Array, charset: string | null = 'utf-8'): string {
  return decodeText(bytes, bomEncoding(bytes) ?? charset);
}

/**
 * The WHATWG Encoding Standard's name for a charset label, as `TextDecoder` resolves it:
 * case-insensitive, surrounding whitespace ignored, aliases mapped (`UTF8` and
 * `unicode-1-1-utf-8` are `utf-8`; `latin1` is `windows-1252`).
 *
 * @returns the encoding's name, or null for a label the standard does not know.
 */
export function encodingOfLabel(label: string): string | null {
  try {
    return new TextDecoder(label).encoding;
  } catch {
    return null;
  }
}

// A decoder keeps no state between calls to `decode()` without `{ stream: true }`, so the UTF-8
// ones (most bodies) are made once.
const UTF8 = new TextDecoder('utf-8');
const UTF8_FATAL = new TextDecoder('utf-8', { fatal: true });
const UTF8_WITHOUT_BOM = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
