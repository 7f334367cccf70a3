/**
 * The `Authorization` request header (RFC 9110 §11.6.2): parsed into a scheme and its
 * credentials, with Basic (RFC 7617) decoded to a user name and password and Bearer
 * (RFC 6750 §2.1) to its token; and the builders for the same header.
 *
 * ```ts
 * parseAuthorization('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
 * // { scheme: 'basic', token68: 'QWxh…', params: {}, username: 'Aladdin', password: 'open sesame' }
 * parseAuthorization('Digest username="Mufasa", realm="http-auth@example.org"').params.realm;
 * ```
 *
 * Parsing never throws: a malformed value answers `null`. Malformed means: no scheme, no
 * whitespace between it and the credentials, credentials that are neither one token68 nor a list of
 * auth-params (`name=token` or `name="quoted"`, each name once), or a Basic / Bearer value
 * that does not fit its scheme (see {@link parseAuthorization}). Two `Authorization` lines
 * joined with `, ` are malformed, as the field is not a list.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { CREDENTIALS_TOKEN_FORM, formatAuthValue, mustBeString, paramRecord, readAuthParam, readToken68 } from './auth-params.ts';
import { Cursor } from './syntax.ts';
import { decodeUtf8WithoutBom } from './charset.ts';

/** A parsed `Authorization` (or `Proxy-Authorization`) value. */
export interface Authorization {
  /** The auth-scheme, lower-cased (`basic`, `bearer`, `digest`, …). */
  readonly scheme: string;
  /** The token68 credentials, as sent; `null` when the scheme was followed by auth-params or nothing. */
  readonly token68: string | null;
  /** The auth-params, names lower-cased, values unquoted (empty for token68). */
  readonly params: Readonly<Record<string, string>>;
  /** Basic only: the decoded user-id. */
  readonly username?: string | undefined;
  /** Basic only: the decoded password (may contain `:`). */
  readonly password?: string | undefined;
  /** Bearer only: the access token (the same as `token68`). */
  readonly token?: string | undefined;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const CONTROL = /[\x00-\x1f\x7f]/;

/**
 * Parses an `Authorization` value.
 *
 * - Basic: the token68 must be base64 (padding optional) of `user-id ":" password`; the
 *   bytes are read as UTF-8 (RFC 7617 §2.1; a leading U+FEFF kept as part of the user-id, as
 *   Werkzeug keeps it, not dropped as a byte order mark: RFC 3629 §6), or ISO-8859-1 when they
 *   are not valid UTF-8 (what older browsers send); the password is everything after the first `:`. A missing
 *   `:` or a control character in either part → `null`.
 * - Bearer: the credentials must be one token68 → `token`; auth-params → `null`.
 * - Any other scheme: token68, auth-params, or nothing.
 *
 * @returns the parsed credentials, or `null` when absent or malformed.
 */
export function parseAuthorization(value: string | null | undefined): Authorization | null {
  if (typeof value !== 'string') return null;
  const c = new Cursor(value.trim());
  const scheme = c.token()?.toLowerCase();
  if (scheme === undefined) return null;
  if (c.done) return special({ scheme, token68: null, params: paramRecord() });
  if (!c.ows()) return null;
  const token68 = readToken68(c);
  if (token68 !== null) return c.done ? special({ scheme, token68, params: paramRecord() }) : null;
  const params = paramRecord();
  do {
    if (!readAuthParam(c, params)) return null;
    c.ows();
    if (c.done) break;
    if (!c.eat(',')) return null;
    c.skipEmptyElements();
  } while (!c.done);
  return special({ scheme, token68: null, params });
}

function special(auth: Authorization): Authorization | null {
  if (auth.scheme === 'bearer') return auth.token68 === null ? null : { ...auth, token: auth.token68 };
  if (auth.scheme !== 'basic') return auth;
  const encoded = auth.token68;
  if (encoded === null || !BASE64.test(encoded) || encoded.replace(/=+$/, '').length % 4 === 1) return null;
  const bytes = Buffer.from(encoded, 'base64');
  let text: string;
  try {
    // A leading U+FEFF is part of the user-id (`\uFEFFadmin` is not `admin`).
    text = decodeUtf8WithoutBom(bytes);
  } catch {
    text = bytes.toString('latin1');
  }
  const colon = text.indexOf(':');
  if (colon === -1 || CONTROL.test(text)) return null;
  return { ...auth, username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * Formats an `Authorization` value from a scheme and either a token68 or auth-params
 * (values quoted as in `formatChallenge`, except Digest's `qop` and `nc`, which stay tokens as
 * RFC 7616 §3.4 asks), or neither.
 *
 * @throws TypeError for a scheme that is not a token, an invalid token68, both token68 and
 *   params, or params that cannot be formatted (a name that is not a token or is given twice
 *   in any case, a value that is not a string, naming it, or that holds a control character).
 */
export function formatAuthorization(credentials: {
  scheme: string;
  token68?: string | null | undefined;
  params?: Readonly<Record<string, string>> | undefined;
}): string {
  return formatAuthValue(credentials.scheme, credentials.token68 ?? null, credentials.params ?? {}, CREDENTIALS_TOKEN_FORM);
}

/**
 * `Basic <base64(user-id:password)>` with UTF-8 (RFC 7617).
 *
 * @throws TypeError when `username` or `password` is not a string (`undefined`, `null` from
 *   JavaScript: `basicAuthorization: the password must be a string, got undefined`, where the
 *   text `undefined` would be sent), or `username` contains `:` or either part a control
 *   character.
 */
export function basicAuthorization(username: string, password: string): string {
  mustBeString(username, 'basicAuthorization: the username');
  mustBeString(password, 'basicAuthorization: the password');
  if (username.includes(':') || CONTROL.test(username) || CONTROL.test(password)) {
    throw new TypeError('Basic credentials: the user-id cannot contain ":" and neither part a control character');
  }
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/**
 * `Bearer <token>` (RFC 6750 §2.1).
 *
 * @throws TypeError when `token` is not a string (`undefined` from JavaScript, which sent a
 *   bare `Bearer`), naming it, or not token68 (b64token) syntax.
 */
export function bearerAuthorization(token: string): string {
  return formatAuthorization({ scheme: 'Bearer', token68: mustBeString(token, 'bearerAuthorization: the token') });
}
