/**
 * The codings a `Content-Encoding` (RFC 9110 §8.4) or `Transfer-Encoding` (RFC 9112 §6.1) field
 * lists, as the readers of either compare them. Internal: not part of the public API.
 *
 * @module
 */

/**
 * The elements of the comma-separated coding list `field` (RFC 9110 §5.6.1), each trimmed of
 * whitespace and lower-cased (coding names are case-insensitive, RFC 9110 §8.4.1), in the
 * field's order; empty elements (`gzip, , br`, a trailing comma, an empty field) are dropped,
 * as is every element equal to `ignored` when given (`identity`, no coding; `chunked`).
 * An element keeps any parameters (`gzip;q=1` stays whole): the caller judges them.
 *
 * One array (the split's own, filled in place): a reader on the request path pays no more than
 * `String#split`.
 */
export function codingsOf(field: string, ignored?: string): string[] {
  const codings = field.split(',');
  let kept = 0;
  for (let i = 0; i < codings.length; i++) {
    const coding = codings[i]!.trim().toLowerCase();
    if (coding !== '' && coding !== ignored) codings[kept++] = coding;
  }
  codings.length = kept;
  return codings;
}
