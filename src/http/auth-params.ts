/**
 * The pieces `Authorization` and `WWW-Authenticate` share (RFC 9110 §11.2): token68 and
 * auth-param lists, read from a {@link Cursor} and written back. Internal: not part of the
 * public API.
 *
 * @module
 */
import { isToken } from '../gateway/fields.ts';
import { kindOf } from '../gateway/option-names.ts';
import { type Cursor, quoteString } from './syntax.ts';
import { addNameOnce } from './unique-names.ts';

/** token68 (RFC 9110 §11.2): base64-ish characters, then optional `=` padding. */
export const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

/**
 * Reads a token68 that fills the rest of a list element (followed by OWS and a comma or the
 * end, the comma left unread), or consumes nothing and answers `null`.
 */
export function readToken68(c: Cursor): string | null {
  const start = c.pos;
  while (!c.done && TOKEN68_CHAR.test(c.text[c.pos]!)) c.pos++;
  if (c.pos === start) return null;
  while (c.peek() === 0x3d) c.pos++;
  const end = c.pos;
  c.ows();
  if (c.done || c.peek() === 0x2c) return c.text.slice(start, end);
  c.pos = start;
  return null;
}

/** True when an auth-param (`token BWS "="`) starts at the cursor; consumes nothing. */
export function atAuthParam(c: Cursor): boolean {
  const start = c.pos;
  const name = c.token();
  c.ows();
  const yes = name !== null && c.peek() === 0x3d;
  c.pos = start;
  return yes;
}

/**
 * Reads one auth-param `name BWS "=" BWS ( token / quoted-string )` into `params` (name
 * lower-cased). Answers false, having consumed an unknown amount, when it is malformed or
 * its name is already there (RFC 9110 §11.2: each name occurs once).
 */
export function readAuthParam(c: Cursor, params: Record<string, string>): boolean {
  const name = c.token()?.toLowerCase();
  c.ows();
  if (name === undefined || !c.eat('=')) return false;
  c.ows();
  const value = c.tokenOrQuoted();
  if (value === null || Object.hasOwn(params, name)) return false;
  params[name] = value;
  return true;
}

/**
 * Parameter names a challenge sends as tokens when they are one: Digest's `algorithm` and
 * `stale` (RFC 7616 §3.3: a sender MUST NOT quote them; `qop`, a list there, it MUST quote).
 */
export const CHALLENGE_TOKEN_FORM: ReadonlySet<string> = new Set(['algorithm', 'stale']);

/**
 * Parameter names credentials send as tokens when they are one: Digest's `algorithm`, `qop`
 * and `nc` (RFC 7616 §3.4: a sender MUST NOT quote them), and `stale` as in a challenge.
 */
export const CREDENTIALS_TOKEN_FORM: ReadonlySet<string> = new Set([...CHALLENGE_TOKEN_FORM, 'qop', 'nc']);

/**
 * `value` when it is a string (credentials and parameters from JavaScript may be anything).
 *
 * @throws TypeError `<what> must be a string, got <value or its kind>` otherwise.
 */
export function mustBeString(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  throw new TypeError(`${what} must be a string, got ${typeof value === 'object' && value !== null ? kindOf(value) : String(value)}`);
}

/** The message for an auth-param name given twice, in any case (see {@link formatAuthParams}). */
const authParamTwice = (name: string) =>
  `auth-param ${JSON.stringify(name)} is given twice (names are case-insensitive, RFC 9110 §11.2)`;

/**
 * Formats auth-params as `name="value", …`: values are quoted-strings, except those named in
 * `tokenForm` (lower case) when they are tokens (Digest requires it: {@link CHALLENGE_TOKEN_FORM},
 * {@link CREDENTIALS_TOKEN_FORM}).
 *
 * @throws TypeError for a name that is not a token, a name given twice in any case
 *   (`realm` and `Realm`: RFC 9110 §11.2 lets each occur once, and a recipient, as
 *   `parseWwwAuthenticate`, reads the value as malformed), a value that is not a string (a
 *   Digest `nc: 1` from JavaScript: `auth-param "nc" must be a string, got 1`), or a value
 *   with control characters.
 */
export function formatAuthParams(params: Readonly<Record<string, string>>, tokenForm: ReadonlySet<string>): string {
  const names = new Set<string>();
  return Object.entries(params)
    .map(([name, given]: [string, unknown]) => {
      if (!isToken(name)) throw new TypeError(`invalid auth-param name ${JSON.stringify(name)}`);
      const lower = addNameOnce(names, name, authParamTwice);
      const value = mustBeString(given, `auth-param ${JSON.stringify(name)}`);
      const token = tokenForm.has(lower) && isToken(value);
      return `${name}=${token ? value : quoteString(value)}`;
    })
    .join(', ');
}

/**
 * Formats `scheme`, `scheme token68` or `scheme name="value", …` (the shape both
 * `Authorization` credentials and `WWW-Authenticate` challenges have), the params written
 * by {@link formatAuthParams} with `tokenForm`.
 *
 * @throws TypeError for a scheme that is not a token, an invalid token68, both token68 and
 *   params, or params {@link formatAuthParams} refuses.
 */
export function formatAuthValue(
  scheme: string,
  token68: string | null,
  params: Readonly<Record<string, string>>,
  tokenForm: ReadonlySet<string>,
): string {
  if (!isToken(scheme)) throw new TypeError(`invalid auth-scheme ${JSON.stringify(scheme)}`);
  const hasParams = Object.keys(params).length > 0;
  if (token68 !== null) {
    if (hasParams) throw new TypeError('credentials take a token68 or auth-params, not both');
    if (!TOKEN68.test(token68)) throw new TypeError(`invalid token68 ${JSON.stringify(token68)}`);
    return `${scheme} ${token68}`;
  }
  return hasParams ? `${scheme} ${formatAuthParams(params, tokenForm)}` : scheme;
}

/** A fresh parameter record without a prototype, so `__proto__` is an ordinary name. */
export function paramRecord(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}
