/**
 * A Node.js readable stream (node:http's `IncomingMessage`, `Http2ServerRequest`) as a
 * request's `tsgi.input`: {@link ReadableInput}, and {@link readableChunks}, the iterator it
 * and the body readers use in place of Node's own stream iterator.
 *
 * Node's `Readable.prototype[Symbol.asyncIterator]` is an async generator that sets up
 * `stream.finished()` (a handful of listeners) for every stream and destroys the stream when
 * the reader stops. On a small POST that set-up is about a tenth of the server's CPU per
 * request (bench/history.md, 2026-12-03). {@link readableChunks} pulls the same way
 * (`read()` when the stream says `readable`), with one listener per event, and never destroys
 * the stream: the server still answers on its connection, and discards what was left unread
 * (src/adapters/node/linger.ts).
 *
 * @module
 */
import { type ReadTimeout, type TimedRead, expireRead, waitNext, waitPrevious, waitSince } from './read-timeout.ts';

/** The parts of a Node.js readable stream that tsgi's input readers use. */
export interface NodeReadable {
  read(): unknown;
  on(event: string, listener: (value?: unknown) => void): unknown;
  removeListener(event: string, listener: (value?: unknown) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  readonly readableEnded: boolean;
  readonly destroyed: boolean;
  readonly errored?: unknown;
  /** True once a byte of the stream was read (Node's `readableDidRead`); absent on older streams. */
  readonly readableDidRead?: boolean;
  /** How many listeners `event` has (Node's `listenerCount`). */
  listenerCount?(event: string): number;
}

/** True for a Node.js readable stream, by the members {@link NodeReadable} lists. */
export function isNodeReadable(value: unknown): value is NodeReadable {
  const stream = value as Partial<NodeReadable> | null;
  return (
    typeof stream === 'object' &&
    stream !== null &&
    typeof stream.readableEnded === 'boolean' &&
    typeof stream.read === 'function' &&
    typeof stream.on === 'function' &&
    typeof stream.removeListener === 'function' &&
    typeof stream.resume === 'function' &&
    typeof stream.pause === 'function'
  );
}

/** Makes what an iteration throws of its stream's error (see {@link readableChunks}). */
export type Failure = (error: unknown) => unknown;

/** The {@link ReadTimeout} of `input`, a {@link ReadableInput}'s; `undefined` for any other input. */
export function readTimeoutOf(input: AsyncIterable<Uint8Array>): ReadTimeout | undefined {
  return input instanceof ReadableInput ? input.timeout : undefined;
}

/**
 * How an iteration that held an {@link IterationClaim} stopped, as far as a later reader of the
 * body is concerned: `'ended'`, at the body's end, having taken bytes of it (the body is gone,
 * not kept); `'left'`, returned (a `break`) before the end or a failure (the rest of the body
 * is no whole body); `'untouched'`, failed (the failure is left for later readers by other
 * means) or ended without a byte (an empty body: nothing was taken from it).
 */
export type ClaimEnd = 'ended' | 'left' | 'untouched';

/**
 * A claim on the body an iteration reads (`InputClaim`, `claimInput`: one reader of a live
 * body at a time): `take()` at the iteration's first `next()`, which rejects with what it
 * throws; `release()` once the iteration that took it ends, fails or is returned.
 */
export interface IterationClaim {
  /**
   * Claims the body for the iteration.
   *
   * @throws the `Error` of a body another reader is reading now.
   */
  take(): void;
  /**
   * Gives the claim back: called once, by the iteration that took it.
   *
   * @param end - how the iteration stopped (see {@link ClaimEnd}).
   */
  release(end: ClaimEnd): void;
}

/**
 * The method of an input read by {@link readableChunks} (the Node adapter's `tsgi.input`,
 * `Expect: 100-continue`'s) that answers the same body read the same way, but whose
 * iterations throw `failure(error)` for the stream's error and, given a `claim`, hold it
 * while they read: a reader's own failure (`req.stream()`'s 400) and claim at no cost per
 * chunk, where a wrapper around `next()` adds a promise.
 */
export const withFailure: unique symbol = Symbol('tsgi.withFailure');

/** An input that has {@link withFailure}. */
export interface FailureAware {
  [withFailure](failure: Failure, claim?: IterationClaim): AsyncIterable<Uint8Array>;
}

/** True when `input` has {@link withFailure}. */
export function isFailureAware(input: AsyncIterable<Uint8Array>): input is AsyncIterable<Uint8Array> & FailureAware {
  return typeof (input as Partial<FailureAware>)[withFailure] === 'function';
}

/**
 * The Node adapter's `tsgi.input`: the request stream as an async iterable of its body bytes.
 * Each iteration reads on from where the stream is (a live input is read once, spec §3). The
 * stream is never destroyed by a reader that stops early.
 */
export class ReadableInput implements AsyncIterable<Uint8Array> {
  /** The request stream. */
  readonly stream: NodeReadable;
  /** How long a read may wait for the next chunk; `undefined`: as long as it takes (see {@link readableChunks}). */
  readonly timeout: ReadTimeout | undefined;
  /** What its iterations throw for the stream's error (see {@link readableChunks}). */
  readonly #failure: Failure | undefined;
  /** What its iterations hold while they read (see {@link readableChunks}). */
  readonly #claim: IterationClaim | undefined;

  /**
   * @param failure - what an iteration throws when the stream fails, made of the stream's
   *   error (`req.stream()`'s 400); default the error itself.
   * @param timeout - how long a read may wait for the next chunk (the server's `bodyTimeout`);
   *   default no limit. `readInput` and `openInput` keep to it too.
   * @param claim - what an iteration holds while it reads (`req.stream()`'s); default none.
   */
  constructor(stream: NodeReadable, failure?: Failure, timeout?: ReadTimeout, claim?: IterationClaim) {
    this.stream = stream;
    this.timeout = timeout;
    this.#failure = failure;
    this.#claim = claim;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return readableChunks(this.stream, this.#failure, this.timeout, this.#claim);
  }

  [withFailure](failure: Failure, claim?: IterationClaim): ReadableInput {
    return new ReadableInput(this.stream, failure, this.timeout, claim);
  }

  get [Symbol.toStringTag](): string {
    return 'ReadableInput';
  }
}

/**
 * The Node.js readable stream behind `input`: a {@link ReadableInput}'s, or `input` itself
 * when it is one (an app may put a stream in `tsgi.input`); `undefined` for any other input.
 */
export function nodeReadableOf(input: AsyncIterable<Uint8Array>): NodeReadable | undefined {
  if (input instanceof ReadableInput) return input.stream;
  return isNodeReadable(input) ? input : undefined;
}

/**
 * Iterates the chunks of `stream` as they arrive, pulling each with `read()` (so the stream
 * takes from the socket only what is asked for: backpressure). The iteration:
 *
 * - ends on the stream's `end`;
 * - throws the stream's error, or, when it closes before its end (a client gone), an error
 *   with code `ERR_STREAM_PREMATURE_CLOSE` as Node's `finished()` reports it;
 * - on `return()` (a `break`), stops listening to the stream and leaves it as it is: not
 *   destroyed, not resumed. A `next()` still waiting then answers `done`.
 *
 * Like Node's own iterator, it touches the stream only from the first `next()`: an iterator
 * made and never read (a fetch `Request` body nobody reads) leaves the stream untouched, so
 * the server can still drain a small unread body and keep the connection.
 *
 * With `failure`, the iteration throws `failure(error)` instead of the stream's error (or the
 * premature close's), calling it once, when the stream fails; the `next()`s after it throw the
 * same. It costs nothing per chunk, as a wrapper around the iterator would.
 *
 * With `timeout`, a `next()` that has to wait for data (none buffered) fails when none came
 * within `timeout.ms`: it throws `failure(error)` with the timeout's error (see `isReadTimeout`), the
 * iteration stops listening and the stream is left as it is, for the server to answer and
 * close the connection. The clock runs only while a `next()` waits: from the moment it finds
 * nothing to read until a chunk, the end or an error arrives (nginx's `client_body_timeout`,
 * "only for a period between two successive read operations"); not before the first `next()`,
 * nor while the reader works on a chunk. The timeout watches the wait (`ReadTimeout.wait`):
 * no timer of its own per iteration.
 *
 * With `claim`, the first `next()` that finds the stream still to be read takes it first
 * (`claim.take()`): when that throws (another reader is reading the body), the iteration
 * fails with its error, without listening to the stream or calling `failure`. The iteration
 * that took it releases it once it ends, fails, times out or is returned (telling the claim
 * how: see {@link ClaimEnd}).
 *
 * With `onFirstRead`, it is called at the first `next()`, before the stream is looked at (not
 * when the iterator is made, nor on a `return()` before any `next()`): `Expect: 100-continue`'s
 * `100 Continue`, which a reader that makes the iterator and never reads (a fetch `Request`
 * body the handler leaves alone) must not send.
 */
export function readableChunks(
  stream: NodeReadable,
  failure?: Failure,
  timeout?: ReadTimeout,
  claim?: IterationClaim,
  onFirstRead?: () => void,
): AsyncIterator<Uint8Array> {
  return new ReadableIterator(stream, failure, timeout, claim, onFirstRead);
}

type Step = IteratorResult<Uint8Array, undefined>;

const done = (): Promise<Step> => Promise.resolve({ done: true, value: undefined });

/** See {@link readableChunks}. */
class ReadableIterator implements AsyncIterator<Uint8Array, undefined>, TimedRead {
  readonly #stream: NodeReadable;
  readonly #failure: Failure | undefined;
  readonly #timeout: ReadTimeout | undefined;
  /** Held while `open` (see {@link readableChunks}). */
  readonly #claim: IterationClaim | undefined;
  /** Called at the first `next()` (see {@link readableChunks}). */
  readonly #onFirstRead: (() => void) | undefined;
  /** `idle` until the first `next()`; `open` while listening; then `done`, or `failed` with {@link #error}. */
  #state: 'idle' | 'open' | 'done' | 'failed' = 'idle';
  #error: unknown = undefined;
  /** The `next()` waiting for the stream, while one does. */
  #waiting: Promise<Step> | undefined = undefined;
  #resolve: ((step: Step) => void) | undefined = undefined;
  #reject: ((error: unknown) => void) | undefined = undefined;
  // The timeout's list of waiting reads (see `TimedRead`).
  [waitPrevious]: TimedRead | undefined = undefined;
  [waitNext]: TimedRead | undefined = undefined;
  [waitSince] = -1;

  constructor(
    stream: NodeReadable,
    failure: Failure | undefined,
    timeout: ReadTimeout | undefined,
    claim: IterationClaim | undefined,
    onFirstRead: (() => void) | undefined,
  ) {
    this.#stream = stream;
    this.#failure = failure;
    this.#timeout = timeout;
    this.#claim = claim;
    this.#onFirstRead = onFirstRead;
  }

  /** At the first `next()`: starts listening, unless the stream is already over. */
  #open(): void {
    this.#onFirstRead?.();
    const stream = this.#stream;
    if (stream.errored) this.#fail(stream.errored);
    else if (isDiscarded(stream)) this.#fail(discardedBody());
    else if (stream.readableEnded) this.#state = 'done';
    else if (stream.destroyed) this.#fail(wasDiscarded(stream) ? discardedBody() : brokeOff());
    else {
      if (this.#claim !== undefined) {
        try {
          this.#claim.take();
        } catch (error) {
          // Refused, not failed: the body is another reader's, and its input stays as it is.
          this.#state = 'failed';
          this.#error = error;
          return;
        }
      }
      this.#state = 'open';
      stream.on('readable', this.#onReadable);
      stream.on('end', this.#onEnd);
      stream.on('error', this.#onEnd);
      stream.on('close', this.#onEnd);
    }
  }

  next(): Promise<Step> {
    const waiting = this.#waiting;
    // A `next()` asked while another waits: answered after it, in order.
    if (waiting !== undefined) return this.#after(waiting);
    if (this.#state === 'idle') this.#open();
    if (this.#state === 'failed') return Promise.reject(this.#error);
    if (this.#state === 'done') return done();
    const chunk = this.#stream.read() as Uint8Array | null;
    if (chunk !== null) return Promise.resolve({ done: false, value: chunk });
    return this.#wait();
  }

  /**
   * {@link next} with nothing buffered: a promise the stream's events settle. A method of its
   * own: its executor captures `this`, and V8 would allocate that context at every `next()`,
   * the ones answered at once included.
   */
  #wait(): Promise<Step> {
    const wait = (this.#waiting = new Promise<Step>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    }));
    this.#timeout?.wait(this);
    return wait;
  }

  /**
   * A `next()` asked while `waiting` has not settled: answered after it, in order. A method of
   * its own, so its closure is made only on this path, not by every iterator or `next()`.
   */
  #after(waiting: Promise<Step>): Promise<Step> {
    const next = (): Promise<Step> => this.next();
    return waiting.then(next, next);
  }

  /** The wait of a `next()` went past the timeout: it fails with `error` (see `ReadTimeout`). */
  [expireRead](error: object): void {
    if (this.#resolve !== undefined && this.#state === 'open') this.#settle('failed', error);
  }

  return(): Promise<Step> {
    if (this.#state === 'idle') this.#state = 'done';
    else if (this.#state === 'open') this.#settle('done', undefined, true);
    return done();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** `await using`: stops the iteration as `return()` does. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  /** Fails before listening: the stream was already errored or closed. */
  #fail(error: unknown): void {
    this.#state = 'failed';
    this.#error = this.#failure === undefined ? error : this.#failure(error);
  }

  /** More to read: the waiting `next()` takes it. */
  #onReadable = (): void => {
    if (this.#resolve === undefined) return;
    const chunk = this.#stream.read() as Uint8Array | null;
    if (chunk === null) return; // the end, or a read still under way: the next event tells
    this.#timeout?.done(this);
    const resolve = this.#resolve;
    this.#clearWaiting();
    resolve({ done: false, value: chunk });
  };

  /**
   * `end` and `close` pass nothing, `error` its error. Node marks the stream ended before it
   * emits `end`, so a `close` that finds it not ended came first: the body broke off.
   */
  #onEnd = (error?: unknown): void => {
    if (error !== undefined) this.#settle('failed', error);
    else if (this.#stream.readableEnded) this.#settle('done', undefined);
    else this.#settle('failed', brokeOff());
  };

  /** Stops listening and answers the waiting `next()`, if any; `left`: returned before the end. */
  #settle(state: 'done' | 'failed', error: unknown, left = false): void {
    const stream = this.#stream;
    this.#timeout?.done(this);
    if (this.#state === 'open') {
      stream.removeListener('readable', this.#onReadable);
      stream.removeListener('end', this.#onEnd);
      stream.removeListener('error', this.#onEnd);
      stream.removeListener('close', this.#onEnd);
      // The stream's own record of a byte read: nothing to count per chunk.
      this.#claim?.release(left ? 'left' : state === 'failed' || stream.readableDidRead === false ? 'untouched' : 'ended');
    }
    this.#state = state;
    this.#error = state === 'failed' && this.#failure !== undefined ? this.#failure(error) : error;
    const resolve = this.#resolve;
    const reject = this.#reject;
    this.#clearWaiting();
    if (state === 'failed') reject?.(this.#error);
    else resolve?.({ done: true, value: undefined });
  }

  #clearWaiting(): void {
    this.#waiting = undefined;
    this.#resolve = undefined;
    this.#reject = undefined;
  }
}

/**
 * The message of a read begun after Node discarded the body (see {@link isDiscarded}): the app's
 * mistake, not the client's, so a plain `Error` (a logged 500 where it still has an answer).
 */
const DISCARDED =
  'The request body was discarded once the response was sent, as the server does with a body nobody read: ' +
  'read it before answering (const body = await req.bytes()) and hand the bytes to the work after the answer (res.callOnClose)';

/** What a read begun after Node discarded the body throws (see {@link isDiscarded}). */
export function discardedBody(): Error {
  return new Error(DISCARDED);
}

/** The Node internals {@link isDiscarded} reads (an `IncomingMessage`'s), each optional. */
interface DumpedRequest {
  /** True once Node drains the body into the void (`_dump()`: after the response, for a body nobody read). */
  _dumped?: boolean | undefined;
  readonly headers?: Readonly<Record<string, string | string[] | undefined>> | undefined;
  /** True once the parser has the whole message (the last chunk of a chunked body). */
  readonly complete?: boolean | undefined;
  /** True once a byte of the body was read or emitted, by anyone (Node's drain too). */
  readonly readableDidRead?: boolean | undefined;
  /** The bytes buffered, not read yet. */
  readonly readableLength?: number | undefined;
}

/**
 * True when Node has thrown away a request body nobody had begun to read (its `_dump()`, once
 * the response is sent, or the server's lingering close): a read begun now would find an empty
 * or cut body and take it for the client's, so it fails with {@link discardedBody} instead. A
 * request without a body (no `Content-Length` above 0, no `Transfer-Encoding`) is not, nor is
 * a chunked body that ended with no byte drained (its last chunk only: nothing was lost).
 */
export function isDiscarded(stream: NodeReadable): boolean {
  const request = stream as NodeReadable & DumpedRequest;
  if (request._dumped !== true) return false;
  const headers = request.headers;
  if (headers === undefined) return false;
  if (Number(headers['content-length']) > 0) return true;
  if (headers['transfer-encoding'] === undefined) return false;
  return !(request.complete === true && request.readableDidRead === false && request.readableLength === 0);
}

/** The request streams a server destroyed after the answer, their body unread (see {@link markDiscarded}). */
const discarded = new WeakSet<object>();

/**
 * Marks `stream` as ended by the server because the response was sent while its body was not
 * read whole (HTTP/2, where Node drains nothing: src/adapters/node/http2-compat.ts), before it
 * destroys it. A read begun afterwards then fails with {@link discardedBody}, as on HTTP/1.1,
 * not as the client's premature close; a read already under way still sees the close. Costs
 * nothing to a read of a stream that is not destroyed.
 */
export function markDiscarded(stream: object): void {
  discarded.add(stream);
}

/** True when `stream` was marked by {@link markDiscarded}. */
export function wasDiscarded(stream: object): boolean {
  return discarded.has(stream);
}

/** The error of a stream that closed before its end, as Node's `finished()` reports it. */
export function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/** The errors {@link readableChunks} threw for a stream that closed before its end. */
const brokenOff = new WeakSet<Error>();

/**
 * {@link prematureClose}, remembered as a body that broke off: see {@link isBrokenOff}. Also the
 * fetch adapter's, for a runtime's own error of a request body whose client hung up (Deno's
 * `BadResource`, workerd's `Network connection lost.`).
 */
export function brokeOff(): Error {
  const error = prematureClose();
  brokenOff.add(error);
  return error;
}

/**
 * True for the error {@link readableChunks} threw because its stream closed before its end:
 * over HTTP/2 a client that reset its stream mid-body, whose request stream closes without an
 * error of its own (over HTTP/1 the stream's own `aborted` error is thrown: `req.errored`).
 * A raw app that lets it propagate reports the client's doing, not a failure of its own.
 */
export function isBrokenOff(error: unknown): boolean {
  return error instanceof Error && brokenOff.has(error);
}
