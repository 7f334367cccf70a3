/**
 * Watching a body as it is consumed ({@link wrapBody}): hooks see each chunk and how the
 * iteration finished (it ended, was closed early, or failed), and the finish can be held back
 * until a hook's own work is done (closing a file, removing temporary uploads).
 *
 * @module
 */
import { type Body } from './types.ts';
import { type BodyIterator, closeBody, isAsyncIterable, isThenable, openBody } from './body.ts';

/**
 * What {@link wrapBody} reports. Exactly one of `end`, `close` and `error` is called, once.
 *
 * `end`, `close` and `error` may return a promise: the consumer learns of the finish (the last
 * `next()` answers done or throws, `return()` answers) only once it has settled (and `chunk`:
 * the chunk is handed on once it has). What else a hook returns is ignored and adds no wait,
 * so a hook may be any function, such as
 * `() => log.write('done\n')` whose `write` answers a boolean (Node's streams). A hook that
 * throws, or whose promise rejects, hands that error to the consumer instead (as a `finally`
 * block would). On a sync body a promise cannot be waited for (see `options.async` of
 * {@link wrapBody}); its rejection then goes to `closeError`.
 */
export interface BodyHooks {
  /**
   * Each chunk, before it is handed on. A throw closes the body (its `return()`), calls
   * `error`, then reaches the consumer. It may return a promise (an `async` hook): on an async
   * body the chunk is handed on once it has settled, and a rejection is a throw; on a sync body
   * it cannot be waited for, and its rejection goes to `closeError`.
   */
  chunk?: ((chunk: Uint8Array) => unknown) | undefined;
  /** The body ended normally. */
  end?: (() => unknown) | undefined;
  /**
   * The consumer stopped early with `return()` (e.g. the client went away). Called at once,
   * just after the body's own `return()` was called; `returned` settles once that has (it never
   * rejects: failures go to `closeError`), for work that must wait for the app, as in
   * `close: (returned) => returned.then(removeFiles)`. An async wrapper's `return()` answers
   * only once `returned` (and the hook's promise) have settled, so the app's `finally` has run.
   */
  close?: ((returned: Promise<void>) => unknown) | undefined;
  /** The body threw (or could not be opened); the error is re-thrown to the consumer after this hook. */
  error?: ((error: unknown) => unknown) | undefined;
  /**
   * A failure the consumer cannot be told of: the body's own `return()` threw or rejected while
   * being closed, or a hook's promise rejected on a sync body. Must not throw.
   */
  closeError?: ((error: unknown) => void) | undefined;
}

/** Options of {@link wrapBody}. */
export interface WrapBodyOptions {
  /**
   * Answer an async iterable even for a sync body, so the hooks' promises are waited for;
   * default false (a sync body stays sync).
   */
  async?: boolean | undefined;
  /**
   * Hand what the body's own `return()` throws or rejects with to the caller of the wrapper's
   * `return()` (it throws or rejects with it once the `close` hook has run), instead of to
   * `closeError`; default false. For a wrapper a layer puts on a body that another consumer
   * closes and reports in its own words.
   */
  closeThrows?: boolean | undefined;
}

type Done = IteratorReturnResult<undefined>;
type Step = IteratorResult<Uint8Array>;

const DONE: Done = Object.freeze({ done: true, value: undefined });
const RETURNED: Promise<void> = Promise.resolve();

/**
 * Wraps a body so `hooks` see it being consumed (see {@link BodyHooks}). The body is opened
 * at the first `next()` or `return()`; a `return()` before any `next()` still calls the body's
 * own `return()` (a stream is cancelled, a file closed). Once finished the wrapper answers done
 * and asks nothing more of the body; a chunk that arrives after an early close is dropped.
 *
 * A sync body stays sync (so servers can still send a one-chunk body with Content-Length),
 * an async one stays async; `options.async` makes a sync body async.
 *
 * Nothing is thrown here: a value that is not an iterable makes the first `next()` throw
 * `TypeError` (see `openBody`), which the `error` hook sees.
 */
export function wrapBody(body: Body, hooks: BodyHooks, options: WrapBodyOptions & { async: true }): AsyncIterable<Uint8Array>;
export function wrapBody(body: Body, hooks: BodyHooks, options?: WrapBodyOptions): Body;
export function wrapBody(body: Body, hooks: BodyHooks, options: WrapBodyOptions = {}): Body {
  const sync = !options.async && !isAsyncIterable(body);
  let iterator: BodyIterator | undefined;
  let open = true;
  const lost = (error: unknown) => {
    try {
      hooks.closeError?.(error);
    } catch {
      // A failing reporter must not turn the cleanup into a crash.
    }
  };
  /** `then` once `pending` (what a hook returned) has settled; at once when it is no promise. */
  const after = <T>(pending: unknown, then: () => T): T | Promise<T> => {
    if (!isThenable(pending)) return then();
    if (!sync) return Promise.resolve(pending).then(then);
    Promise.resolve(pending).then(undefined, lost);
    return then();
  };
  const onStep = (step: Step): Step | Promise<Step> => {
    if (!open) return DONE;
    if (step.done) {
      open = false;
      return after(hooks.end?.(), () => DONE);
    }
    let pending: unknown;
    try {
      pending = hooks.chunk?.(step.value);
    } catch (error) {
      return refuse(error);
    }
    if (!isThenable(pending)) return step;
    if (sync) {
      Promise.resolve(pending).then(undefined, lost);
      return step;
    }
    return Promise.resolve(pending).then(() => step, refuse);
  };
  /**
   * The chunk hook threw: the body is still open and its consumer, told by a throw, calls no
   * `return()` (`for await` does not), so it is closed here, then `error` reports the failure.
   */
  const refuse = (error: unknown): Promise<never> => {
    open = false;
    const returned = returnBody();
    const report = () => after(hooks.error?.(error), () => {
      throw error;
    });
    return sync ? report() : returned.then(report);
  };
  const onError = (error: unknown): Promise<never> => {
    if (!open) throw error;
    open = false;
    return after(hooks.error?.(error), () => {
      throw error;
    });
  };
  /** Calls the body's own `return()`, what it throws going to `failed`; settles when it has, never rejects. */
  const returnBody = (failed: (error: unknown) => void = lost): Promise<void> => {
    try {
      iterator ??= openBody(body);
    } catch (error) {
      failed(error);
      return RETURNED;
    }
    return closeBody(iterator, failed);
  };
  const close = (): Done | Promise<Done> => {
    if (!open) return DONE;
    open = false;
    let failure: { error: unknown } | undefined;
    const returned = returnBody(options.closeThrows ? (error) => void (failure = { error }) : lost);
    const pending = hooks.close?.(returned);
    // An async wrapper answers once the body's own return() has, as a `for await` wrapper
    // does: a consumer that waits (a test client, an outer middleware) sees the app's
    // `finally` done. A sync body's return() is over already.
    return after(sync ? pending : Promise.all([returned, pending]), () => {
      if (failure !== undefined) throw failure.error;
      return DONE;
    });
  };
  if (sync) {
    const it: IterableIterator<Uint8Array> = {
      next(): Step {
        if (!open) return DONE;
        let step: Step;
        try {
          step = ((iterator ??= openBody(body)) as Iterator<Uint8Array>).next();
        } catch (error) {
          return onError(error) as never;
        }
        return onStep(step) as Step;
      },
      return: close as () => Done,
      [Symbol.iterator]() {
        return this;
      },
    };
    return it;
  }
  const it: AsyncIterableIterator<Uint8Array> = {
    async next(): Promise<Step> {
      if (!open) return DONE;
      let step: Step;
      try {
        step = await (iterator ??= openBody(body)).next();
      } catch (error) {
        return onError(error);
      }
      return onStep(step);
    },
    async return(): Promise<Done> {
      return close();
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return it;
}

/**
 * `body`, always async, which runs `finish` (once, awaited) however its iteration finishes:
 * it ends, throws, or is closed with `return()` (then after the body's own `return()` has
 * settled; what that throws goes to `closeError`, as {@link BodyHooks.closeError}, and is
 * ignored without it), even when it is closed before its first chunk. The last `next()` (or
 * the `return()`) resolves only after `finish`, so a server ends the response after the work is
 * done (removing temporary uploads, closing a file). A rejection of `finish` reaches the
 * consumer instead, as a `finally` block's would. Built on {@link wrapBody} with `async: true`.
 */
export function afterBody(body: Body, finish: () => Promise<void>, closeError?: (error: unknown) => void): AsyncIterable<Uint8Array> {
  return wrapBody(body, { end: finish, error: finish, close: (returned) => returned.then(finish), closeError }, { async: true });
}
