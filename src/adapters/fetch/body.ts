/**
 * A streamed gateway body continued as the body of a fetch `Response`, after the adapter took
 * its first step (or two) to learn the status and length.
 *
 * @module
 */
import type { BodyIterator } from '../../gateway/body.ts';
import { resumeSteps } from '../../gateway/resume.ts';
import { toReadableStream } from '../../gateway/stream.ts';
import type { StreamStop } from '../../gateway/shutdown.ts';

type Step = IteratorResult<Uint8Array>;

/**
 * The rest of a body as a pull-based `ReadableStream`: {@link resumeSteps} (`first`, then
 * `next`, the step already asked for, if any, then the iterator's other chunks, checked against `declared`), so the stream errors
 * on a length the body contradicts and the client sees a cut. Cancelling closes the iterator
 * (`return()`); `onError` is told of a failure of the body or of its `return()`.
 *
 * @param waitUntil - a Worker's `ctx.waitUntil`: the runtime drops the timers and promises of a
 *   request whose client left, so the close is handed to it to be run to its end (a generator
 *   waiting on a timer then still reaches its `finally`).
 * @param stop - for an event stream: the stream ends, as a complete one, once its end is due
 *   (the shutdown).
 */
export function resumeBody(
  first: Uint8Array,
  next: Step | PromiseLike<Step> | undefined,
  iterator: BodyIterator,
  declared: number,
  onError: (error: unknown) => void,
  waitUntil: ((promise: Promise<unknown>) => void) | undefined,
  stop?: StreamStop,
): ReadableStream<Uint8Array> {
  return toReadableStream(resumeSteps(first, next, iterator, declared, onError, waitUntil, stop), onError, onError, declared);
}
