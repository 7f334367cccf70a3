/**
 * Header field rules of the gateway interface: names are tokens, values field-value
 * characters (RFC 9110 §5), hop-by-hop fields are the server's business (RFC 9110 §7.6.1).
 *
 * @module
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Anything but HTAB, SP, VCHAR and obs-text (RFC 9110 §5.5 field-value); what Node refuses too. */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** Field names already found valid: an app sets the same few on every response. */
const VALID_NAMES = new Set<string>();

/** True when `name` is an RFC 9110 §5.6.2 token, as a field name must be. */
export function isToken(name: string): boolean {
  return TOKEN.test(name);
}

/**
 * Checks one header field for the gateway rules: the name is a token (RFC 9110 §5.6.2) and the
 * value is made of field-value characters only (RFC 9110 §5.5): HTAB, SP, visible ASCII and
 * obs-text (U+0080–U+00FF, sent as one byte each). CR, LF, NUL, other control characters and
 * anything above U+00FF (`€`, emoji: percent- or RFC 8187-encode those) are refused, as Node's
 * `writeHead` refuses them.
 *
 * @throws TypeError naming the field when either rule is broken.
 */
export function assertHeader(name: string, value: string): void {
  if (!VALID_NAMES.has(name)) {
    if (typeof name !== 'string' || !TOKEN.test(name)) {
      throw new TypeError(`invalid header name: ${JSON.stringify(name)}`);
    }
    if (VALID_NAMES.size < 512) VALID_NAMES.add(name);
  }
  if (typeof value !== 'string' || BAD_VALUE.test(value)) {
    throw new TypeError(`invalid value for header ${name}: ${JSON.stringify(value)}`);
  }
}

/**
 * Hop-by-hop header fields (RFC 9110 §7.6.1): they describe one connection, so apps must not
 * send them; the server drops them (honouring `Connection: close`).
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

