/**
 * The character encoding a browser submits a form in (HTML Living Standard §4.10.21.7, "pick an
 * encoding for the form"), and the `application/x-www-form-urlencoded` serializer in it (URL
 * Standard §5.2 with an encoding override), so a page in Shift_JIS or windows-1251 posts its
 * fields as a browser would: in the page's charset, undeclared.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { iconv, iconvLoaded, loadIconv } from './iconv-loader.ts';
import { characterReference, encodingName, textCodec } from '../proxy/text-codec.ts';
import { type Element, attribute } from './html.ts';
import { TestClientError } from './error.ts';

/**
 * The WHATWG encoding the form is submitted in: the first label of its `accept-charset` that
 * names an encoding (UTF-8 when it names none), else `documentEncoding`, the charset the page
 * was decoded in; UTF-16 (and `replacement`) become UTF-8, as a browser's "get an output
 * encoding" makes them. Lower case, as `TextDecoder.encoding` writes it (`shift_jis`).
 */
export function formEncoding(form: Element, documentEncoding: string): string {
  const accept = attribute(form, 'accept-charset');
  let encoding = encodingName(documentEncoding) ?? 'utf-8';
  if (accept !== null) {
    const labels = accept.split(/[\t\n\f\r ]+/).filter(Boolean);
    encoding = labels.map(encodingName).find((name) => name !== null) ?? 'utf-8';
  }
  return encoding === 'utf-16le' || encoding === 'utf-16be' || encoding === 'replacement' ? 'utf-8' : encoding;
}

/**
 * The name a browser gives `encoding` in a hidden `_charset_` field (WHATWG Encoding's names:
 * `UTF-8`, `Shift_JIS`, `windows-1251`, `ISO-8859-2`).
 */
export function encodingLabel(encoding: string): string {
  return SPECIAL_NAMES[encoding] ?? (/^(?:utf|iso|koi|ibm|euc|gbk)/.test(encoding) ? encoding.toUpperCase() : encoding);
}

const SPECIAL_NAMES: Readonly<Record<string, string>> = { shift_jis: 'Shift_JIS', big5: 'Big5', gb18030: 'gb18030' };

/** The bytes a URL's urlencoded serializer leaves as they are (URL Standard §5.2). */
const UNRESERVED = /^[*\-._0-9A-Za-z]$/;

/**
 * `fields` serialized as `application/x-www-form-urlencoded` text in `encoding` (URL Standard
 * §5.2, "urlencoded serializer" with an encoding override): each name and value encoded, a
 * character the encoding cannot hold written as a numeric character reference (`&#10003;`,
 * WHATWG Encoding's "html" error mode, as browsers encode a form), the bytes percent-encoded
 * but for `*-._` and alphanumerics, a space as `+`. UTF-8 gives what `URLSearchParams` writes.
 *
 * @throws TestClientError for an encoding this client cannot write (`iso-2022-jp`); the
 *   East Asian multi-byte ones are written with iconv-lite.
 */
export function urlencode(fields: ReadonlyArray<readonly [string, string]>, encoding: string): string {
  const encode = formEncoder(encoding);
  const serialize = (text: string) => {
    let out = '';
    for (const byte of encode(text)) {
      const char = String.fromCharCode(byte);
      out += byte === 0x20 ? '+' : UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    return out;
  };
  return fields.map(([name, value]) => `${serialize(name)}=${serialize(value)}`).join('&');
}

/**
 * What {@link formEncoder} needs loaded first for `encoding`: iconv-lite's load (iconv-loader.ts)
 * for an encoding that neither UTF-8 nor a single-byte table writes, until it is loaded; else
 * `null`, nothing to wait for.
 */
export function formEncoderLoading(encoding: string): Promise<unknown> | null {
  return textCodec(encoding) !== null || iconvLoaded() !== undefined ? null : loadIconv();
}

/**
 * An encoder for `encoding` in the "html" error mode (a character it cannot hold: `&#N;`), as
 * browsers encode a form's names and values, urlencoded or multipart.
 *
 * @throws TestClientError for an encoding this client cannot write (see {@link urlencode});
 *   Error for one that needs iconv-lite before {@link formEncoderLoading} loaded it.
 */
export function formEncoder(encoding: string): (text: string) => Uint8Array {
  const codec = textCodec(encoding); // UTF-8 and the single-byte encodings
  if (codec !== null) return (text) => codec.encode(text.toWellFormed(), characterReference);
  const lib = iconv();
  if (!lib.encodingExists(encoding)) {
    throw new TestClientError(`this client cannot submit a form in ${encoding}: serve the page in UTF-8 or another charset iconv-lite writes, or send the body yourself (client.post(url, { body }))`);
  }
  // iconv-lite (Shift_JIS, EUC-JP, EUC-KR, Big5, GBK, gb18030) writes `?` for a character the
  // encoding cannot hold: one character at a time, such a `?` is told apart and made a reference.
  return (text) => {
    const parts: Uint8Array[] = [];
    for (const char of text.toWellFormed()) {
      const bytes = lib.encode(char, encoding);
      parts.push(char !== '?' && bytes.length === 1 && bytes[0] === 0x3f ? Buffer.from(characterReference(char), 'latin1') : bytes);
    }
    return Buffer.concat(parts);
  };
}
