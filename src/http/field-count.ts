/**
 * How many header fields a request may carry before the server refuses it `431 Request Header
 * Fields Too Large` (RFC 6585 §5), and the words of that refusal: one rule for `serve()`,
 * `toNodeHandler`, `toFetchHandler` and the `TestClient`, which answers as `serve()` does.
 *
 * @module
 */

/** The default number of header fields a request may carry (gunicorn's `limit_request_fields`). */
export const DEFAULT_MAX_HEADERS = 100;

/**
 * Why a request of `count` header fields is refused under a limit of `max` (`more than 100
 * header fields`, the detail after `Request Header Fields Too Large: `), or null when it is within.
 */
export function fieldCountRefusal(count: number, max: number): string | null {
  return count > max ? `more than ${max} header fields` : null;
}
