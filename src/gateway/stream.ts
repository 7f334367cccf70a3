/**
 * Bodies between the gateway interface and WHATWG streams: a gateway body as a pull-based
 * `ReadableStream` (for fetch `Response`s), and a `ReadableStream` as a gateway body.
 *
 * @module
 */
import type { Body } from './types.ts';
import { checkChunk, closeBody, closingSource, openBody } from './body.ts';

/**
 * A gateway body as a `ReadableStream<Uint8Array>` that pulls one chunk each time the
 * consumer asks (no queue beyond one chunk: backpressure is the consumer's pace). Cancelling
 * the stream (a client that goes away) calls the body iterator's `return()`, so a
 * generator's `finally` runs; a chunk that is not a `Uint8Array` errors the stream.
 *
 * @param onCloseError - told what the iterator's `return()` throws on cancel.
 * @param onError - told when the body fails while being read (its `next()` throws or
 *   rejects, or a chunk is not a `Uint8Array`); the iterator is then closed and the stream
 *   errored with that error, which a server turns into a cut connection.
 * @param length - the body's length in bytes when its app declared one (its `Content-Length`),
 *   else -1 (the default). Given to the stream as workerd's `expectedLength`, so that workerd
 *   sends that `Content-Length` instead of dropping it and sending the body chunked; other
 *   runtimes ignore it. The body is not checked against it here (see `resumeSteps`).
 */
export function toReadableStream(
  body: Body,
  onCloseError?: (error: unknown) => void,
  onError?: (error: unknown) => void,
  length = -1,
): ReadableStream<Uint8Array> {
  const iterator = openBody(body);
  let cancelled = false;
  const source: { pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void>; cancel(): Promise<void>; expectedLength?: number } = {
    async pull(controller) {
      try {
        const step = await iterator.next();
        // A step that settles after a cancel has nowhere to go: the iterator is being closed.
        if (cancelled) return;
        if (step.done) controller.close();
        else controller.enqueue(checkChunk(step.value));
      } catch (error) {
        if (cancelled) return;
        onError?.(error);
        void closeBody(iterator, onCloseError);
        throw error;
      }
    },
    cancel() {
      cancelled = true;
      return closeBody(iterator, onCloseError);
    },
  };
  // workerd's extension of the underlying source (other runtimes ignore the member).
  if (length >= 0) source.expectedLength = length;
  return new ReadableStream<Uint8Array>(source, { highWaterMark: 0 });
}

/** The streams a server took over to drop the rest of (see {@link dropStream}). */
const dropped = new WeakSet<ReadableStream<Uint8Array>>();

/**
 * Marks `stream` (a request body) as taken over by the server, which reads and drops the rest
 * of it once the answer went out: a read of it through {@link fromReadableStream} afterwards (an
 * app that went on after `timeout` answered for it) fails with an `AbortError` saying so,
 * instead of the stream's "locked" `TypeError`.
 */
export function dropStream(stream: ReadableStream<Uint8Array>): void {
  dropped.add(stream);
}

/**
 * Throws when `stream` was taken over by the server ({@link dropStream}): an `AbortError`
 * saying the request body was dropped because the answer went out before it was read.
 */
export function refuseDropped(stream: ReadableStream<Uint8Array>): void {
  if (dropped.has(stream)) throw new DOMException('the request body was dropped: the answer went out before it was read', 'AbortError');
}

/**
 * A `ReadableStream` (a fetch body) as a gateway body: an async iterable reading it chunk by
 * chunk. Closing the iteration early (`return()`) cancels the stream, also before the first
 * chunk (a HEAD answer, a client gone: a server-sent-events source stops) and while a read
 * waits for the next one (an idle event stream); iterate it once.
 *
 * @param readFailure - maps an error of the stream's `read()` to the one the iteration throws
 *   (the fetch adapter's request body: a runtime's own error for a client gone becomes an input
 *   error); without it, the stream's error is thrown as it is.
 * @param cancelReason - makes the reason the stream is cancelled with when closed early (a
 *   response body: `bodyClosedEarly`, an `AbortError` its source, React's
 *   `renderToReadableStream`, tells from a failure); without it, none. Called on a close only.
 */
export function fromReadableStream(
  stream: ReadableStream<Uint8Array>,
  readFailure?: (error: unknown) => unknown,
  cancelReason?: () => unknown,
): AsyncIterableIterator<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  // Unread, the stream is not locked yet and is cancelled here; once read, through its reader,
  // which also ends a read still waiting for data (an idle event stream), and with it the
  // generator, which could not take its `return()` before.
  const cancel = () => (reader ?? (stream.locked ? undefined : stream))?.cancel(cancelReason?.()).catch(() => undefined);
  return closingSource(
    readChunks(stream, (opened) => (reader = opened), readFailure, cancelReason),
    cancel,
  );
}

async function* readChunks(
  stream: ReadableStream<Uint8Array>,
  opened: (reader: ReadableStreamDefaultReader<Uint8Array>) => void,
  readFailure: ((error: unknown) => unknown) | undefined,
  cancelReason: (() => unknown) | undefined,
): AsyncGenerator<Uint8Array, void, undefined> {
  refuseDropped(stream);
  const reader = stream.getReader();
  opened(reader);
  let done = false;
  try {
    for (;;) {
      let step: Awaited<ReturnType<typeof reader.read>>;
      try {
        step = await reader.read();
      } catch (error) {
        throw readFailure === undefined ? error : readFailure(error);
      }
      if (step.done) {
        done = true;
        return;
      }
      yield step.value;
    }
  } finally {
    if (!done) await reader.cancel(cancelReason?.()).catch(() => undefined);
    reader.releaseLock();
  }
}
