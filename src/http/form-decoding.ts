/**
 * `application/x-www-form-urlencoded` pairs in a charset other than UTF-8: the escapes made
 * bytes, the bytes decoded in the charset (WebOb's `url_encoding` and form transcoding).
 *
 * @module
 */

import { encodingOfLabel } from './charset.ts';

const EQUALS = 0x3d;
const PERCENT = 0x25;
const PLUS = 0x2b;
const SPACE = 0x20;

/**
 * The WHATWG Encoding Standard's labels of US-ASCII (`us-ascii`, `ascii`, and IANA's primary
 * name `ANSI_X3.4-1968`), lower-case, which it maps to windows-1252: urlencoded text declared in
 * one is read as UTF-8 instead, of which ASCII is a subset.
 */
const US_ASCII_LABELS: ReadonlySet<string> = new Set(['us-ascii', 'ascii', 'ansi_x3.4-1968']);

/**
 * The WHATWG encoding urlencoded text declared in `charset` is decoded in: `utf-8` without one
 * or for US-ASCII under any of its labels (`us-ascii`, `ascii`, `ANSI_X3.4-1968`: a subset of
 * UTF-8), else the encoding the label names; `null` for a label the WHATWG Encoding Standard
 * does not know, or UTF-16 (whose `=` and `&` are two bytes: browsers submit the form of such a
 * page in UTF-8). The rule of a urlencoded body and of `MultiDict.fromQueryString`. Never throws.
 */
export function formEncoding(charset: string | undefined): string | null {
  if (charset === undefined || US_ASCII_LABELS.has(charset.trim().toLowerCase())) return 'utf-8';
  const encoding = encodingOfLabel(charset);
  return encoding === null || encoding.startsWith('utf-16') ? null : encoding;
}

/**
 * A decoder of one `name=value` pair (its bytes, without `&`) in `charset`, a WHATWG encoding
 * label (`shift_jis`, `euc-jp`, `windows-1252`…): split at the first `=` (`a` alone is
 * `['a', '']`), each side's bytes unescaped ({@link formBytes}) and decoded in `charset`, bytes
 * it cannot decode becoming U+FFFD, as the WHATWG URL Standard's parser does for UTF-8.
 *
 * @throws RangeError for a label the WHATWG Encoding Standard does not know.
 */
export function charsetPairDecoder(charset: string): (pair: Uint8Array) => [string, string] {
  const decoder = new TextDecoder(charset);
  const decode = (part: Uint8Array): string => decoder.decode(formBytes(part));
  return (pair) => {
    const eq = pair.indexOf(EQUALS);
    return eq === -1 ? [decode(pair), ''] : [decode(pair.subarray(0, eq)), decode(pair.subarray(eq + 1))];
  };
}

/**
 * The bytes a urlencoded name or value stands for (the WHATWG URL Standard's percent-decode,
 * on bytes): `+` is a space, `%XX` the byte XX, a `%` that starts no escape kept as written.
 */
export function formBytes(part: Uint8Array): Uint8Array {
  const out = new Uint8Array(part.length);
  let n = 0;
  for (let i = 0; i < part.length; i++) {
    const byte = part[i]!;
    const high = byte === PERCENT ? hexValue(part[i + 1]) : -1;
    const low = high === -1 ? -1 : hexValue(part[i + 2]);
    if (low !== -1) {
      out[n++] = high * 16 + low;
      i += 2;
    } else {
      out[n++] = byte === PLUS ? SPACE : byte;
    }
  }
  return out.subarray(0, n);
}

/** The value of an ASCII hex digit, or -1 (also for no byte). */
function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}
