/**
 * Request fields that are no list (RFC 9110 §5.3): a sender MUST NOT send one on several
 * field lines, and lines joined with `, ` would change what it means (`Authorization: Basic
 * a, Basic b`, `Content-Type: text/plain, text/html`, two `Range`s or dates). The servers
 * answer such a request `400 Bad Request` before the app sees it. nginx answers the same for
 * Host, Authorization, Content-Length, If-Range and the dates
 * (`ngx_http_process_unique_header_line`: "client sent duplicate header line"), but keeps a
 * second Content-Type or Range line and has no rule for Proxy-Authorization: those three are
 * refused on RFC 9110 §5.3 alone.
 *
 * @module
 */

/**
 * The environ key of each such field, and its name for the reason of the 400 (`several
 * Authorization headers`): Host (RFC 9112 §3.2), the credentials (RFC 9110 §11.6.2, §11.7.2),
 * the fields that frame or type the body (§8.3, §8.6), and the preconditions and `Range`
 * whose value is one date, one entity tag or one ranges-specifier (§13.1.3, §13.1.4, §13.1.5,
 * §14.2). `If-Match` and `If-None-Match` are lists of entity tags (§13.1.1, §13.1.2), whose
 * lines join without loss, and are not here (nginx refuses them too).
 */
export const SINGLETON_FIELDS: ReadonlyMap<string, string> = new Map([
  ['HTTP_HOST', 'Host'],
  ['HTTP_AUTHORIZATION', 'Authorization'],
  ['HTTP_PROXY_AUTHORIZATION', 'Proxy-Authorization'],
  ['CONTENT_TYPE', 'Content-Type'],
  ['CONTENT_LENGTH', 'Content-Length'],
  ['HTTP_RANGE', 'Range'],
  ['HTTP_IF_RANGE', 'If-Range'],
  ['HTTP_IF_MODIFIED_SINCE', 'If-Modified-Since'],
  ['HTTP_IF_UNMODIFIED_SINCE', 'If-Unmodified-Since'],
]);

/**
 * The reason for two `Content-Length` lines, even of one value: Node's HTTP/1 parser refuses
 * them itself (`HPE_UNEXPECTED_CONTENT_LENGTH`), which the server answers with these words
 * (client-error.ts); RFC 9110 §8.6 lets a recipient refuse them, and nginx does.
 */
export const DUPLICATE_CONTENT_LENGTH = 'duplicate Content-Length';

/**
 * The reason for refusing a second line of the field under environ key `key` (`several
 * Authorization headers`; {@link DUPLICATE_CONTENT_LENGTH} for `Content-Length`, as the
 * server words it), or `null` when the field is a list, whose lines join.
 */
export function repeatedFieldRefusal(key: string): string | null {
  if (key === 'CONTENT_LENGTH') return DUPLICATE_CONTENT_LENGTH;
  const name = SINGLETON_FIELDS.get(key);
  return name === undefined ? null : `several ${name} headers`;
}
