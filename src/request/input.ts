/**
 * Reading a request body input whole, with a size limit enforced while streaming.
 *
 * @module
 */
import { ByteList } from '../gateway/byte-list.ts';
import { isAbort } from '../gateway/abort.ts';
import type { Environ } from '../gateway/types.ts';
import { HTTPBadRequest, HTTPContentTooLarge } from '../exceptions/client-errors.ts';
import { BufferedInput, FailedInput } from '../gateway/input.ts';
import { bodyTooLarge } from '../forms/limits.ts';
import { type NodeReadable, discardedBody, isDiscarded, nodeReadableOf, prematureClose, readTimeoutOf, wasDiscarded } from '../gateway/readable-input.ts';
import { type ReadTimeout, type TimedRead, expireRead, waitNext, waitPrevious, waitSince } from '../gateway/read-timeout.ts';

/**
 * What {@link readInput} tells the owner of the live input it reads: `begin()` before the
 * first byte, then, before its promise settles, exactly one of `keep()` and `spoil()`.
 */
export interface InputOwner {
  /**
   * Told as the read begins: after a declared length past the limit was refused (when it
   * is not told), before a byte is read. The request claims the input here (`claimInput`).
   *
   * @throws to refuse the read: {@link readInput} throws it, synchronously.
   */
  begin(): void;
  /** Takes the bytes once read whole (the request keeps them for the next reader). */
  keep(bytes: Uint8Array): void;
  /** Takes the error of a read that failed after it began (the request leaves it for the next reader). */
  spoil(error: unknown): void;
}

/**
 * True when the request has a body to read (WebOb's `is_body_readable`, RFC 9112 §6.3): a
 * `CONTENT_LENGTH` other than 0, or, without one, `Transfer-Encoding` (a chunked HTTP/1.1
 * body) or `tsgi.input_terminated` (a body whose length nobody announced: an HTTP/2 stream, a
 * fetch `Request`'s). False for an environ that says none of these, whatever `tsgi.input` is.
 */
export function isBodyReadable(environ: Environ): boolean {
  const length = environ.CONTENT_LENGTH;
  if (length !== undefined) return Number(length) !== 0;
  return environ.HTTP_TRANSFER_ENCODING !== undefined || environ['tsgi.input_terminated'] === true;
}

/**
 * Reads an input whole.
 *
 * @param maxBodySize - maximum body size in bytes (default unlimited); checked against
 *   `declaredLength` first, then chunk by chunk while reading, so an oversized body is refused
 *   without being buffered.
 * @param owner - when given, told as a live input's read begins (not when refused by
 *   `declaredLength` before reading), then of the outcome before the promise settles: the
 *   bytes once read, or the error of a read that failed after it began.
 * @param refuse - makes the 413 of a body past `maxBodySize`; default `bodyTooLarge` (forms/limits.ts).
 * @throws (rejects with) HTTPContentTooLarge (413) past the limit; HTTPBadRequest (400) when the client goes
 *   away or the stream breaks off mid-body (see {@link isInputError}), the stream error as its
 *   `cause`; an HTTPException the input itself throws, unchanged; the error of a
 *   {@link FailedInput}, unchanged; any other error (a bug in an input wrapper, a TypeError)
 *   unchanged, so it is logged and answered 500. Throws (synchronously) what `owner.begin()`
 *   throws.
 */
export function readInput(
  input: AsyncIterable<Uint8Array>,
  maxBodySize = Infinity,
  declaredLength: number | null = null,
  owner?: InputOwner,
  refuse: (maxBodySize: number) => HTTPContentTooLargeError = bodyTooLarge,
): Promise<Uint8Array> {
  // Not an `async` function: a Node stream's read is handed over as the promise it is, without
  // a frame and a promise more (they cost more than the rest of a small body's read).
  if (input instanceof BufferedInput) {
    if (input.bytes.byteLength > maxBodySize) return Promise.reject(refuse(maxBodySize));
    return Promise.resolve(input.bytes);
  }
  if (input instanceof FailedInput) return Promise.reject(input.error);
  if (declaredLength !== null && declaredLength > maxBodySize) return Promise.reject(refuse(maxBodySize));
  owner?.begin();
  const stream = nodeReadableOf(input);
  // A `readable` listener (an iteration of the input a layer began and left open) keeps the
  // stream out of flowing mode: `data` would never come. Read it by `read()` then, as it does.
  if (stream !== undefined && !readsPaused(stream)) return readEventStream(stream, maxBodySize, owner, refuse, readTimeoutOf(input));
  return readIterable(input, maxBodySize, owner, refuse);
}

/**
 * True when `stream` has a `readable` listener (an iteration begun and left open: Node's
 * `readable` event takes precedence over `data`, and `resume()` then does nothing), so
 * {@link readEventStream} would wait for ever.
 */
function readsPaused(stream: NodeReadable): boolean {
  return typeof stream.listenerCount === 'function' && stream.listenerCount('readable') > 0;
}

/** {@link readInput} for any other async iterable (and a stream {@link readsPaused}), chunk by chunk. */
async function readIterable(
  input: AsyncIterable<Uint8Array>,
  maxBodySize: number,
  owner: InputOwner | undefined,
  refuse: (maxBodySize: number) => HTTPContentTooLargeError,
): Promise<Uint8Array> {
  const chunks = new ByteList();
  let total = 0;
  try {
    for await (const chunk of input) {
      total += chunk.byteLength;
      if (total > maxBodySize) throw refuse(maxBodySize);
      chunks.push(chunk);
    }
  } catch (error) {
    const failure = inputFailure(error);
    owner?.spoil(failure);
    throw failure;
  }
  const bytes = chunks.bytes();
  owner?.keep(bytes);
  return bytes;
}

/**
 * {@link readInput} for a Node.js readable stream, by its `data`, `end`, `error` and `close`
 * events (one listener for the four): the same answers as iterating it, without an async
 * iterator's promise per chunk and its set-up per stream (a small JSON body costs a few µs
 * less). Past `maxBodySize` the stream is paused, not destroyed: the server then closes the
 * connection after the 413 (src/adapters/node/linger.ts). With `timeout` (the server's
 * `bodyTimeout`, see `ReadableInput`), the read fails with its error (a 408) when no chunk
 * comes within `timeout.ms` of the read's start or of the chunk before: the whole read waits
 * for the client, so the clock runs from its start; the stream is paused as past the limit.
 */
function readEventStream(
  stream: NodeReadable,
  maxBodySize: number,
  owner: InputOwner | undefined,
  refuse: (maxBodySize: number) => HTTPContentTooLargeError,
  timeout: ReadTimeout | undefined,
): Promise<Uint8Array> {
  if (stream.errored) return spoiled(owner, inputFailure(stream.errored));
  if (isDiscarded(stream)) return spoiled(owner, discardedBody());
  if (stream.readableEnded) return kept(owner, new Uint8Array(0));
  if (stream.destroyed) return spoiled(owner, wasDiscarded(stream) ? discardedBody() : inputFailure(prematureClose()));
  return new Promise((resolve, reject) => {
    // Tiny chunks copied together (`ByteList`): a body of 1-byte chunks would cost ~200 bytes a byte.
    const chunks = new ByteList();
    let total = 0;
    // The whole read waits for the client: watched from its start (below), as the read it is.
    let timed: EventRead | undefined;
    const fail = (error: unknown) => {
      unlisten(stream, listener);
      if (timed !== undefined) timeout!.done(timed);
      owner?.spoil(error);
      reject(error);
    };
    // `data` passes a chunk, `error` an error; `end` and `close` pass nothing, and only `end`
    // comes after the stream has ended (Node marks it ended before emitting `end`).
    const listener = (value?: unknown) => {
      if (value instanceof Uint8Array) {
        if (timed !== undefined) timeout!.wait(timed); // the clock starts over
        total += value.byteLength;
        if (total <= maxBodySize) {
          chunks.push(value);
          return;
        }
        stream.pause();
        fail(refuse(maxBodySize));
        return;
      }
      if (value !== undefined) fail(inputFailure(value));
      else if (!stream.readableEnded) fail(inputFailure(prematureClose())); // destroyed before its end
      else {
        unlisten(stream, listener);
        if (timed !== undefined) timeout!.done(timed);
        const bytes = chunks.bytes();
        owner?.keep(bytes);
        resolve(bytes);
      }
    };
    stream.on('data', listener);
    stream.on('end', listener);
    stream.on('error', listener);
    stream.on('close', listener);
    if (timeout !== undefined) timeout.wait((timed = new EventRead(stream, fail)));
    stream.resume();
  });
}

/** A {@link readEventStream} as its `ReadTimeout` watches it: past the limit, the stream is paused and the read fails. */
class EventRead implements TimedRead {
  [waitPrevious]: TimedRead | undefined = undefined;
  [waitNext]: TimedRead | undefined = undefined;
  [waitSince] = -1;
  readonly #stream: NodeReadable;
  readonly #fail: (error: object) => void;

  constructor(stream: NodeReadable, fail: (error: object) => void) {
    this.#stream = stream;
    this.#fail = fail;
  }

  [expireRead](error: object): void {
    this.#stream.pause();
    this.#fail(error);
  }
}

/** A resolution with `bytes`, told to `owner` first. */
function kept(owner: InputOwner | undefined, bytes: Uint8Array): Promise<Uint8Array> {
  owner?.keep(bytes);
  return Promise.resolve(bytes);
}

/** A rejection with `error`, told to `owner` first. */
function spoiled(owner: InputOwner | undefined, error: unknown): Promise<never> {
  owner?.spoil(error);
  return Promise.reject(error);
}

/** Removes {@link readEventStream}'s listener from the four events. */
function unlisten(stream: NodeReadable, listener: (value?: unknown) => void): void {
  stream.removeListener('data', listener);
  stream.removeListener('end', listener);
  stream.removeListener('error', listener);
  stream.removeListener('close', listener);
}

/**
 * A request stream's error as {@link readInput} throws it: an {@link isInputError} (the client
 * broke off or sent a malformed body) becomes a `400 Bad Request` whose `cause` it is; anything
 * else (the `413` of `maxBodySize`, a programming error) is answered as it is.
 */
export function inputFailure(error: unknown): unknown {
  if (isInputError(error)) {
    return new HTTPBadRequest('The request body could not be read completely.', { cause: error });
  }
  return error;
}

/** Error codes of a request stream that broke off: the client's doing, not the app's. */
const INPUT_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET', // Node's 'aborted' request, a reset socket
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ERR_STREAM_PREMATURE_CLOSE', // the stream closed before its end
  'ABORT_ERR', // an AbortSignal fired
]);

/**
 * True for an error that says the request body stream broke off: Node's `aborted` request
 * (code `ECONNRESET`), a socket error (`ECONNABORTED`, `EPIPE`, `ETIMEDOUT`), a stream closed
 * before its end (`ERR_STREAM_PREMATURE_CLOSE`), an HTTP parse error in the body (`HPE_*`), or
 * an abort (`AbortError`, `TimeoutError`). Programming errors (a TypeError in an input
 * wrapper) and anything else are not.
 */
export function isInputError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (INPUT_ERROR_CODES.has(code) || code.startsWith('HPE_'))) return true;
  return error.name === 'AbortError' || error.name === 'TimeoutError' || error.message === 'aborted';
}

/**
 * True for an error that is the app stopping on `signal` as asked once it aborted: an
 * `AbortError` or `TimeoutError`, or the signal's own reason thrown on (`fetch(url, { signal })`
 * and `signal.throwIfAborted()` reject with it, whatever it is: `@hono/node-server`'s is a
 * string, `'Error: aborted'`); or a broken-off body's error (`isInputError`) once it aborted
 * because the client left: not when a `timeout` above gave up (its `TimeoutError` reason),
 * where an upstream's `ECONNRESET` is still the app's failure. Shared by `errors` (which
 * logs no 500 for it), `accessLog` (which logs it as the client's `close`, 499) and
 * `toFetchHandler` (which logs nothing for it).
 */
export function stoppedWithClient(signal: AbortSignal | null | undefined, error: unknown): boolean {
  if (signal?.aborted !== true) return false;
  if (isAbort(error) || error === signal.reason) return true;
  return isInputError(error) && (signal.reason as { name?: unknown } | undefined)?.name !== 'TimeoutError';
}

/** The 413 a body reader throws: an `HTTPContentTooLarge`. */
export type HTTPContentTooLargeError = InstanceType<typeof HTTPContentTooLarge>;
