/**
 * Header field rules of the gateway interface: names are tokens, values field-value
 * characters (RFC 9110 §5), hop-by-hop fields are the server's business (RFC 9110 §7.6.1).
 *
 * @module
 */
import { shownValue } from './shown.ts';

/** Anything but HTAB, SP, VCHAR and obs-text (RFC 9110 §5.5 field-value); what Node refuses too. */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Longest value checked character by character; a longer one goes to a regular expression,
 * faster per character but slower to start. Measured on Node 24, a whole field check took
 * 20 ns by loop against 45 ns by expression for `X-Mw-1: 1`, and 850 ns by expression against
 * 2,200 ns by loop for a 1.3 KB value.
 */
const LOOP_CHECK_LIMIT = 64;

/** tchar (RFC 9110 §5.6.2), indexed by char code below 128. */
const TCHAR: readonly boolean[] = (() => {
  const table: boolean[] = new Array(128).fill(false);
  for (const c of "!#$%&'*+-.^_`|~") table[c.charCodeAt(0)] = true;
  for (let c = 0x30; c <= 0x39; c++) table[c] = true;
  for (let c = 0x41; c <= 0x5a; c++) table[c] = true;
  for (let c = 0x61; c <= 0x7a; c++) table[c] = true;
  return table;
})();

/** True when the char code is an RFC 9110 tchar. */
export function isTchar(code: number): boolean {
  return code < 128 && TCHAR[code] === true;
}

/**
 * True when `value` is a non-empty RFC 9110 §5.6.2 token, as a field name, a method or a
 * parameter name must be; false for anything that is not a string.
 */
export function isToken(value: string): boolean {
  if (typeof value !== 'string' || value.length === 0) return false;
  for (let i = 0; i < value.length; i++) if (!isTchar(value.charCodeAt(i))) return false;
  return true;
}

/** True when `value` holds field-value characters only (see {@link assertHeader}). */
export function isFieldValue(value: string): boolean {
  const length = value.length;
  if (length > LOOP_CHECK_LIMIT) return !BAD_VALUE.test(value);
  for (let i = 0; i < length; i++) if (!isFieldChar(value.charCodeAt(i))) return false;
  return true;
}

/**
 * True when the char code may appear in a field value (RFC 9110 §5.5): HTAB, SP, VCHAR and
 * obs-text; also what a quoted-string's qdtext and quoted-pair may hold (§5.6.4).
 */
export function isFieldChar(code: number): boolean {
  return code === 0x09 || (code >= 0x20 && code !== 0x7f && code <= 0xff);
}

/**
 * Checks one header field for the gateway rules: the name is a token (RFC 9110 §5.6.2) and the
 * value is made of field-value characters only (RFC 9110 §5.5): HTAB, SP, visible ASCII and
 * obs-text (U+0080–U+00FF, sent as one byte each). CR, LF, NUL, other control characters and
 * anything above U+00FF (`€`, emoji: percent- or RFC 8187-encode those) are refused, as Node's
 * `writeHead` refuses them.
 *
 * @throws TypeError naming the field when either rule is broken, with the value quoted; for
 *   a credential (`Set-Cookie`, `Cookie`, `Authorization`, `Proxy-Authorization`), whose value
 *   must not reach the error log, its length and the first character refused instead
 *   (`invalid value for header Set-Cookie (30 characters, not shown): U+000A at 29`).
 */
export function assertHeader(name: string, value: string): void {
  if (!isToken(name)) {
    throw new TypeError(`invalid header name: ${JSON.stringify(name)}`);
  }
  assertFieldValue(name, value);
}

/**
 * The value half of {@link assertHeader}, for a setter whose field name is known to be a token
 * (`req.host`, `req.accept`, the typed setters writing an environ's `HTTP_*` key): throws the
 * same `TypeError` for a value made of anything but field-value characters (RFC 9110 §5.5).
 * Cheap on the hot path: a loop for a short value, a regular expression for a long one.
 *
 * @param name - the field name, as the message names it (`Host`, `If-None-Match`).
 * @throws TypeError as {@link assertHeader} (`invalid value for header Host: "a\r\nb"`).
 */
export function assertFieldValue(name: string, value: string): void {
  if (typeof value !== 'string' || !isFieldValue(value)) {
    throw new TypeError(`invalid value for header ${name}${typeof value === 'string' && SECRET_FIELDS.has(name.toLowerCase()) ? ` ${withheld(value)}` : `: ${JSON.stringify(value)}`}`);
  }
}

/**
 * @internal A field value given as other than a string (`HeaderList`, `EnvironHeaders`): a
 * finite number in decimal, a bigint or a boolean as `String()` writes it (`10n` is `10`,
 * `true` is `true`), as fetch's `Headers` and Express's `res.set` take them.
 *
 * @throws TypeError naming the field for anything else (`undefined`, `null`, an object, a
 *   symbol, `NaN`, `Infinity`), which `String()` would send as `undefined`, `[object Object]`…
 */
export function fieldText(name: string, value: unknown): string {
  if (typeof value === 'number' ? Number.isFinite(value) : typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  throw new TypeError(`invalid value for header ${name}: ${shownValue(value)} (a string or a number)`);
}

/**
 * Fields whose value is a credential (a session id, a password): the error of an invalid one,
 * which goes to `tsgi.errors`, does not quote it.
 */
const SECRET_FIELDS: ReadonlySet<string> = new Set(['set-cookie', 'cookie', 'authorization', 'proxy-authorization']);

/** What is wrong with `value` without its text: `(30 characters, not shown): U+000A at 29`. */
function withheld(value: string): string {
  let at = 0;
  while (at < value.length && isFieldChar(value.charCodeAt(at))) at++;
  const code = value.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0');
  return `(${value.length} characters, not shown): U+${code} at ${at}`;
}

/**
 * True when two field names are the same name: equal ignoring ASCII case, as field names are
 * compared (RFC 9110 §5.1). Only A–Z fold, so a non-ASCII character never matches an ASCII
 * one (`toLowerCase` would fold the Kelvin sign U+212A into `k`); no lower-case copy is made.
 */
export function sameFieldName(a: string, b: string): boolean {
  if (a === b) return true;
  const length = a.length;
  if (length !== b.length) return false;
  // From the end: names that differ mostly differ there (`X-Mw-1`, `X-Mw-2`; `Content-Type`…).
  for (let i = length - 1; i >= 0; i--) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return false;
  }
  return true;
}

/**
 * Hop-by-hop header fields (RFC 9110 §7.6.1, and the RFC 2616 §13.5.1 list): they describe one
 * connection or hop, so they are never forwarded; the server drops them from an app's answer
 * (honouring `Connection: close`), all but `Proxy-Authenticate` ({@link CONNECTION_FIELDS}).
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The fields of an app's answer that the server drops (spec §5): the hop-by-hop ones but
 * `Proxy-Authenticate`, and `HTTP2-Settings`. `Proxy-Authenticate` describes no connection
 * (RFC 9110 §7.6.1 and RFC 9113 §8.2.2 do not list it) and a 407 must carry it (RFC 9110
 * §11.7.1): an app that answers 407 is the proxy asking for credentials. It applies to the
 * next client only, so a proxy still drops the one of an upstream answer ({@link HOP_BY_HOP}).
 * `HTTP2-Settings` is a request field of the `Upgrade: h2c` handshake, connection-specific
 * (RFC 7540 §3.2.1), meaningless in an answer, and one Node's HTTP/2 refuses to send.
 */
export const CONNECTION_FIELDS: ReadonlySet<string> = new Set([
  ...[...HOP_BY_HOP].filter((name) => name !== 'proxy-authenticate'),
  'http2-settings',
]);

/**
 * True for the one field of {@link CONNECTION_FIELDS} an app may send: `Upgrade` (`name` in
 * lower case) on a 426, which must carry it (RFC 9110 §15.5.22, §7.8). The Node server sends
 * it, with `Connection: upgrade`, on an HTTP/1.1 connection only: an HTTP/1.0 client cannot
 * upgrade and HTTP/2 has no such field (RFC 9113 §8.2.2). The test client keeps it; the fetch
 * adapters and `toFetch()` drop it, as the runtime owns the connection and its protocol.
 */
export function isRequiredUpgrade(name: string, code: number): boolean {
  return code === 426 && name === 'upgrade';
}

