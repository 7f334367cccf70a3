/**
 * Setting a response body while keeping the `Content-Length` declared for it, for
 * `Request.getResponse` (see `call.ts`, `application.ts`).
 *
 * @module
 */
import type { Response, ResponseBody } from '../response/response.ts';

/**
 * Sets `res.body` to `body` and puts back the `Content-Length` declared: the setter removes
 * the header for a streamed body (its length is unknown) and computes it for bytes, but an
 * app's own `Content-Length` is kept as sent (a HEAD answer declares the length of a body it
 * does not send; a wrapped stream still has the length of the stream it wraps).
 *
 * @param declared - the length to keep, as header text; default the response's
 *   `Content-Length` before the body is set. `null` keeps what the setter gives.
 * @throws as the `body` setter (TypeError for a value that is no body).
 */
export function setBodyKeepingLength(
  res: Response,
  body: ResponseBody,
  declared: string | null = res.headers.get('content-length'),
): void {
  res.body = body;
  if (declared !== null) res.headers.set('Content-Length', declared);
}
