/**
 * Telling one `Authorization` (or `Proxy-Authorization`) value from two joined: the field is
 * no list (RFC 9110 §11.6.2: `credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`),
 * so two field lines combined with `, ` (what a fetch `Headers` does, and a proxy that folds
 * lines) make a value that is not one credential. Internal: not part of the public API.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { Cursor } from './syntax.ts';

/**
 * After a comma outside quoted-strings, the start of a second credential: an auth-scheme
 * followed by the end, a comma, or whitespace and anything but the `=` of an auth-param
 * (`, realm="x"` and `, realm ="x"`, with the whitespace RFC 9110 §11.2 allows before the
 * `=`, belong to the first credential). A credential can never be read as an auth-param, nor
 * the reverse, so the test is exact for well-formed credentials.
 */
const SECOND_CREDENTIAL = /,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:\s*(?:,|$)|\s+[^\s=])/;

/**
 * Whether an `Authorization` value holds a second credential after a comma (`Basic a, Basic
 * b`: two lines joined with `, `), quoted-strings aside; an auth-param list (`Digest
 * username="a", realm="b"`) is one credential. Linear in the length of the value.
 */
export function hasSecondCredential(value: string): boolean {
  return value.includes(',') && SECOND_CREDENTIAL.test(withoutQuotedStrings(value));
}

/**
 * `value` with each quoted-string emptied (`""`), in one pass. From an unclosed one on, the
 * rest is kept as it is: every later quote is unclosed too (the scan from the first one met
 * each of them escaped), and a regex retried from each of them took time quadratic in the
 * length of a hostile header.
 */
function withoutQuotedStrings(value: string): string {
  const c = new Cursor(value);
  let out = '';
  for (;;) {
    const quote = value.indexOf('"', c.pos);
    if (quote === -1) return out + value.slice(c.pos);
    out += value.slice(c.pos, quote);
    c.pos = quote;
    if (c.quoted() === null) return out + value.slice(quote);
    out += '""';
  }
}

/**
 * The reason for refusing an `Authorization` or `Proxy-Authorization` that holds more than one
 * credential (`Basic a, Basic b`: two lines a fetch runtime, or a proxy in front, joined with
 * `, `; see {@link hasSecondCredential}), or `null`. An auth-param list (`Digest username="a",
 * realm="b"`) is one credential. Two cheap reads for a request without such fields.
 */
export function credentialsRefusal(environ: Environ): string | null {
  const authorization = environ.HTTP_AUTHORIZATION;
  if (typeof authorization === 'string' && hasSecondCredential(authorization)) return 'more than one credential in Authorization';
  const proxy = environ.HTTP_PROXY_AUTHORIZATION;
  if (typeof proxy === 'string' && hasSecondCredential(proxy)) return 'more than one credential in Proxy-Authorization';
  return null;
}
