/**
 * Text chunks in a `Response`'s streamed body, encoded as UTF-8 as they are read (Werkzeug's
 * `Response.iter_encoded`): the gateway interface carries bytes only (PEP 3333), the `Response`
 * wrapper takes a stream of strings too (`Readable.from(['a', 'b'])`, a Node stream after
 * `setEncoding('utf8')`, an async generator of text).
 *
 * @module
 */
import type { Body } from '../gateway/types.ts';
import { type BodyIterator, isAsyncIterable, isThenable, openBody } from '../gateway/body.ts';
import { encodeText } from '../http/charset.ts';
import { isOneShot } from './body.ts';

/** A streamed body a `Response` is given: chunks of bytes or of text. */
export type TextOrBytesStream = Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>;

/**
 * The one body last marked {@link bytesOnly}, until a `Response` is given it (the mark is taken
 * at once: `res.body = bytesOnly(body)`). One slot, not a `WeakSet`: a set that took a body a
 * request grew until a full collection, some 50 MB of peak RSS under load.
 */
let marked: object | undefined;

/** Set on the wrappers {@link encodeTextChunks} makes: a wrapper given again is not wrapped twice. */
const ENCODED = Symbol('tsgi.encoded_text_chunks');

/**
 * @internal Marks `body` as yielding bytes only (an app's gateway body, a fetch body, an event
 * stream), so that the `Response` it is given next, at once (`res.body = bytesOnly(body)`,
 * `new Response(bytesOnly(body))`), streams it as it is. Answers `body`.
 */
export function bytesOnly<T extends object>(body: T): T {
  marked = body;
  return body;
}

/** True for a body {@link bytesOnly} just marked (the mark is taken) or a wrapper of ours. */
function knownBytes(body: object): boolean {
  if (body === marked) {
    marked = undefined;
    return true;
  }
  return (body as { [ENCODED]?: unknown })[ENCODED] === true;
}

type Step = IteratorResult<Uint8Array | string>;
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** The step with its string chunk as UTF-8: one `typeof` per chunk. */
function encodeStep(step: Step): IteratorResult<Uint8Array> {
  return !step.done && typeof step.value === 'string' ? { done: false, value: encodeText(step.value) } : (step as IteratorResult<Uint8Array>);
}

/**
 * @internal `body` as a {@link Body} whose string chunks are UTF-8 bytes. Left as it is: a body
 * marked {@link bytesOnly}, an array holding no string (one holding some is copied, each
 * string encoded, so it stays an array: re-iterable, sync), a Node stream in byte mode (neither
 * `objectMode` nor `setEncoding`: `fs.createReadStream(path)`). Any other iterable is wrapped
 * once: the wrapper stays sync for a sync body and async for an async one, is one-shot when
 * `body` is (see `isOneShot`), opens `body` as a server does (`openBody`: a Node stream is
 * destroyed, a web stream cancelled when closed early) at its first `next()` or `return()`, and
 * passes `return()` on. Chunks that are neither strings nor bytes are passed on, for the
 * server's chunk check to refuse.
 */
export function encodeTextChunks(body: TextOrBytesStream): Body {
  if (knownBytes(body)) return body as Body;
  if (Array.isArray(body)) {
    const chunks = body as ReadonlyArray<unknown>;
    for (let i = 0; i < chunks.length; i++) {
      if (typeof chunks[i] === 'string') return chunks.map((chunk) => (typeof chunk === 'string' ? encodeText(chunk) : chunk)) as Uint8Array[];
    }
    return body as Body;
  }
  const node = body as { pipe?: unknown; readableObjectMode?: unknown; readableEncoding?: unknown };
  if (typeof node.pipe === 'function' && node.readableObjectMode === false && node.readableEncoding === null) return body as Body;
  const async = isAsyncIterable(body);
  const wrapper = isOneShot(body as Body) ? encodedIterator(body, async) : reiterable(body, async);
  return wrapper;
}

/** An iterable that opens a new {@link encodedIterator} over `body` each time it is iterated. */
function reiterable(body: TextOrBytesStream, async: boolean): Body {
  const wrapper = async
    ? { [ENCODED]: true, [Symbol.asyncIterator]: () => encodedIterator(body, true) as AsyncIterableIterator<Uint8Array> }
    : { [ENCODED]: true, [Symbol.iterator]: () => encodedIterator(body, false) as IterableIterator<Uint8Array> };
  return wrapper;
}

/** One pass over `body`, string chunks encoded (see {@link encodeTextChunks}). */
function encodedIterator(body: TextOrBytesStream, async: boolean): IterableIterator<Uint8Array> | AsyncIterableIterator<Uint8Array> {
  return async ? new AsyncTextChunks(body) : new SyncTextChunks(body);
}

/**
 * One pass over a body, opened at its first `next()` or `return()` (see `openBody`). Classes,
 * not closures: one object a response, where four closures and their context made `/stream`'s
 * peak RSS 30–50 MB higher under load (V8's young generation grew; bench/history.md).
 */
abstract class TextChunks {
  readonly [ENCODED] = true;
  protected iterator: BodyIterator | undefined = undefined;
  protected readonly body: TextOrBytesStream;
  constructor(body: TextOrBytesStream) {
    this.body = body;
  }
  protected open(): BodyIterator {
    return (this.iterator ??= openBody(this.body as Body));
  }
  /** Closes `body`, opening it first (a stream is destroyed or cancelled unread); one that cannot be opened holds nothing. */
  protected close(value?: unknown): IteratorResult<Uint8Array> | PromiseLike<IteratorResult<Uint8Array>> {
    let iterator = this.iterator;
    if (iterator === undefined) {
      try {
        iterator = this.open();
      } catch {
        return DONE;
      }
    }
    return (iterator.return?.(value) ?? DONE) as IteratorResult<Uint8Array> | PromiseLike<IteratorResult<Uint8Array>>;
  }
}

/** {@link TextChunks} over an async body: each step a promise of bytes. */
class AsyncTextChunks extends TextChunks implements AsyncIterableIterator<Uint8Array> {
  next(): Promise<IteratorResult<Uint8Array>> {
    let step: Step | PromiseLike<Step>;
    try {
      step = this.open().next();
    } catch (error) {
      return Promise.reject(error); // a body that cannot be opened fails its first step, as any async step
    }
    return isThenable<Step>(step) ? Promise.resolve(step).then(encodeStep) : Promise.resolve(encodeStep(step));
  }
  async return(value?: unknown): Promise<IteratorResult<Uint8Array>> {
    return await this.close(value);
  }
  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** {@link TextChunks} over a sync body: each step bytes at once. */
class SyncTextChunks extends TextChunks implements IterableIterator<Uint8Array> {
  next(): IteratorResult<Uint8Array> {
    return encodeStep((this.open() as Iterator<Uint8Array | string>).next());
  }
  return(value?: unknown): IteratorResult<Uint8Array> {
    return this.close(value) as IteratorResult<Uint8Array>;
  }
  [Symbol.iterator](): this {
    return this;
  }
}
