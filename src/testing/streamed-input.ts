/**
 * A test client request body produced as the app reads it: a `ReadableStream` or an async
 * iterable (an async generator), given as `body`.
 *
 * @module
 */
import { discardedBody } from '../gateway/readable-input.ts';

/**
 * A request body the test client streams into `tsgi.input`: a `ReadableStream` of bytes (as
 * `fetch()` takes with `duplex: 'half'`, Hono's `app.request()`), or any `AsyncIterable` of
 * `Uint8Array` (an async generator, a Node.js readable stream). It is read once.
 */
export type StreamedBody = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** True for a body the client streams ({@link StreamedBody}), not one it holds whole. */
export function isStreamedBody(body: unknown): body is StreamedBody {
  if (typeof body !== 'object' || body === null || body instanceof Uint8Array) return false;
  return typeof (body as ReadableStream).getReader === 'function' || typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** The errors a {@link StreamedInput} failed with because its body broke off (see {@link isBrokenBody}). */
const BROKEN = new WeakSet<Error>();

/**
 * The error of a body that broke off, as Node's request stream reports a client that reset the
 * connection mid-body (`aborted`, code `ECONNRESET`): the body readers answer it 400.
 */
function brokenBody(message: string, cause?: unknown): Error {
  const error = Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code: 'ECONNRESET' });
  BROKEN.add(error);
  return error;
}

/**
 * True for the error a {@link StreamedInput} threw because its body broke off (its producer
 * threw, or it broke its `Content-Length`): a raw app that lets it propagate is answered 400,
 * as `serve()` answers the request stream's own error, and it is not logged as the app's.
 */
export function isBrokenBody(error: unknown): boolean {
  return error instanceof Error && BROKEN.has(error);
}

type Step = IteratorResult<Uint8Array, undefined>;

/** How a {@link StreamedInput} pulls its producer: one chunk per `next()`, `close()` to stop it. */
interface Producer {
  next(): Promise<IteratorResult<unknown>>;
  close(): Promise<unknown>;
}

/** The {@link Producer} of `body`: a `ReadableStream`'s reader (locked now), an async iterable's iterator. */
function producerOf(body: StreamedBody): Producer {
  if (typeof (body as ReadableStream).getReader === 'function') {
    // Throws a TypeError at once for a stream already locked (read elsewhere), as fetch() does.
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    return { next: () => reader.read() as Promise<IteratorResult<unknown>>, close: () => reader.cancel() };
  }
  const iterator = (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  return { next: () => iterator.next(), close: async () => iterator.return?.() };
}

/** `value`'s kind, for a message. */
const kind = (value: unknown) => (value === null ? 'null' : typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value);

/**
 * The `tsgi.input` of a streamed body: each `next()` of a reader pulls one chunk from the
 * producer (backpressure: nothing is read ahead, as a socket whose reader stops), empty chunks
 * skipped. As the server's input, it is read once: every iteration reads on from where the
 * body is, a `break` leaves the rest for the next reader, and a `next()` asked while another
 * waits is answered after it.
 *
 * The body fails as a broken-off one does on the server (the readers answer `400 Bad Request`,
 * "The request body could not be read completely"), with an error of code `ECONNRESET` whose
 * message says why: the producer threw (its error is the `cause`), it ended short of the
 * declared `Content-Length`, or went past it (the client, as undici's, gives up and resets the
 * connection); or the call was over first ({@link StreamedInput.close}: a body not begun fails
 * as discarded instead). A chunk that is no `Uint8Array` fails the read with a `TypeError` (the test's
 * mistake: answered 500 and logged). Once failed, every read throws the same error.
 */
export class StreamedInput implements AsyncIterable<Uint8Array> {
  readonly #producer: Producer;
  /** The declared `Content-Length`, or -1. */
  readonly #declared: number;
  /** The bytes handed over so far. */
  #received = 0;
  #state: 'open' | 'done' | 'failed' = 'open';
  #error: unknown = undefined;
  /** The pull under way, while one is. */
  #pulling: Promise<Step> | undefined = undefined;

  /**
   * @param body - the producer.
   * @param declared - the `Content-Length` sent, in bytes; -1 for none (chunked).
   * @throws TypeError for a `ReadableStream` already locked.
   */
  constructor(body: StreamedBody, declared: number) {
    this.#producer = producerOf(body);
    this.#declared = declared;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const iterator: AsyncIterableIterator<Uint8Array> = {
      next: () => this.#next(),
      // A reader that stops leaves the body where it is, for the next reader (spec §3).
      return: () => Promise.resolve({ done: true, value: undefined }),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** True while a pull of the producer is under way. */
  get pulling(): boolean {
    return this.#pulling !== undefined;
  }

  /**
   * Stops the producer when its body is not over (`return()` of its iterator, `cancel()` of
   * its stream), as the connection the server closes after the answer: a generator's `finally`
   * runs. What that throws is ignored. Settles once the producer has stopped; not to be waited
   * for while a pull is under way (a generator takes its `return()` only after its pending step).
   *
   * The body is then failed, never ended, as `serve()` leaves one after the answer (spec §3): a
   * read begun later, of a body nobody had begun, throws the server's `discardedBody()` error; a
   * read under way (the pull waiting now) or one of a body read in part throws a broken-off
   * body's error (the readers' 400), not an end that would make the part read look whole.
   */
  async close(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'failed';
    this.#error = this.#received === 0 && this.#pulling === undefined ? discardedBody() : brokenBody('the request body was cut off: the call was over before the app read it whole');
    try {
      await this.#producer.close();
    } catch {
      // The body is no one's any more: nothing to tell.
    }
  }

  #next(): Promise<Step> {
    const pulling = this.#pulling;
    if (pulling !== undefined) return pulling.then(() => this.#next(), () => this.#next());
    if (this.#state === 'failed') return Promise.reject(this.#error);
    if (this.#state === 'done') return Promise.resolve({ done: true, value: undefined });
    const pull = this.#pull();
    this.#pulling = pull;
    const clear = () => {
      if (this.#pulling === pull) this.#pulling = undefined;
    };
    pull.then(clear, clear);
    return pull;
  }

  async #pull(): Promise<Step> {
    for (;;) {
      let step: IteratorResult<unknown>;
      try {
        step = await this.#producer.next();
      } catch (error) {
        throw this.#fail(brokenBody(`the request body broke off: its producer threw: ${error instanceof Error ? error.message : String(error)}`, error));
      }
      if (this.#state !== 'open') throw this.#error; // closed meanwhile: failed by close()
      if (step.done) {
        if (this.#declared !== -1 && this.#received < this.#declared) {
          throw this.#fail(brokenBody(`the request body ended after ${this.#received} of the ${this.#declared} bytes its Content-Length declared`));
        }
        this.#state = 'done';
        return { done: true, value: undefined };
      }
      const chunk = step.value;
      if (!(chunk instanceof Uint8Array)) {
        throw this.#fail(new TypeError(`a streamed request body must yield Uint8Array chunks; its producer yielded ${kind(chunk)}`));
      }
      if (chunk.byteLength === 0) continue;
      this.#received += chunk.byteLength;
      if (this.#declared !== -1 && this.#received > this.#declared) {
        throw this.#fail(brokenBody(`the request body went on past the ${this.#declared} bytes its Content-Length declared`));
      }
      return { done: false, value: chunk };
    }
  }

  /** Fails the input with `error` (every read throws it from now on) and stops the producer. */
  #fail(error: unknown): unknown {
    this.#state = 'failed';
    this.#error = error;
    void this.#producer.close().catch(() => undefined);
    return error;
  }
}
