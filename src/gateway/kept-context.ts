/**
 * Running work a server does late, from its own code, in the async context where a layer left
 * it ({@link keptContext}): `toFetchHandler` and the `TestClient`. The Node adapter keeps a
 * request's context with an `AsyncResource`; the fetch runtimes (Bun, Deno, workerd) are served
 * without `node:async_hooks`, but every one of them carries an `AsyncLocalStorage` store
 * (OpenTelemetry's context) into the callback of a promise from where `then()` was called, as
 * Node does.
 *
 * @module
 */
import type { Environ } from './types.ts';
import { logRequestError } from './log.ts';

/**
 * A runner, taken in the async context of the caller, that runs the work it is given in that
 * context (an `AsyncLocalStorage` store a middleware set with `run()`, such as the tracing layer
 * of docs/middleware.md "Request context", which `accessLog`'s format function reads), one
 * microtask after it is called. Give it work once at most. What the work throws is logged to
 * the request's `tsgi.errors` with its request line, as the server logs a failure it cannot answer.
 *
 * @param environ - the request, for the log of a failure.
 * @returns `(work) => void`: runs `work` in the context this was called in.
 */
export function keptContext(environ: Environ): (work: () => void) => void {
  let run!: (work: () => void) => void;
  void new Promise<() => void>((resolve) => (run = resolve))
    .then((work) => work())
    .then(undefined, (error: unknown) =>
      logRequestError(environ['tsgi.errors'], environ, '', error));
  return run;
}

/**
 * `HeadWait.keeping` for a server that settles the head from its own code (see
 * `headSettledKey`): `then`, to be run in the async context this is called in (a layer's, as it
 * leaves the work), once the server settles the head.
 *
 * @param environ - the request, for the log of a failure.
 * @param then - the work a layer leaves for the head.
 * @returns what the server calls once the head is settled.
 */
export function keptWork(environ: Environ, then: () => void): () => void {
  const run = keptContext(environ);
  return () => run(then);
}
