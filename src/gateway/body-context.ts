/**
 * Carrying a request's async context (an `AsyncLocalStorage` store, OpenTelemetry's active
 * context) into the steps of its body ({@link bindBody}): the server pulls a streamed body
 * after the app has returned, from its own context, where a store the app's middleware set
 * with `run()` is gone.
 *
 * @module
 */
import type { Body } from './types.ts';
import { type BodyIterator, isAsyncIterable, openBody } from './body.ts';

/**
 * Runs `step` in a context and answers what it answers: `AsyncLocalStorage.snapshot()`,
 * `(step) => storage.run(store, step)`, or OpenTelemetry's `(step) => context.with(ctx, step)`.
 */
export type BodyContextRunner = <T>(step: () => T) => T;

/**
 * `body` with each of its steps run through `run`: the opening of its iterator, every
 * `next()`, and `return()` and `throw()`. So the app's generator, and every `wrapBody` hook
 * below this layer (`accessLog`'s line and format function, `errors()`' log of a failure
 * after the head, a metrics middleware's `end`), see the context of the middleware that bound
 * it, however late the server pulls them, as Python's OpenTelemetry WSGI middleware re-enters
 * its span around each step of the app's iterable.
 *
 * A sync body stays sync (the server still sends a one-chunk body with `Content-Length`), an
 * async one async; an array, which runs no code, is answered as it is. Values pass through
 * unchanged, errors too: a body that is not iterable (a string, bare bytes) throws its
 * `TypeError` at the first `next()` (see `openBody`), as it would unbound, and only there:
 * `return()` then answers done and `throw(error)` throws `error`, so the failure is logged once.
 *
 * @param body - the app's body.
 * @param run - runs a step in the context, e.g. `AsyncLocalStorage.snapshot()` taken in it.
 */
export function bindBody(body: Body, run: BodyContextRunner): Body {
  if (Array.isArray(body)) return body;
  let iterator: BodyIterator | undefined;
  const open = () => (iterator ??= run(() => openBody(body)));
  const step = (method: 'next' | 'return' | 'throw', value?: unknown): IteratorResult<Uint8Array> | Promise<IteratorResult<Uint8Array>> =>
    run(() => {
      if (method === 'next') return open().next();
      let it: Iterator<Uint8Array> & AsyncIterator<Uint8Array>;
      try {
        it = open() as Iterator<Uint8Array> & AsyncIterator<Uint8Array>;
      } catch {
        // A body that cannot be opened holds nothing to close: its error was the first
        // `next()`'s (logged once), or the server leaves an unsent one alone (`closeUnsent`).
        if (method === 'throw') throw value;
        return { done: true as const, value: undefined };
      }
      const own = it[method];
      if (typeof own === 'function') return own.call(it, value);
      if (method === 'throw') throw value;
      return { done: true as const, value: undefined };
    });
  const methods = {
    next: () => step('next'),
    return: (value?: unknown) => step('return', value),
    throw: (error?: unknown) => step('throw', error),
  };
  if (isAsyncIterable(body)) {
    const it = methods as unknown as AsyncIterableIterator<Uint8Array>;
    it[Symbol.asyncIterator] = () => it;
    return it;
  }
  const it = methods as unknown as IterableIterator<Uint8Array>;
  it[Symbol.iterator] = () => it;
  return it;
}
