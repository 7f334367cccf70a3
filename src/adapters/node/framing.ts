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

/**
 * The answer to a request with faulty framing, or `null` when it is fine:
 * - `Transfer-Encoding` on an HTTP/1.0 request: **400**, as nginx answers; RFC 9112 §6.1 asks
 *   to treat it as faulty framing (a 1.0 intermediary could not have framed it) and close.
 * - a transfer coding other than `chunked` (`gzip, chunked`): **501**, as RFC 9112 §6.1 and
 *   nginx say for a coding the server does not understand; the app would read still-encoded
 *   bytes as the body.
 * Read from the environ (`HTTP_TRANSFER_ENCODING`, `SERVER_PROTOCOL`), not from Node's
 * `req.headers`, which Node builds only when asked. Both answers close the connection (the
 * caller's `plainAnswer` does).
 */
export function framingError(environ: Environ): HTTPException | null {
  const field = environ.HTTP_TRANSFER_ENCODING;
  if (typeof field !== 'string') return null;
  if (environ.SERVER_PROTOCOL === 'HTTP/1.0') {
    return new HTTPBadRequest('Transfer-Encoding in an HTTP/1.0 request');
  }
  const codings = field.split(',').map((coding) => coding.trim().toLowerCase());
  const other = codings.find((coding) => coding !== 'chunked' && coding !== '');
  if (other !== undefined) return new HTTPNotImplemented(`the transfer coding ${JSON.stringify(other)} is not supported`);
  return null;
}
