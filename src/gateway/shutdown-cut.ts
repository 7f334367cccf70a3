/**
 * Telling a layer that the server's graceful shutdown cut a request whose app had not answered
 * yet ({@link watchShutdownCut}): `accessLog` then writes the line such a request would
 * otherwise never get, from an app that neither settles nor heeds `tsgi.signal`.
 *
 * @module
 */
import type { Environ } from './types.ts';

const NOTHING = (): void => undefined;

/**
 * The watches waiting on each server's `tsgi.shutdown_signal`: one listener on the signal for
 * all of them, so that a watch costs a request a `Set` entry, not a listener of its own.
 */
const waiting = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `then` once, if the server's graceful shutdown (`environ['tsgi.shutdown_signal']`)
 * begins and then the request's `tsgi.signal` aborts (the shutdown cut its connection at its
 * timeout, or the client went away meanwhile) before the returned function is called. A layer
 * calls that function once the app it awaits has settled. Nothing happens without a
 * `tsgi.shutdown_signal`, nor without a `tsgi.signal` once the shutdown has begun. Until the
 * shutdown begins, `tsgi.signal` is not read (which would create it for every request).
 *
 * @returns the function that ends the watch (harmless when called again).
 */
export function watchShutdownCut(environ: Environ, then: () => void): () => void {
  const shutdown = environ['tsgi.shutdown_signal'];
  if (!(shutdown instanceof AbortSignal)) return NOTHING;
  if (shutdown.aborted) return whenClientGone(environ, then);
  let watches = waiting.get(shutdown);
  if (watches === undefined) {
    const all = new Set<() => void>();
    watches = all;
    waiting.set(shutdown, all);
    shutdown.addEventListener(
      'abort',
      () => {
        for (const begin of [...all]) begin();
        all.clear();
      },
      { once: true },
    );
  }
  let stop = NOTHING;
  const begin = () => {
    stop = whenClientGone(environ, then);
  };
  watches.add(begin);
  return () => {
    watches.delete(begin);
    stop();
    stop = NOTHING;
  };
}

/** Calls `then` once `environ['tsgi.signal']` aborts (at once when it has); answers the function that stops waiting. */
function whenClientGone(environ: Environ, then: () => void): () => void {
  const signal = environ['tsgi.signal'] as AbortSignal | undefined;
  if (!(signal instanceof AbortSignal)) return NOTHING;
  if (signal.aborted) {
    then();
    return NOTHING;
  }
  signal.addEventListener('abort', then, { once: true });
  return () => signal.removeEventListener('abort', then);
}
