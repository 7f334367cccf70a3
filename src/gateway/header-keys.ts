/**
 * The CGI naming of request header fields as environ keys (RFC 3875 §4.1.18): `Content-Type`
 * is `CONTENT_TYPE`, `X-Real-Ip` is `HTTP_X_REAL_IP`, and back; how a repeated field is joined
 * under one key.
 *
 * @module
 */

/**
 * The environ key of a request header name: `Content-Type` → `CONTENT_TYPE`,
 * `Content-Length` → `CONTENT_LENGTH`, anything else `HTTP_` + upper case with `-` as `_`
 * (CGI, RFC 3875 §4.1.18). The inverse of {@link headerName}. (Not to be confused with the
 * typed extension keys of `defineEnvironKey`.)
 */
export function headerEnvironKey(name: string): string {
  const upper = name.toUpperCase().replaceAll('-', '_');
  return upper === 'CONTENT_TYPE' || upper === 'CONTENT_LENGTH' ? upper : `HTTP_${upper}`;
}

/**
 * Joins the value of a repeated request header onto the one already stored under environ key
 * `key`: with `; ` for `HTTP_COOKIE` (RFC 6265 §5.4: one Cookie field), with `, ` for every other
 * field (RFC 9110 §5.3). Host must never be joined: callers refuse or replace a repeated Host.
 */
export function joinFieldValues(key: string, existing: string, value: string): string {
  return existing + (key === 'HTTP_COOKIE' ? '; ' : ', ') + value;
}

/**
 * The header name of an environ key (`HTTP_X_REAL_IP` → `X-Real-Ip`), or `null` for other keys:
 * the inverse of {@link headerEnvironKey}.
 */
export function headerName(key: string): string | null {
  let base: string;
  if (key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') base = key;
  else if (key.startsWith('HTTP_')) base = key.slice(5);
  else return null;
  return base
    .toLowerCase()
    .split('_')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('-');
}
