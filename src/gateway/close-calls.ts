/**
 * Work run once a response has been sent (Werkzeug's `Response.call_on_close`, PEP 3333's
 * `close()` run after the last byte): {@link withCloseCalls} wraps a body so its calls start
 * after the server wrote its end (or the body failed, or the client left), each failure logged
 * to `tsgi.errors`, and hands the work to the server's `tsgi.wait_until` so a graceful shutdown
 * waits for it.
 *
 * @module
 */
import type { Body, Environ, LogStream } from './types.ts';
import { wrapBody } from './body-watch.ts';
import { logRequestError } from './log.ts';
import { closeErrorLogger } from './call-app.ts';

/** A function run once the response is sent; what it returns is awaited before the next one. */
export type CloseCall = () => unknown;

/**
 * The calls a response holds: the functions in order, and whether the response has been
 * served, or handed on as a copy, since the last one was added (else the end of the request
 * runs them, see `closeInnerResponses`).
 */
export interface CloseCalls {
  readonly fns: CloseCall[];
  served: boolean;
}

/**
 * Wraps `body` so `calls` run, in order, once it is done: it ended (the server has then written
 * the last chunk; the calls start on a later turn of the event loop, after that write), failed,
 * or was closed early (`return()`: the client left; the calls start once the body's own
 * `return()` has settled, so its `finally` has run). Each call's promise is
 * awaited before the next one starts; what one throws or rejects with is logged to
 * `environ['tsgi.errors']` with the request line, `(callOnClose)` and, under `requestId`, the
 * request's id (`… (callOnClose) request_id=9b2e…: Error: …`), and the next still runs.
 * The whole run is handed to `environ['tsgi.wait_until']` when the server provides it.
 * The body keeps its kind (a sync body stays sync) and its errors reach the consumer unchanged;
 * what its `return()` throws when closed early is logged to `environ['tsgi.errors']`, as the
 * server logs it for a bare body (`closeErrorLogger`: not an abort, the body stopping as asked).
 */
export function withCloseCalls(body: Body, calls: readonly CloseCall[], environ: Environ): Body {
  if (calls.length === 0) return body;
  const start = () => void runCloseCalls([...calls], environ);
  // Closed early: once the body's own `return()` has settled (its `finally` has run).
  return wrapBody(body, { end: start, close: (returned) => void returned.then(start), error: start, closeError: closeErrorLogger(environ) });
}

/** The environ key holding the close calls running for the request (a promise that never rejects). */
const RUNNING_KEY = 'tsgi.close_calls_running';

/**
 * The close calls of the request on `environ` started and not yet done (a promise that never
 * rejects), or `undefined`: what the end of the request (its uploads' removal) waits for.
 */
export function closeCallsRunning(environ: Environ): Promise<void> | undefined {
  return environ[RUNNING_KEY] as Promise<void> | undefined;
}

/**
 * Runs `calls` after the current turn (see {@link withCloseCalls}), as the work of the request
 * on `environ` (handed to its `tsgi.wait_until`; the uploads stay until it is done); never rejects.
 */
export function runCloseCalls(calls: CloseCall[], environ: Environ): Promise<void> {
  const log = environ['tsgi.errors'] as LogStream | undefined;
  const work = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(async () => {
    for (const call of calls) {
      try {
        await call();
      } catch (error) {
        logRequestError(log, environ, ' (callOnClose)', error);
      }
    }
  });
  const running = closeCallsRunning(environ);
  environ[RUNNING_KEY] = running === undefined ? work : Promise.all([running, work]).then(() => undefined);
  handOver(environ, work);
  return work;
}

/** Hands `work` to the server's `tsgi.wait_until`, when it provides one. */
export function handOver(environ: Environ, work: Promise<unknown>): void {
  const waitUntil = environ['tsgi.wait_until'];
  if (typeof waitUntil === 'function') (waitUntil as (promise: Promise<unknown>) => void)(work);
}
