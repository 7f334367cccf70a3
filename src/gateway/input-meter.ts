/**
 * Counting the request body bytes read from `tsgi.input` (accessLog's `bodyBytesRead`), by
 * whatever reader: set up per request, by a layer that asks for the count, never by the server.
 *
 * @module
 */
import type { Environ } from './types.ts';
import { BufferedInput, FailedInput, readsThrough } from './input.ts';
import { type FailureAware, type Failure, type IterationClaim, type NodeReadable, ReadableInput, isFailureAware, nodeReadableOf, withFailure } from './readable-input.ts';

/** A Node.js stream's `emit`, as the meter calls the one it replaced. */
type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;

/** What the meter reads of a Node.js stream: Node's drain of a body nobody read (`_dump()`), and the encoding of `setEncoding`. */
interface Dumped {
  _dumped?: boolean | undefined;
  readonly readableEncoding?: BufferEncoding | null | undefined;
}

const noBytes = (): number => 0;

/**
 * Starts counting the body bytes read from `environ['tsgi.input']` from now on, and answers
 * a function that tells the count so far. What counts is what a reader takes: the app's and the
 * layers' below (`req.bytes()`, `req.form()`, `req.stream()` piped anywhere, a raw
 * `for await`), not what the server received and discarded unread (Node's drain of a small
 * body after the answer, the lingering close of a larger one), nor the request head.
 *
 * - A Node.js stream (`serve()`, `toNodeHandler`): its `emit` is wrapped on this stream only,
 *   since every chunk handed to a reader passes through its `data` event (`read()`, flowing
 *   mode, `pipe`), whichever reader takes it; chunks Node drains itself are left out. Not the
 *   server's input of a request that announces no body (`announced` false: a `GET`,
 *   `Content-Length: 0`): Node gives its readers no byte, so it counts 0 without a wrapper.
 * - A body held in memory already (a `BufferedInput`: read whole by a layer above, or
 *   `Request.blank`'s) counts whole: it was read before this layer.
 * - A failed input counts 0.
 * - Any other input (the fetch adapters', the test client's, `Expect: 100-continue`'s, the
 *   server's input counted against its `maxBodySize`) is replaced in the environ by one that
 *   counts what its iterations yield (and keeps `req.stream()`'s failure and claim hook, when
 *   the input had it); a failed read of the input it replaced leaves the environ failed
 *   through it (`readsThrough`), so an app error wrapping the server's 413 still answers 413.
 *
 * Per request with a body: one function, and the wrapper or the wrapped `emit`; per chunk, one addition.
 *
 * @param announced - whether the environ announces a body (`isBodyReadable`: a
 *   `CONTENT_LENGTH` other than 0, `Transfer-Encoding` or `tsgi.input_terminated`); default true.
 */
export function meterInput(environ: Environ, announced = true): () => number {
  const input = environ['tsgi.input'] as AsyncIterable<Uint8Array> | undefined;
  if (input === undefined || input instanceof FailedInput) return noBytes;
  if (input instanceof BufferedInput) {
    const whole = input.bytes.byteLength;
    return () => whole;
  }
  const stream = nodeReadableOf(input);
  // The server's own input frames its body as the environ says (an app's stream may not).
  if (stream !== undefined) return announced || !(input instanceof ReadableInput) ? meterStream(stream) : noBytes;
  const count = { bytes: 0 };
  const metered = meteredInput(input, count);
  // A read of `input` that fails (the server's `maxBodySize`) leaves the environ failed through it.
  readsThrough(metered, input);
  environ['tsgi.input'] = metered;
  return () => count.bytes;
}

/** Counts the bytes `stream` hands to its readers (its `data` events) but Node's drain. */
function meterStream(stream: NodeReadable): () => number {
  const target = stream as NodeReadable & Dumped & { emit: Emit };
  const emit = target.emit;
  let bytes = 0;
  target.emit = function (this: unknown, event: string | symbol, chunk?: unknown): boolean {
    if (event === 'data' && target._dumped !== true) bytes += sizeOf(chunk, target.readableEncoding);
    // Every argument passed on as given, without an array per event.
    return Reflect.apply(emit, this, arguments);
  } as Emit;
  return () => bytes;
}

/**
 * The bytes of a chunk: a `Uint8Array`'s length; a string's (after `setEncoding`) as the bytes
 * it was decoded from, in the stream's `encoding` (a hex character is half a byte, a latin1 one a
 * byte whatever its value): exact but for a UTF-8 body with invalid sequences (each one decoded
 * as U+FFFD, counted as its 3 bytes).
 */
function sizeOf(chunk: unknown, encoding: BufferEncoding | null | undefined): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, encoding ?? 'utf8');
  return (chunk as Uint8Array | null)?.byteLength ?? 0;
}

/** `input`, its iterations adding the bytes they yield to `count.bytes`. */
function meteredInput(input: AsyncIterable<Uint8Array>, count: { bytes: number }): AsyncIterable<Uint8Array> {
  const metered: AsyncIterable<Uint8Array> & Partial<FailureAware> = {
    [Symbol.asyncIterator]: () => meteredIterator(input[Symbol.asyncIterator](), count),
  };
  if (isFailureAware(input)) {
    metered[withFailure] = (failure: Failure, claim?: IterationClaim) => meteredInput(input[withFailure](failure, claim), count);
  }
  return metered;
}

/** `source`, its `next()` adding the bytes of each chunk to `count.bytes`; `return()` and `throw()` passed on. */
function meteredIterator(source: AsyncIterator<Uint8Array>, count: { bytes: number }): AsyncIterator<Uint8Array> {
  const add = (step: IteratorResult<Uint8Array>): IteratorResult<Uint8Array> => {
    if (step.done !== true) count.bytes += step.value.byteLength;
    return step;
  };
  const iterator: AsyncIterator<Uint8Array> = { next: () => source.next().then(add) };
  if (source.return !== undefined) iterator.return = (value?: unknown) => source.return!(value);
  if (source.throw !== undefined) iterator.throw = (error?: unknown) => source.throw!(error);
  return iterator;
}
