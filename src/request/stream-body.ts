/**
 * Setting a response body while keeping the `Content-Length` declared for it, for
 * `Request.getResponse` (see `call.ts`, `application.ts`).
 *
 * @module
 */
import type { Body } from '../gateway/types.ts';
import type { Response } from '../response/response.ts';
import { bytesOnly } from '../response/text-chunks.ts';

/**
 * Sets `res.body` to `body` and puts back the `Content-Length` declared: the setter removes
 * the header for a streamed body (its length is unknown) and computes it for bytes, but an
 * app's own `Content-Length` is kept as sent (a HEAD answer declares the length of a body it
 * does not send; a wrapped stream still has the length of the stream it wraps). A stream is a
 * gateway body, bytes only (an app's answer, a wrapper of a response's body): set as it is,
 * without the encoding of string chunks the public setter adds (a raw app yielding strings
 * stays a 500).
 *
 * @param declared - the length to keep, as header text; default the response's
 *   `Content-Length` before the body is set. `null` keeps what the setter gives.
 * @throws as the `body` setter (TypeError for a value that is no body).
 */
export function setBodyKeepingLength(
  res: Response,
  body: Uint8Array | Body,
  declared: string | null = res.headers.get('content-length'),
): void {
  res.body = body instanceof Uint8Array ? body : bytesOnly(body);
  if (declared !== null) res.headers.set('Content-Length', declared);
}
