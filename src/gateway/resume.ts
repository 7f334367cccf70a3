/**
 * A streamed body after its head: a server takes the body's first chunk, looks at the second
 * step for as long as one turn of the event loop (`raceImmediate`) to learn whether the
 * length is known, sends the head, and then resumes the body ({@link resumeSteps}).
 *
 * @module
 */
import { type BodyIterator, checkChunk, closeBody, isThenable } from './body.ts';
import { STOP, type StreamStop } from './shutdown.ts';
import { unlessAbort } from './abort.ts';
import { checkDeclaredLength, checkNotLonger } from './head-rules.ts';

type Step = IteratorResult<Uint8Array>;

/**
 * The rest of a body once its head is out: `first`, then `next` (the step already asked for,
 * maybe still pending; `undefined` when none was, as after an empty first chunk, which sends
 * the head at once), then the iterator's other chunks, each checked (`checkChunk`). With
 * `declared` (the app's `Content-Length`, else -1) the iteration throws as soon as the body
 * proves longer, or at its end when it was shorter, so the client sees a cut rather than a
 * wrong length. `return()` closes the iterator and settles once the app's own `return()` has;
 * `onError` is told of a failure of the step asked for and never taken, and of `return()`.
 *
 * @param waitUntil - a Worker's `ctx.waitUntil`: the runtime drops the timers and promises of a
 *   request whose client left, so the close is handed to it to be run to its end (a generator
 *   waiting on a timer then still reaches its `finally`).
 * @param stop - for an event stream (docs/spec.md §2.6): once its end is due (the shutdown), a
 *   step still awaited is given up, the iteration ends as complete and the iterator is closed;
 *   disposed of when the iteration ends.
 */
export function resumeSteps(
  first: Uint8Array,
  next: Step | PromiseLike<Step> | undefined,
  iterator: BodyIterator,
  declared: number,
  onError: (error: unknown) => void,
  waitUntil?: (promise: Promise<unknown>) => void,
  stop?: StreamStop,
): AsyncIterableIterator<Uint8Array> {
  let sent = 0;
  let started = false;
  /** True once the body ended, or the shutdown ended the stream (the body closed): nothing more is asked of it. */
  let ended = false;
  let queued: Step | PromiseLike<Step> | undefined = next;
  const close = (): Promise<void> => {
    stop?.dispose();
    const closing = closeBody(iterator, onError);
    waitUntil?.(closing);
    return closing;
  };
  const count = (chunk: Uint8Array): Uint8Array => {
    sent += chunk.byteLength;
    checkNotLonger(declared, sent);
    return chunk;
  };
  return {
    async next(): Promise<Step> {
      if (!started) {
        started = true;
        return { done: false, value: count(first) };
      }
      if (ended) return { done: true, value: undefined };
      const asked = queued ?? (iterator.next() as Step | PromiseLike<Step>);
      queued = undefined;
      const step = await (stop === undefined ? asked : stop.race(asked));
      if (step === STOP) {
        // The shutdown began: the stream ends whole, the body is closed (not waited for: a
        // generator stuck in a wait that ignores the signal would hold the stream open), and a
        // failure of the step asked for and never taken is still logged (but for an abort: the
        // body stopping on the shutdown signal as asked).
        ended = true;
        if (isThenable<Step>(asked)) asked.then(undefined, unlessAbort(onError));
        void close();
        return { done: true, value: undefined };
      }
      if (step.done) {
        ended = true; // over, not stopped early: `return()` closes nothing now (spec §6)
        stop?.dispose();
        checkDeclaredLength(declared, sent, false);
        return step;
      }
      return { done: false, value: count(checkChunk(step.value)) };
    },
    async return(): Promise<Step> {
      if (ended) return { done: true, value: undefined };
      // A step asked for and never taken may still fail: its error is logged, not lost.
      if (queued !== undefined && typeof (queued as PromiseLike<Step>).then === 'function') (queued as PromiseLike<Step>).then(undefined, onError);
      queued = undefined;
      await close();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
