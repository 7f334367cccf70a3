/**
 * A streamed gateway body continued as the body of a fetch `Response`, after the adapter took
 * its first step (or two) to learn the status and length.
 *
 * @module
 */
import type { Body } from '../../gateway/types.ts';
import { type BodyIterator, checkChunk, closeBody } from '../../gateway/body.ts';
import { toReadableStream } from '../../gateway/stream.ts';

type Step = IteratorResult<Uint8Array>;

/**
 * The rest of a body as a pull-based `ReadableStream`: `first`, then `next` (the step already
 * asked for, maybe still pending), then the iterator's other chunks. With `declared` (the app's
 * `Content-Length`, else -1) the stream errors as soon as the body proves longer, or at its end
 * when it was shorter, so the client sees a cut rather than a wrong length. Cancelling closes
 * the iterator (`return()`); `onError` is told of a failure of the body or of its `return()`.
 *
 * @param waitUntil - a Worker's `ctx.waitUntil`: the runtime drops the timers and promises of a
 *   request whose client left, so the close is handed to it to be run to its end (a generator
 *   waiting on a timer then still reaches its `finally`).
 */
export function resumeBody(
  first: Uint8Array,
  next: Step | PromiseLike<Step>,
  iterator: BodyIterator,
  declared: number,
  onError: (error: unknown) => void,
  waitUntil: ((promise: Promise<unknown>) => void) | undefined,
): ReadableStream<Uint8Array> {
  let sent = 0;
  let started = false;
  let queued: Step | PromiseLike<Step> | undefined = next;
  const count = (chunk: Uint8Array): Uint8Array => {
    sent += chunk.byteLength;
    if (declared !== -1 && sent > declared) throw new TypeError(`the app declared Content-Length: ${declared} but its body is longer`);
    return chunk;
  };
  const rest: AsyncIterator<Uint8Array> & AsyncIterable<Uint8Array> = {
    async next(): Promise<Step> {
      if (!started) {
        started = true;
        return { done: false, value: count(first) };
      }
      const pending = queued;
      queued = undefined;
      const step = await (pending ?? iterator.next());
      if (step.done) {
        if (declared !== -1 && sent !== declared) throw new TypeError(`the app declared Content-Length: ${declared} but its body has ${sent} bytes`);
        return step;
      }
      return { done: false, value: count(checkChunk(step.value)) };
    },
    async return(): Promise<Step> {
      // A step asked for and never taken may still fail: its error is logged, not lost.
      if (queued !== undefined && typeof (queued as PromiseLike<Step>).then === 'function') (queued as PromiseLike<Step>).then(undefined, onError);
      queued = undefined;
      const closing = closeBody(iterator, onError);
      waitUntil?.(closing);
      await closing;
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return toReadableStream(rest as Body, onError, onError);
}
