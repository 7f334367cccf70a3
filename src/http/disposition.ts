/**
 * `Content-Disposition` for a download (RFC 6266), with an ASCII `filename` fallback a client
 * that reads no `filename*` can save.
 *
 * @module
 */
import { create } from 'content-disposition';

/** A character `filename=` cannot carry as is (outside printable US-ASCII). */
const NON_ASCII = /[^\x20-\x7e]/;

/**
 * A `Content-Disposition` header of `type` for `filename` (none: the bare type), built by
 * `content-disposition`: a name in printable ASCII goes in `filename`; any other in
 * `filename*` (RFC 8187, UTF-8), with `filename` its {@link asciiFallback} for the clients
 * that read only that one (curl's `-OJ`, old browsers), as Werkzeug's `send_file` writes it.
 *
 * @example
 * ```ts
 * dispositionHeader('Übersicht März.pdf');
 * // attachment; filename="Ubersicht Marz.pdf"; filename*=UTF-8''%C3%9Cbersicht%20M%C3%A4rz.pdf
 * ```
 */
export function dispositionHeader(filename: string | undefined, type = 'attachment'): string {
  const fallback = filename !== undefined && NON_ASCII.test(filename) ? asciiFallback(filename) : true;
  return create(filename, { type, fallback });
}

/**
 * `name` in printable ASCII for `filename=`: each character outside it compatibility-decomposed
 * (NFKD: `ﬁ` is `fi`, a full-width `Ａ` is `A`) with its combining marks dropped (`é` is `e`,
 * `Ü` is `U`), `ß` written `ss` (DIN 5007), when that leaves letters, digits or a space; any
 * other (`日`, `–`, and the compatibility forms of `/`, `\` and `..`, `／`, `＼`, `‥`, which must
 * not spell a path in the name a client saves) a `?`, as `content-disposition` writes it.
 * Werkzeug's `send_file` drops such characters instead, which can empty a name (`日本.pdf`
 * would be `.pdf`).
 */
export function asciiFallback(name: string): string {
  return name.normalize('NFC').replace(NOT_PRINTABLE_ASCII, (character) => {
    const ascii = character.normalize('NFKD').replace(/\p{M}/gu, '').replace(/ß/g, 'ss').replace(/ẞ/g, 'SS');
    return /^[A-Za-z0-9 ]*$/.test(ascii) ? ascii : '?';
  });
}

/** Each character outside printable US-ASCII. */
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/gu;
