/**
 * Noticing, under `toFetchHandler`, a client that goes away while the app has not answered,
 * for the layers that watch for it (`watchClientGone`: `accessLog` logs its 499 then), or
 * while the first chunk of its body is awaited (the body is then closed, {@link untilClientLeaves}),
 * through the request's `signal`, which Bun, Deno and `@hono/node-server` abort when the client
 * disconnects (as the Node adapter does through the connection's `close`).
 *
 * @module
 */
import type { Environ } from '../../gateway/types.ts';
import type { HeadWait } from '../../gateway/server-status.ts';
import { tellClientGone } from '../../gateway/client-gone.ts';
import { isThenable } from '../../gateway/body.ts';
import { stoppedWithClient } from '../../request/input.ts';
import { keptContext, keptWork } from '../../gateway/kept-context.ts';

/** What {@link untilClientLeaves} answers when the client left first. */
export const LEFT: unique symbol = Symbol('left');

/**
 * `step` (a body's `next()`), or {@link LEFT} when `request.signal` aborts before it settles
 * (at once when it has aborted already): the client left before the answer's head, as the
 * Node adapter learns from the connection's `close`, and the body is to be closed then rather
 * than when it next yields, which may be never (an upstream stream, a subscription with nothing
 * to send). A step in hand is answered as it is, without reading the signal; so is any step of
 * a request without one.
 */
export function untilClientLeaves<T>(request: globalThis.Request, step: T | PromiseLike<T>): T | PromiseLike<T | typeof LEFT> {
  if (!isThenable<T>(step)) return step;
  const signal = request.signal as AbortSignal | null | undefined;
  // A request-like object without a signal (a polyfill's) tells nothing: the step as it is.
  if (signal == null) return step;
  if (signal.aborted) return Promise.resolve(LEFT);
  return new Promise<T | typeof LEFT>((resolve, reject) => {
    const left = () => resolve(LEFT);
    signal.addEventListener('abort', left, { once: true });
    step.then(
      (value) => {
        signal.removeEventListener('abort', left);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', left);
        reject(error);
      },
    );
  });
}

/**
 * True when `error` is the app (or its body) stopping on the request's signal once the client
 * left, as `errors` takes it (`stoppedWithClient`: an `AbortError` or `TimeoutError`,
 * `sleep(ms, value, { signal })`'s, or the signal's own reason thrown on, `fetch(url, { signal })`'s,
 * `signal.throwIfAborted()`'s; `@hono/node-server`'s reason is a string, `'Error: aborted'`). Work
 * stopped as asked, not an app error to log, as under `serve()` (docs/spec.md §7.5). A request
 * without a signal (a polyfill's) tells nothing: false.
 */
export function stoppedOnLeaving(request: globalThis.Request, error: unknown): boolean {
  return stoppedWithClient(request.signal as AbortSignal | null | undefined, error);
}

/**
 * The {@link HeadWait} `toFetchHandler` lends a request (`tsgi.head_settled`), with a `gone`
 * slot: it is also the `abort` listener on the request's signal (`handleEvent`), so watching
 * costs no listener closure, and nothing (not even reading `request.signal`, which runtimes
 * create on first read) until a layer watches. What layers leave for later (the watches, the
 * work waiting for the head) runs in the async context they left it in (`keptContext`), so
 * `accessLog`'s line sees a middleware's `AsyncLocalStorage` store, as under `serve()`.
 */
export class FetchHeadWait implements HeadWait {
  pending: Array<() => void> | null | undefined = undefined;
  gone: (() => void) | Array<() => void> | false | null = false;
  /** The request's signal while this wait listens to it (a layer watches and the app works). */
  private signal: AbortSignal | undefined = undefined;
  /** Runs the watches in the async context the first was set in (see {@link tellingGone}). */
  private inWatchContext: ((work: () => void) => void) | undefined = undefined;
  private readonly environ: Environ;

  constructor(environ: Environ) {
    this.environ = environ;
  }

  /** The first watch was set: listens to the request's signal (told at once when it aborted already). */
  watchingGone(): void {
    if (this.signal !== undefined) return;
    const signal = (this.environ['tsgi.fetch_request'] as globalThis.Request).signal;
    if (signal.aborted) {
      tellClientGone(this.environ);
      return;
    }
    this.inWatchContext = keptContext(this.environ);
    this.signal = signal;
    signal.addEventListener('abort', this, { once: true });
  }

  /**
   * `HeadWait.tellingGone`: the watches run in the async context the first was set in, while
   * the app was called (a middleware's `AsyncLocalStorage` store, which `accessLog`'s 499 line
   * reads), not in the signal's `abort` listener's.
   */
  tellingGone(tell: () => void): void {
    const run = this.inWatchContext;
    this.inWatchContext = undefined;
    if (run === undefined) tell();
    else run(tell);
  }

  /** `HeadWait.keeping`: the work a layer leaves for the head runs in the context it was left in. */
  keeping(then: () => void): () => void {
    return keptWork(this.environ, then);
  }

  /** The request's signal aborted (the client went away): tells the watches. */
  handleEvent(): void {
    this.signal = undefined;
    tellClientGone(this.environ);
  }

  /**
   * The app answered (its promise settled, or it threw): a client leaving from now on is the
   * body stream's business (its `cancel`), and the signal no longer holds this request.
   */
  appSettled(): void {
    if (this.gone) this.gone = false;
    const signal = this.signal;
    if (signal === undefined) return;
    this.signal = undefined;
    signal.removeEventListener('abort', this);
  }
}
