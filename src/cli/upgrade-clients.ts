/**
 * The client's address of each `--upgrade` request, as `--proxy-headers` gave it to the
 * handler (`context.environ.REMOTE_ADDR`), for the access log line of a refusal `serve()`
 * answers for the handler (an `HTTPException` it throws, or the forwarded host's `400`):
 * `onRefused`'s `remoteAddress` is the peer's (the proxy's), where the `101`'s line shows the
 * client's. Kept by the request's header object, which is `RefusedRequest.headers`, and
 * forgotten with it.
 *
 * @module
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Environ } from '../gateway/types.ts';
import type { RefusedRequest } from '../adapters/node/refused.ts';

const clients = new WeakMap<IncomingHttpHeaders, string>();

/** Notes `environ.REMOTE_ADDR` (when a non-empty string) as the client's address of `req`. */
export function noteClient(req: IncomingMessage, environ: Environ): void {
  const address = environ.REMOTE_ADDR;
  if (typeof address === 'string' && address !== '') clients.set(req.headers, address);
}

/** The client's address noted for `refused`'s request, else its `remoteAddress` (the peer's). */
export function clientAddress(refused: RefusedRequest): string | undefined {
  return (refused.headers === undefined ? undefined : clients.get(refused.headers)) ?? refused.remoteAddress;
}
