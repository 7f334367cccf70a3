/**
 * `tsgi.signal` of a Node request: "this answer is no longer wanted". It aborts when the client
 * goes away before the response is complete, and when the server itself ends an answer still
 * being produced: an event stream it ends at its graceful shutdown, a connection it cuts at the
 * shutdown's timeout, a body it stops reading for its own reasons (a HEAD answered with the
 * GET's fields).
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Environ } from '../../gateway/types.ts';
import { clientDisconnected, serverShuttingDown } from '../../gateway/abort.ts';
import { wasCut } from '../../gateway/shutdown.ts';
import { abortRequestSignal, requestSignalController } from '../../gateway/signal-controller.ts';
import { lazyEnvironKey } from '../environ-rules.ts';
import { exchangeOf, isNodeResponse } from './exchange-key.ts';
import { closeEmitter, responseGone } from './http2-compat.ts';

/** `tsgi.signal`: created on first read, then kept; writable, as a plain property. */
export const SIGNAL_PROPERTY: PropertyDescriptor = lazyEnvironKey('tsgi.signal', (environ) => {
  const source = exchangeOf(environ) as IncomingMessage | ServerResponse;
  const res = isNodeResponse(source) ? source : undefined;
  // Aborted already when the server ended the answer before (abortRequestSignal).
  const controller = requestSignalController(environ);
  if (!controller.signal.aborted) {
    const req = (res === undefined ? source : res.req) as IncomingMessage;
    watchExchange(controller, req, res, environ['tsgi.shutdown_signal']);
  }
  return controller.signal;
});

/**
 * Aborts `controller` when the exchange ends before the response finished: with
 * `clientDisconnected()`, or `serverShuttingDown()` once the server cut its connections at the
 * end of the graceful shutdown of `shutdown` ({@link wasCut}).
 */
function watchExchange(
  controller: AbortController,
  req: IncomingMessage,
  res: ServerResponse | undefined,
  shutdown: AbortSignal | undefined,
): void {
  // On HTTP/2 the stream: a HEAD reset before its answer closes no response (see closeEmitter).
  const target = res === undefined ? req : closeEmitter(res);
  // `writableEnded` too: Node's HTTP/2 response reports itself finished when its stream is
  // reset, though the answer never ended (an upload the client cancelled).
  const gone = () => !(res ? res.writableEnded && res.writableFinished : req.complete);
  const abort = () => {
    if (!gone()) return;
    const cut = shutdown !== undefined && wasCut(shutdown);
    controller.abort(cut ? serverShuttingDown() : clientDisconnected());
  };
  // `req.socket` is null once an app has destroyed the request stream.
  const ended = res === undefined ? req.destroyed : responseGone(res);
  if (ended || (req.socket as Socket | null)?.destroyed) abort();
  else target.once('close', abort);
}

/**
 * The `tsgi.signal` of an upgrade's environ (`serve()`'s `upgrade` handler), which has no
 * response to watch: aborted once `socket`, its connection, closes, made or not yet. The
 * reason is `serverShuttingDown()` when the graceful shutdown of `shutdown` cut it at its
 * timeout ({@link wasCut}), else `clientDisconnected()` (the client left, or the connection was
 * ended), so a lookup the handler awaits on it stops when nobody waits for the answer.
 */
export function abortAtUpgradeClose(environ: Environ, socket: Duplex, shutdown: AbortSignal): void {
  socket.once('close', () => abortRequestSignal(environ, wasCut(shutdown) ? serverShuttingDown() : clientDisconnected()));
}
