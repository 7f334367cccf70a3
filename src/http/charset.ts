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
  const label = (charset ?? 'utf-8').toLowerCase();
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
