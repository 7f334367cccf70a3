/**
 * A server's graceful shutdown as the responses being sent see it (docs/spec.md §2.6): which
 * answers it ends (event streams, {@link eventStreamKind}); the streams of one server, ended
 * together when its shutdown signal aborts through one listener on it ({@link ShutdownWatch});
 * the waits of one stream, given up when it is to end ({@link StreamStop}).
 *
 * @module
 */
import { isThenable } from './body.ts';
import { defineEnvironKey } from './environ-key.ts';
import type { Environ } from './types.ts';

type Step = IteratorResult<Uint8Array>;

/**
 * How long a coded event stream (a `Content-Encoding`, as `compress` sends one) is given at
 * the shutdown to end by itself, ms: the layer coding it ends it with its coding finished
 * (gzip's trailer, brotli's last block), which ending it from outside would cut short. One
 * still running then (a proxied upstream's gzip stream, which no layer ends) is ended as a
 * plain one is.
 */
export const CODED_STREAM_GRACE = 1000;

/**
 * `tsgi.shutdown_end` (internal): `true` once the server's graceful shutdown made the end of this
 * request's event stream due, so that the server ends it as a complete response and closes its
 * body (docs/spec.md §2.6). Set by the Node adapter, `toFetchHandler` and the test client
 * (through {@link streamStopOf}); read by `accessLog`, which logs that close as the `end` the
 * client got, with the status sent (not `close`, nor 499 when no event had come yet). A client
 * that leaves in the same instant is logged so too.
 */
export const shutdownEndKey = defineEnvironKey<true>('tsgi.shutdown_end');

/** What a {@link StreamStop}'s wait answers once the stream is to end. */
export const STOP: unique symbol = Symbol('stop');

/**
 * True when the `Content-Type` value `value` is the media type `text/event-stream` (server-sent
 * events, HTML Living Standard §9.2), whatever its parameters (`; charset=utf-8`);
 * case-insensitive.
 */
export function isEventStreamType(value: string): boolean {
  const semicolon = value.indexOf(';');
  return (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase() === 'text/event-stream';
}

/**
 * What `headers` (a response's fields, as given to `startResponse`) say of an event stream:
 * `undefined` when the media type is not `text/event-stream`; `'coded'` when it has a content
 * coding other than `identity` (RFC 9110 §8.4: `compress`'s gzip or br, which only the layer
 * coding it can finish); else `'plain'`. Pairs that are not two strings are skipped (the head's
 * check refuses them, naming them).
 */
export function eventStreamKind(headers: ReadonlyArray<readonly [string, string]>): 'plain' | 'coded' | undefined {
  let eventStream = false;
  let coded = false;
  // The fields as the app gave them, not checked yet: a malformed pair is left to the head's check.
  if (!Array.isArray(headers)) return undefined;
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i];
    if (!Array.isArray(pair)) continue;
    const name: unknown = pair[0];
    const value: unknown = pair[1];
    if (typeof name !== 'string' || typeof value !== 'string') continue;
    if (name.length === 12 && name.toLowerCase() === 'content-type') eventStream = isEventStreamType(value);
    else if (name.length === 16 && name.toLowerCase() === 'content-encoding') {
      const coding = value.trim().toLowerCase();
      if (coding !== '' && coding !== 'identity') coded = true;
    }
  }
  return !eventStream ? undefined : coded ? 'coded' : 'plain';
}

/**
 * The event streams being sent under one shutdown signal (`serve()`'s, or the one given to
 * `toNodeHandler`, `toFetchHandler` or the `TestClient`): each registers how to end it, and all
 * are ended when the signal aborts, through one listener on the signal (a caller's signal gets
 * no listener per stream).
 */
export class ShutdownWatch {
  readonly signal: AbortSignal;
  /**
   * Set by a server when it cuts the connections still open at the end of its graceful
   * shutdown (`serve()`'s `close()` at its `timeout`, or `close({ timeout: 0 })`): a request's
   * `tsgi.signal` that aborts from then on was cut by the server, not left by its client
   * ({@link wasCut}). `false` until then, and under a server that cuts nothing itself.
   */
  cut = false;
  readonly #ends = new Set<() => void>();

  constructor(signal: AbortSignal) {
    this.signal = signal;
    signal.addEventListener(
      'abort',
      () => {
        for (const end of this.#ends) end();
        this.#ends.clear();
      },
      { once: true },
    );
  }

  /**
   * Calls `end` when the shutdown begins: at once when it has. Answers the function that
   * forgets it (call it when the stream ended another way).
   */
  watch(end: () => void): () => void {
    if (this.signal.aborted) {
      end();
      return () => {};
    }
    this.#ends.add(end);
    return () => this.#ends.delete(end);
  }
}

/**
 * The {@link ShutdownWatch} of an adapter's `shutdownSignal` option, `undefined` without one.
 *
 * @throws TypeError for a value that is not an `AbortSignal`.
 */
export function shutdownWatchOf(signal: AbortSignal | undefined): ShutdownWatch | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) throw new TypeError('shutdownSignal must be an AbortSignal');
  return shutdownWatchFor(signal);
}

/** The {@link ShutdownWatch} of each shutdown signal: one per signal, however many adapters or layers watch it. */
const watches = new WeakMap<AbortSignal, ShutdownWatch>();

/** The one {@link ShutdownWatch} of `signal` (a request's `tsgi.shutdown_signal`, say), made at its first use. */
export function shutdownWatchFor(signal: AbortSignal): ShutdownWatch {
  let watch = watches.get(signal);
  if (watch === undefined) watches.set(signal, (watch = new ShutdownWatch(signal)));
  return watch;
}

/**
 * True once the server whose shutdown signal is `signal` (a request's `tsgi.shutdown_signal`)
 * cut the connections still open at the end of its graceful shutdown ({@link ShutdownWatch.cut}).
 * Looks the watch up without making one.
 */
export function wasCut(signal: AbortSignal): boolean {
  return watches.get(signal)?.cut === true;
}

/**
 * One event stream's end at the shutdown, as the server sending it waits for the stream's
 * steps: {@link race} answers a step, or {@link STOP} once the stream is to end ({@link due}):
 * at the shutdown for a plain stream (a turn of the event loop after it is made, for one made
 * once the shutdown began: a step it has at once comes first), {@link CODED_STREAM_GRACE}
 * after it for a coded one, or when {@link stop} is called (the client left). A promise per wait, never `Promise.race` with
 * one long-lived promise: each race would leave a reaction on it holding that step's chunk,
 * for as long as the stream runs.
 */
export class StreamStop {
  #due = false;
  #interrupt: (() => void) | undefined;
  #grace: ReturnType<typeof setTimeout> | undefined;
  readonly #unwatch: () => void;
  readonly #onDue: (() => void) | undefined;
  readonly #onCodedEnd: (() => void) | undefined;
  /** True once the shutdown reached this coded stream (see `onCodedEnd`). */
  #codedShutdown = false;

  /**
   * @param environ - the request's, marked with {@link shutdownEndKey} when the shutdown makes
   *   the end due (not when {@link stop} is called for a client that left).
   * @param onDue - called once when the end becomes due (to wake a wait for the client, say).
   * @param onCodedEnd - called at {@link dispose} when a coded stream ended by itself once the
   *   shutdown reached it, before its end was due: its coding layer (`compress`) finished it
   *   and closed its body, which may still wait on the request's `tsgi.signal`. The server
   *   aborts that signal then, so the body's `finally` runs, as for a plain stream (whose
   *   `tsgi.signal` the server aborts as it ends it). A coded stream no layer ends (a proxied
   *   gzip stream, which reads the upstream under that signal) keeps its signal through the
   *   grace, and is ended as a plain one.
   */
  constructor(shutdown: ShutdownWatch, kind: 'plain' | 'coded', environ: Environ, onDue?: () => void, onCodedEnd?: () => void) {
    this.#onDue = onDue;
    this.#onCodedEnd = onCodedEnd;
    const end = () => {
      if (!this.#due) shutdownEndKey.set(environ, true);
      this.stop();
    };
    // A stream that reaches the server once the shutdown began (its app answered after it)
    // ends a turn of the event loop later: an event it has at once is sent, else none.
    const late = shutdown.signal.aborted;
    this.#unwatch = shutdown.watch(() => {
      if (kind === 'plain' && !late) return end();
      if (kind === 'coded') this.#codedShutdown = true;
      this.#grace = setTimeout(end, kind === 'coded' ? CODED_STREAM_GRACE : 0);
      this.#grace.unref?.();
    });
  }

  /** True once the stream is to end. */
  get due(): boolean {
    return this.#due;
  }

  /** Makes the end due now: the wait in progress answers {@link STOP}, and every later one. */
  stop(): void {
    if (this.#due) return;
    this.#due = true;
    clearTimeout(this.#grace);
    this.#interrupt?.();
    this.#onDue?.();
  }

  /** `step`, or {@link STOP} if the end is due first (a step already in hand is answered as it is). */
  race(step: Step | PromiseLike<Step>): Step | PromiseLike<Step | typeof STOP> {
    if (!isThenable<Step>(step)) return step;
    if (this.#due) return Promise.resolve(STOP);
    return new Promise<Step | typeof STOP>((resolve, reject) => {
      this.#interrupt = () => resolve(STOP);
      step.then(
        (value) => {
          this.#interrupt = undefined;
          resolve(value);
        },
        (error: unknown) => {
          this.#interrupt = undefined;
          reject(error);
        },
      );
    });
  }

  /** Forgets the shutdown (the stream ended): no call comes afterwards but `onCodedEnd`'s, now. */
  dispose(): void {
    this.#unwatch();
    clearTimeout(this.#grace);
    if (this.#codedShutdown && !this.#due) {
      this.#codedShutdown = false;
      this.#onCodedEnd?.();
    }
  }
}

/**
 * The {@link StreamStop} of an answer with `headers` under `shutdown`: one when it is an event
 * stream ({@link eventStreamKind}), else `undefined` (so it is without a shutdown). `environ`
 * (the request's) is marked with {@link shutdownEndKey} when the shutdown ends the stream;
 * `onDue` and `onCodedEnd` are {@link StreamStop}'s.
 */
export function streamStopOf(
  shutdown: ShutdownWatch | undefined,
  headers: ReadonlyArray<readonly [string, string]>,
  environ: Environ,
  onDue?: () => void,
  onCodedEnd?: () => void,
): StreamStop | undefined {
  if (shutdown === undefined) return undefined;
  const kind = eventStreamKind(headers);
  return kind === undefined ? undefined : new StreamStop(shutdown, kind, environ, onDue, onCodedEnd);
}

