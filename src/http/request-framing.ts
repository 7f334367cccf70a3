/**
 * Request framing a server refuses before the app (RFC 9112 §6.1, §6.3): the words `serve()`
 * answers it with, shared with the `TestClient`, which answers the same requests the same way.
 * Internal: not part of the public API.
 *
 * @module
 */
import { codingsOf } from './codings.ts';

/** Why a request's framing is refused: the status code, and the detail after its title. */
export interface FramingRefusal {
  /** 400 for framing in doubt, 501 for a transfer coding the server cannot decode. */
  code: 400 | 501;
  /** The text after `Bad Request: ` or `Not Implemented: ` (`serve()`'s plain answer). */
  detail: string;
}

/**
 * The detail of the 400 for a request carrying both `Content-Length` and `Transfer-Encoding`
 * (RFC 9112 §6.1: the pair of a request-smuggling attempt), as `serve()` words Node's parser's
 * refusal of it.
 */
export const BOTH_FRAMINGS = 'Content-Length together with Transfer-Encoding';

/**
 * The refusal of a request's `Transfer-Encoding` field value (`field`: none unless a string) that
 * Node's parser lets through, or `null` when it is fine:
 * - on an HTTP/1.0 request (`protocol`): **400**, as nginx answers; RFC 9112 §6.1 asks to treat
 *   it as faulty framing (a 1.0 intermediary could not have framed it) and close;
 * - a transfer coding other than `chunked` (`gzip, chunked`): **501**, as RFC 9112 §6.1 and
 *   nginx say for a coding the server does not understand; the app would read still-encoded
 *   bytes as the body.
 */
export function transferEncodingRefusal(field: unknown, protocol: unknown): FramingRefusal | null {
  if (typeof field !== 'string') return null;
  if (protocol === 'HTTP/1.0') return { code: 400, detail: 'Transfer-Encoding in an HTTP/1.0 request' };
  const other = codingsOf(field, 'chunked')[0];
  if (other !== undefined) return { code: 501, detail: `the transfer coding ${JSON.stringify(other)} is not supported` };
  return null;
}
