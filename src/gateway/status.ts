/**
 * Status lines (RFC 9112 §4): parsing `"404 Not Found"`, and the statuses that carry no content.
 *
 * @module
 */

/**
 * @internal nginx's `499` ("client closed request"): the status the access logs (`accessLog`,
 * the upgrades' lines of `tsgi serve`) give a request whose client went away before it was
 * answered, and the one `proxy` starts for it. No client ever receives it.
 */
export const CLIENT_CLOSED = 499;

/** A parsed status line. */
export interface ParsedStatus {
  /** The status code, 100–999. */
  code: number;
  /** The reason phrase (may be empty). */
  reason: string;
}

/**
 * Parses `"404 Not Found"` into `{ code: 404, reason: 'Not Found' }`.
 *
 * @throws TypeError when the status is not three digits optionally followed by a space and a
 *   reason phrase free of control characters (RFC 9112 §4 `status-line`).
 */
export function parseStatus(status: string): ParsedStatus {
  if (typeof status === 'string' && status.length >= 3) {
    const a = status.charCodeAt(0) - 48;
    const b = status.charCodeAt(1) - 48;
    const c = status.charCodeAt(2) - 48;
    if (a >= 1 && a <= 9 && b >= 0 && b <= 9 && c >= 0 && c <= 9) {
      if (status.length === 3) return { code: a * 100 + b * 10 + c, reason: '' };
      if (status.charCodeAt(3) === 32) {
        const reason = status.slice(4);
        if (isReasonPhrase(reason)) return { code: a * 100 + b * 10 + c, reason };
      }
    }
  }
  throw new TypeError(`invalid status line: ${JSON.stringify(status)}`);
}

/** Not allowed in a reason phrase (RFC 9112 §4: HTAB, SP, VCHAR, obs-text): controls, and anything past U+00FF. */
const CONTROL_CHARS = /[\x00-\x08\x0a-\x1f\x7f\u0100-\uffff]/;

/**
 * True for a reason phrase a status line can carry (RFC 9112 §4: HTAB, SP, VCHAR, obs-text):
 * no control character, nothing past U+00FF. The empty phrase is one.
 */
export function isReasonPhrase(reason: string): boolean {
  return !CONTROL_CHARS.test(reason);
}

/**
 * True for the statuses whose responses never carry content: 1xx, 204 No Content and 304 Not
 * Modified (RFC 9110 §6.4.1). Their body is empty whatever the app gives, and a
 * `Content-Length` computed from that empty body would be wrong.
 */
export function isBodilessStatus(code: number): boolean {
  return code < 200 || code === 204 || code === 304;
}

/**
 * True for the statuses whose responses never carry `Content-Length`: 1xx and 204 No Content
 * (RFC 9110 §8.6). Of the other {@link isBodilessStatus} ones, a 304 may carry one: the length
 * of the representation it stands for.
 */
export function forbidsContentLength(code: number): boolean {
  return code < 200 || code === 204;
}

/**
 * True for the statuses whose answers must carry no content: {@link isBodilessStatus}'s, and
 * 205 Reset Content (RFC 9110 §15.3.6), which unlike them still frames its empty content
 * (`Content-Length: 0`).
 */
export function hasNoContent(code: number): boolean {
  return isBodilessStatus(code) || code === 205;
}

