/**
 * A server's graceful shutdown as the responses being sent see it (docs/spec.md §2.6): the
 * event streams, ended together when the shutdown signal aborts, through one listener on that
 * signal however many streams are open; what tells an event stream; the race of a stream's
 * next step against its end.
 *
 * @module
 */
import { isThenable } from './body.ts';

type Step = IteratorResult<Uint8Array>;

/** What the wait for an event stream's next step answers when it is to stop (see {@link raceStop}). */
export const STOP: unique symbol = Symbol('stop');

/** `step`, or {@link STOP} if `stopped` resolves first (an event stream's wait for its next chunk). */
export function raceStop(step: Step | PromiseLike<Step>, stopped: Promise<typeof STOP> | undefined): Step | PromiseLike<Step | typeof STOP> {
  return stopped === undefined || !isThenable<Step>(step) ? step : Promise.race([step, stopped]);
}

/**
 * True when `headers` give the response the media type `text/event-stream` (server-sent
 * events, HTML Living Standard §9.2), whatever its parameters and case: the answers a graceful
 * shutdown ends.
 */
export function isEventStream(headers: ReadonlyArray<readonly [string, string]>): boolean {
  for (const [name, value] of headers) {
    if (name.length !== 12 || name.toLowerCase() !== 'content-type') continue;
    const semicolon = value.indexOf(';');
    return (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase() === 'text/event-stream';
  }
  return false;
}
/**
 * The event streams being sent under one shutdown signal (`serve()`'s, or the one given to
 * `toNodeHandler` or `toFetchHandler`): each registers how to end it, and all are ended when the signal aborts,
 * through one listener on the signal (a caller's signal gets no listener per stream).
 */
export class ShutdownWatch {
  readonly signal: AbortSignal;
  readonly #ends = new Set<() => void>();

  constructor(signal: AbortSignal) {
    this.signal = signal;
    signal.addEventListener('abort', () => {
      for (const end of this.#ends) end();
      this.#ends.clear();
    }, { once: true });
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
  return new ShutdownWatch(signal);
}
