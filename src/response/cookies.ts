/**
 * Setting and deleting cookies on a `Response` (`Set-Cookie`, RFC 6265bis).
 *
 * @module
 */
import type { HeaderList } from '../http/header-list.ts';
import { COOKIE_OPTIONS, type CookieOptions, deletionOptions, serializeSetCookie } from '../http/cookies.ts';
import { checkOptions } from '../gateway/option-names.ts';

/** `Set-Cookie` lines of a `Response` (installed on it; see `descriptors.ts`). */
export abstract class ResponseCookies {
  declare readonly headers: HeaderList;

  /**
   * Adds a `Set-Cookie` line (several calls give several lines).
   *
   * @param name - cookie name (a token).
   * @param value - cookie value: written as it is when it holds only RFC 6265 cookie-octets, else
   *   encoded with `encodeURIComponent`, unless `options.encode`.
   * @param options - attributes, see {@link CookieOptions}; `path` defaults to `'/'`, and
   *   `maxAge` (seconds) also sets `Expires`.
   * @throws TypeError for an invalid name or attribute (from `cookie`), and for a cookie
   *   browsers refuse to store: `sameSite: 'none'` or `partitioned` without `secure`, a
   *   `__Secure-` name without `secure`, a `__Host-` name without `secure`, with a `domain`
   *   or with a `path` other than `'/'` (RFC 6265bis §4.1.3); RangeError when the name and
   *   encoded value come to more than 4096 bytes, which browsers ignore (§5.7); TypeError for
   *   options that are not a plain object or hold an unknown key (`res.setCookie: unknown
   *   option "httponly": did you mean "httpOnly"?`, which would set a cookie scripts can read).
   */
  setCookie(name: string, value: string, options?: CookieOptions): this {
    checkOptions('res.setCookie', options, COOKIE_OPTIONS, 'third');
    this.headers.add('Set-Cookie', serializeSetCookie(name, value, options));
    return this;
  }

  /**
   * Tells the client to drop a cookie: an empty value with `Max-Age=0` and an `Expires` in
   * the past. Pass the same `path` and `domain` the cookie was set with (and `partitioned`
   * for a partitioned one). The line gets `Secure` when a browser would ignore it without
   * (a `__Secure-` or `__Host-` name, `sameSite: 'none'`, `partitioned`), unless `secure`
   * is given.
   *
   * The options the cookie was set with may be given as they are: their `maxAge` and
   * `expires` are ignored, the deletion setting its own (as Express 5's `res.clearCookie`).
   *
   * @throws TypeError as {@link ResponseCookies.setCookie}.
   */
  deleteCookie(name: string, options: Omit<CookieOptions, 'maxAge' | 'expires'> = {}): this {
    checkOptions('res.deleteCookie', options, COOKIE_OPTIONS);
    return this.setCookie(name, '', deletionOptions(name, options));
  }
}
