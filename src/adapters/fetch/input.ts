/**
 * A fetch `Request`'s body as `toFetchHandler`'s `tsgi.input`.
 *
 * @module
 */
import { refuseDropped } from '../../gateway/stream.ts';

type Step = IteratorResult<Uint8Array, undefined>;

/**
 * The body stream of a fetch `Request` as `tsgi.input`: each iteration reads on from where the
 * stream is, as the Node adapter's `ReadableInput` does (docs/spec.md §3), so a loop left with
 * `break` and a second loop over it give the rest of the body, never an end that looks like a
 * complete body. An iteration takes the stream's reader at its first `next()` and releases it,
 * without cancelling the stream, once it ends, fails or is returned; one over a stream that
 * ended ends at once, one over a stream that failed throws its error again. A stream an
 * iteration returned part-way (a `break`) and none read on to its end since is
 * {@link wasLeftPartWay}: the adapter drains its rest after the app, as a body never read
 * (`drainUnread`).
 *
 * @param readFailure - maps an error of the stream's `read()` to the one the iteration throws
 *   (a runtime's own error for a client gone becomes an input error), told the `owner` too
 *   (the request's environ: the client gone is told to the layers watching for it).
 */
export class FetchInput<O = unknown> implements AsyncIterable<Uint8Array> {
  readonly #stream: ReadableStream<Uint8Array>;
  readonly #readFailure: (error: unknown, owner: O) => unknown;
  readonly #owner: O;

  constructor(stream: ReadableStream<Uint8Array>, readFailure: (error: unknown, owner: O) => unknown, owner: O) {
    this.#stream = stream;
    this.#readFailure = readFailure;
    this.#owner = owner;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array, undefined> {
    return readOn(this.#stream, this.#readFailure, this.#owner);
  }

  get [Symbol.toStringTag](): string {
    return 'FetchInput';
  }
}

/** The request body streams an iteration of a {@link FetchInput} left part-way, not read on to their end or failure since. */
const leftPartWay = new WeakSet<ReadableStream<Uint8Array>>();

/**
 * True when an iteration of a {@link FetchInput} over `stream` was returned (a `break`) after
 * it began reading and before the stream's end, and no iteration read it on to its end or a
 * failure since: the rest of the body is still unread.
 */
export function wasLeftPartWay(stream: ReadableStream<Uint8Array>): boolean {
  return leftPartWay.has(stream);
}

/** One iteration of a {@link FetchInput}: see there. */
function readOn<O>(stream: ReadableStream<Uint8Array>, readFailure: (error: unknown, owner: O) => unknown, owner: O): AsyncIterator<Uint8Array, undefined> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let over = false;
  /** Stops the iteration; `left`: returned before the stream's end (see {@link wasLeftPartWay}). */
  const finish = (left = false): void => {
    if (reader !== undefined) {
      if (left) leftPartWay.add(stream);
      else leftPartWay.delete(stream);
    }
    over = true;
    reader?.releaseLock();
    reader = undefined;
  };
  return {
    async next(): Promise<Step> {
      if (over) return { done: true, value: undefined };
      if (reader === undefined) {
        refuseDropped(stream);
        reader = stream.getReader();
      }
      let step: Awaited<ReturnType<typeof reader.read>>;
      try {
        step = await reader.read();
      } catch (error) {
        finish();
        throw readFailure(error, owner);
      }
      if (step.done) {
        finish();
        return { done: true, value: undefined };
      }
      return step;
    },
    async return(): Promise<Step> {
      finish(true);
      return { done: true, value: undefined };
    },
  };
}
