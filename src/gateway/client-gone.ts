/**
 * Telling a layer that the client went away before the app it awaits answered
 * ({@link watchClientGone}): `accessLog` then writes, at that moment, the `499` line of an app
 * that neither settles nor heeds `tsgi.signal` (nginx logs its 499 when the client closes). A
 * server that notices a client gone anyway (the Node adapter, through the `close` of the
 * connection or the HTTP/2 stream it already listens to; `toFetchHandler`, through the
 * request's `signal`) tells the layers waiting on the
 * request's {@link HeadWait} ({@link tellClientGone}); under any other server, a graceful
 * shutdown that cuts the request is watched instead (its `tsgi.signal` once the shutdown began).
 *
 * @module
 */
import type { Environ } from './types.ts';
import type { HeadWait } from './server-status.ts';
import { logRequestError } from './log.ts';
import { shutdownWatchFor } from './shutdown.ts';

const NOTHING = (): void => undefined;

/**
 * Calls `then` once, if the client of `environ` goes away before {@link unwatchClientGone} is
 * called with the same `then`; a layer calls that once the app it awaits has settled.
 *
 * Under a server that tells of a client gone (its `tsgi.head_settled` wait has a `gone` slot:
 * the Node adapter, `serve()` and `toNodeHandler`, and `toFetchHandler`), `then` is called
 * when the server notices it: the client closed the connection or reset the HTTP/2 stream, or
 * the server cut it (a graceful shutdown's timeout); under `toFetchHandler`, the request's
 * `signal` aborted (the runtime's doing: Bun, Deno, `@hono/node-server`; never on workerd); at
 * once when it already had. The watch costs the request no
 * listener and no allocation (one watch is kept in that slot as it is, more in an array); the
 * first one has the server start noticing (`watchingGone`): `serve()` hears every connection's
 * and stream's `close` anyway, and notes the request on its connection; elsewhere (TLS,
 * `toNodeHandler`) one listener per connection is added, shared by its requests;
 * `toFetchHandler` adds its wait itself as the `abort` listener of the request's signal.
 *
 * Under another server (the `TestClient`), only a graceful shutdown's cut is
 * seen: once `environ['tsgi.shutdown_signal']` aborted, `then` is called when `tsgi.signal`
 * aborts (the shutdown cut the request, or the client went away meanwhile). Until the shutdown
 * begins, `tsgi.signal` is not read (which would create it for every request); nothing happens
 * without a `tsgi.shutdown_signal`.
 */
export function watchClientGone(environ: Environ, then: () => void): void {
  const wait = environ['tsgi.head_settled'] as HeadWait | undefined;
  const gone = wait?.gone;
  if (gone === undefined) {
    const stop = watchShutdownCut(environ, then);
    if (stop !== NOTHING) cuts.set(then, stop);
  } else if (gone === null) then();
  else if (gone === false) {
    // One watch (one accessLog) is kept as it is: no array for it.
    wait!.gone = then;
    wait!.watchingGone?.();
  } else if (typeof gone === 'function') wait!.gone = [gone, then];
  else gone.push(then);
}

/** Ends the watch {@link watchClientGone} set with `then` on `environ`; harmless when called again. */
export function unwatchClientGone(environ: Environ, then: () => void): void {
  const wait = environ['tsgi.head_settled'] as HeadWait | undefined;
  const gone = wait?.gone;
  if (gone === then) {
    wait!.gone = false;
    return;
  }
  if (Array.isArray(gone)) {
    const at = gone.lastIndexOf(then);
    if (at !== -1) {
      gone.splice(at, 1);
      return;
    }
  }
  const stop = cuts.get(then);
  if (stop === undefined) return;
  cuts.delete(then);
  stop();
}

/** The shutdown-cut watches under a server that does not tell (see {@link watchShutdownCut}), by their `then`. */
const cuts = new WeakMap<() => void, () => void>();

/**
 * Called by a server whose {@link HeadWait} has a `gone` slot (see {@link watchClientGone})
 * when the client of `environ` went away (or the server cut its connection) while the app
 * had not answered: calls the watches, once, in order, and marks the slot (`null`: a watch set
 * afterwards is called at once). Nothing happens once the head was settled (the server clears
 * `tsgi.head_settled` then), so a server may call it at every close. The watches run in the
 * request's async context when the server keeps it (`HeadWait.tellingGone`: the Node adapter, `toFetchHandler`),
 * so a line `accessLog` writes then sees the request's `AsyncLocalStorage` store (OpenTelemetry's
 * span). An error a watch throws
 * is logged to `tsgi.errors` with the request line, and the others still run. Harmless
 * without such a wait, and when called again.
 */
export function tellClientGone(environ: Environ | undefined): void {
  const wait = environ?.['tsgi.head_settled'] as HeadWait | undefined;
  const gone = wait?.gone;
  if (gone === undefined || gone === null) return;
  wait!.gone = null;
  if (gone === false) return;
  const tell = () => {
    if (typeof gone === 'function') callWatch(environ!, gone);
    else for (const then of gone) callWatch(environ!, then);
  };
  if (wait!.tellingGone === undefined) tell();
  else wait!.tellingGone(tell);
}

/** Calls `then`; what it throws is logged to `tsgi.errors` with the request line. */
function callWatch(environ: Environ, then: () => void): void {
  try {
    then();
  } catch (error) {
    logRequestError(environ['tsgi.errors'], environ, '', error);
  }
}

/**
 * {@link watchClientGone} under a server that does not tell of a client gone: `then` once the
 * graceful shutdown (`tsgi.shutdown_signal`) began and `tsgi.signal` then aborted. The watch is
 * the signal's {@link ShutdownWatch} (one listener on the signal for all requests, a `Set`
 * entry each).
 */
function watchShutdownCut(environ: Environ, then: () => void): () => void {
  const shutdown = environ['tsgi.shutdown_signal'];
  if (!(shutdown instanceof AbortSignal)) return NOTHING;
  let stop = NOTHING;
  const forget = shutdownWatchFor(shutdown).watch(() => {
    stop = whenSignalAborts(environ, then);
  });
  return () => {
    forget();
    stop();
    stop = NOTHING;
  };
}

/** Calls `then` once `environ['tsgi.signal']` aborts (at once when it has); answers the function that stops waiting. */
function whenSignalAborts(environ: Environ, then: () => void): () => void {
  const signal = environ['tsgi.signal'] as AbortSignal | undefined;
  if (!(signal instanceof AbortSignal)) return NOTHING;
  if (signal.aborted) {
    then();
    return NOTHING;
  }
  signal.addEventListener('abort', then, { once: true });
  return () => signal.removeEventListener('abort', then);
}
