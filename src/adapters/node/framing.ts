/**
 * Request framing the app must never see (RFC 9112 §6.1): transfer codings Node's parser lets
 * through although they leave the body undecodable or the message boundaries in doubt.
 *
 * @module
 */
import type { Environ } from '../../gateway/types.ts';
import type { HTTPException } from '../../exceptions/base.ts';
import { HTTPBadRequest } from '../../exceptions/client-errors.ts';
import { HTTPNotImplemented } from '../../exceptions/server-errors.ts';
import { transferEncodingRefusal } from '../../http/request-framing.ts';

/**
 * The answer to a request with faulty framing, or `null` when it is fine
 * ({@link transferEncodingRefusal}: `Transfer-Encoding` on an HTTP/1.0 request is a **400**, a
 * transfer coding other than `chunked` a **501**). Read from the environ
 * (`HTTP_TRANSFER_ENCODING`, `SERVER_PROTOCOL`), not from Node's `req.headers`, which Node
 * builds only when asked. Both answers close the connection (the caller's `plainAnswer` does).
 */
export function framingError(environ: Environ): HTTPException | null {
  const refusal = transferEncodingRefusal(environ.HTTP_TRANSFER_ENCODING, environ.SERVER_PROTOCOL);
  if (refusal === null) return null;
  return refusal.code === 501 ? new HTTPNotImplemented(refusal.detail) : new HTTPBadRequest(refusal.detail);
}
