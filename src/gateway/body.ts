/**
 * Body iteration helpers every server and middleware needs: opening a body, closing it early
 * (PEP 3333 `close()`), reading it whole, checking its chunks.
 *
 * @module
 */
import type { Body } from './types.ts';
import { bodyClosedEarly } from './abort.ts';

/** True when `value` is an iterable (sync) body. */
export function isIterable(value: unknown): value is Iterable<Uint8Array> {
  return value != null && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function';
}

/** True when `value` is an async iterable. */
export function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return (
    value != null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}

/**
 * True when a layer that changes `body` should pass on its empty first chunk as it is: `body`
 * is async, so it may wait before its content (an event stream before its first event), and
 * that chunk sends the head meanwhile (docs/spec.md §6). A sync body (an array) has its next
 * chunk at once: its empty first chunk is dropped like any other, so the server can still frame
 * a whole output with `Content-Length` (§7.1) instead of sending it chunked.
 */
export function sendsHeadEarly(body: Body): boolean {
  return isAsyncIterable(body);
}

/** A sync or async iterator over body chunks. */
export type BodyIterator = Iterator<Uint8Array> | AsyncIterator<Uint8Array>;

/**
 * Opens a body for iteration: async iterables first, then sync ones; an array is its own
 * chunks even when it has an async iterator too, as the servers' fast path for arrays sends it
 * (spec §6), so every path (a lazy app, a layer, the TestClient) sends the same bytes. The iterator of a Node
 * stream (anything with a `destroy()` method, such as `fs.createReadStream`) destroys the
 * stream when it is closed early, even before its first chunk: Node's own stream iterator does
 * nothing on a `return()` that comes before the first `next()`, which would leave a file
 * descriptor open. That of a web `ReadableStream` (anything with `getReader()` and `cancel()`)
 * reads it through its reader and cancels it when closed early (the reason an `AbortError`,
 * `bodyClosedEarly()`), also while a read waits (an
 * idle event stream, a `fetch` body whose upstream sends nothing): the stream's own iterator
 * answers such a `return()` only after the pending read, which may never come, and cancels
 * nothing until then.
 *
 * @throws TypeError when `body` is neither (a string, `null`, a plain object…), is bare bytes
 *   (a `Uint8Array`, which iterates numbers: wrap it, `[bytes]`) or its iterator method does
 *   not answer an object; whatever that method throws.
 */
export function openBody(body: Body): BodyIterator {
  let iterator: unknown;
  // Bytes iterate as numbers: the spec §6 mistake, named rather than reported as a bad chunk.
  if (body instanceof Uint8Array) throw new TypeError(`app returned bare bytes as its body (${describe(body)}): wrap them in an array, [bytes]`);
  if (isWebStream(body)) iterator = readerIterator(body.getReader());
  else if (isAsyncIterable(body) && !Array.isArray(body)) {
    iterator = body[Symbol.asyncIterator]();
    if (typeof (body as Partial<Destroyable>).destroy === 'function' && isObject(iterator)) {
      iterator = destroyOnReturn(iterator as AsyncIterator<Uint8Array>, body as unknown as Destroyable);
    }
  } else if (isIterable(body) && typeof body !== 'string') iterator = body[Symbol.iterator]();
  else {
    // A string iterates by character: the spec §6 mistake, told how text is sent.
    const text = typeof body === 'string' ? ': encode text first, [new TextEncoder().encode(text)], or answer a Response' : '';
    throw new TypeError(`app returned an invalid body (${describe(body)}): expected an iterable of Uint8Array${text}`);
  }
  if (!isObject(iterator)) {
    throw new TypeError(`the body's iterator is not an object (${describe(iterator)})`);
  }
  return iterator as BodyIterator;
}

/** A Node stream, as far as closing it goes. */
interface Destroyable {
  destroy(error?: Error): unknown;
}

function isObject(value: unknown): boolean {
  return value !== null && (typeof value === 'object' || typeof value === 'function');
}

/**
 * The stream's iterator, whose `return()` destroys the stream first (so a `next()` still
 * waiting for data settles) and then closes the iterator. A `next()` that fails once the
 * stream is being destroyed (Node's "Premature close") answers done: the close was ours, not
 * an error of the app.
 */
function destroyOnReturn(iterator: AsyncIterator<Uint8Array>, stream: Destroyable): AsyncIterator<Uint8Array> {
  let closing = false;
  const isClosing = () => closing;
  return {
    next: () => stepOrDone(iterator, isClosing),
    async return(value?: unknown) {
      closing = true;
      stream.destroy();
      return (await iterator.return?.(value)) ?? { done: true, value: undefined };
    },
  };
}

/** A web `ReadableStream`, as far as reading and cancelling it goes. */
interface WebStream {
  getReader(): ReadableStreamDefaultReader<Uint8Array>;
  cancel(reason?: unknown): Promise<void>;
}

function isWebStream(value: unknown): value is WebStream {
  return isObject(value) && typeof (value as Partial<WebStream>).getReader === 'function' && typeof (value as Partial<WebStream>).cancel === 'function';
}

/**
 * The chunks `reader` reads. Its `return()` cancels the stream through the reader (with
 * {@link bodyClosedEarly}'s `AbortError` as the reason, so the source tells the abort from a
 * failure), which ends
 * a read still waiting (it answers done) and rejects with what the stream's `cancel` throws;
 * after the end, or a second time, it does nothing. A read that fails once the cancel is under
 * way answers done: the close was ours.
 */
function readerIterator(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncIterator<Uint8Array> {
  let finished = false;
  let closing = false;
  return {
    async next() {
      if (finished) return { done: true, value: undefined };
      try {
        const step = await reader.read();
        if (step.done) finished = true;
        return step.done ? { done: true, value: undefined } : step;
      } catch (error) {
        finished = true;
        if (closing) return { done: true, value: undefined };
        throw error;
      }
    },
    async return() {
      if (!finished && !closing) {
        closing = true;
        await reader.cancel(bodyClosedEarly());
      }
      finished = true;
      return { done: true, value: undefined };
    },
  };
}

/**
 * `iterator.next()`, a failure answered as done once `isClosing()` says a close of ours is under
 * way (it is what made the step fail). `await`, not `.then`: an app's hand-written iterator may
 * answer a step that is no promise.
 */
async function stepOrDone(iterator: AsyncIterator<Uint8Array>, isClosing: () => boolean): Promise<IteratorResult<Uint8Array>> {
  try {
    return await iterator.next();
  } catch (error) {
    if (isClosing()) return { done: true, value: undefined };
    throw error;
  }
}

/** True for a promise or any other thenable (an object or function with a `then` method, Promises/A+ §1.1). */
export function isThenable<T = unknown>(value: unknown): value is PromiseLike<T> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PromiseLike<T>).then === 'function'
  );
}

const CLOSED: Promise<void> = Promise.resolve();
const NOTHING = () => undefined;

/**
 * Closes a body iterator early (PEP 3333 `close()`): calls `return()` if it has one. Never
 * throws: what `return()` throws or rejects with is passed to `onError` (a throwing `onError`
 * is ignored).
 *
 * @returns a promise that settles once `return()` has finished (at once for a sync iterator
 *   or one without `return()`, else when its promise settles); it never rejects, so callers
 *   that need not wait may ignore it.
 */
export function closeBody(iterator: BodyIterator, onError?: (error: unknown) => void): Promise<void> {
  try {
    if (typeof iterator.return !== 'function') return CLOSED;
    const result = iterator.return() as unknown;
    if (isThenable(result)) return Promise.resolve(result).then(NOTHING, (error: unknown) => report(onError, error));
  } catch (error) {
    report(onError, error);
  }
  return CLOSED;
}

/**
 * Closes a body that will not be sent or read (PEP 3333 `close()` on an iterable nobody
 * consumes): a generator's `return()` runs its `finally`, a Node stream is destroyed, a web
 * `ReadableStream` is cancelled. Bytes and arrays hold nothing and are left alone. Never
 * throws: a value that cannot be opened (not an iterable, a `ReadableStream` another reader
 * has locked) is left alone, and what `return()` throws or rejects with goes to `onError`.
 *
 * @returns a promise that settles once the body's `return()` has (see {@link closeBody});
 *   it never rejects, so callers that need not wait may ignore it.
 */
export function discardBody(body: Body | Uint8Array, onError?: (error: unknown) => void): Promise<void> {
  if (body instanceof Uint8Array || Array.isArray(body)) return CLOSED;
  let iterator: BodyIterator;
  try {
    iterator = openBody(body); // a generator is its own iterator; a Node stream is destroyed
  } catch {
    return CLOSED; // nothing this caller can close
  }
  return closeBody(iterator, onError);
}

/**
 * `body` (a transformation of another body, typically an async generator reading it with
 * `for await`) whose early close also runs `close`: an async generator closed before its first
 * `next()` never runs its code, so the `for await` inside never closes what it reads (the
 * app's body: its open file, its spooled uploads). `close` runs first, at once: an async
 * generator waiting for its source (an idle event stream) takes a `return()` only once that
 * wait is over, and closing the source is what ends it (a Node stream is destroyed); a `next()`
 * that then fails answers done, the close being ours, not an error of the app. `close` must be
 * safe to call twice (the generator's own `for await` closes its source again). Closing
 * answers what `body`'s own `return()` answers, after `close` has settled.
 */
export function closingSource(body: AsyncIterable<Uint8Array>, close: () => unknown): AsyncIterableIterator<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]();
  let closing = false;
  const isClosing = () => closing;
  return {
    next: () => stepOrDone(iterator, isClosing),
    async return(value?: unknown): Promise<IteratorResult<Uint8Array>> {
      closing = true;
      const closed = (async () => close())();
      try {
        return (await iterator.return?.(value)) ?? { done: true, value: undefined };
      } finally {
        await closed;
      }
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

function report(onError: ((error: unknown) => void) | undefined, error: unknown): void {
  try {
    onError?.(error);
  } catch {
    // A failing error reporter must not turn cleanup into a crash.
  }
}

/**
 * Reads a whole body into one `Uint8Array` (for tests and small bodies).
 *
 * @throws TypeError when a chunk is not a `Uint8Array` (see {@link checkChunk}).
 */
export async function readBody(body: Body): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    chunks.push(checkChunk(chunk));
    total += chunk.byteLength;
  }
  return concatBytes(chunks, total);
}

/** Concatenates byte chunks; `total` is their summed length when known. */
export function concatBytes(chunks: Uint8Array[], total?: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let length = total ?? 0;
  if (total === undefined) for (const chunk of chunks) length += chunk.byteLength;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** A short description of a value's type, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

/**
 * Checks one body chunk from an app: bodies are iterables of `Uint8Array` (a `Buffer` is one),
 * never strings or other values (PEP 3333 requires bytes too).
 *
 * @returns the chunk itself.
 * @throws TypeError `body chunk is not a Uint8Array (<type>)` for anything else (for a string,
 *   followed by how to send text).
 */
export function checkChunk(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  throw notAChunk(chunk);
}

/** The error of {@link checkChunk}; a string is told how to send text. Only built on that error path. */
function notAChunk(chunk: unknown): TypeError {
  const hint = typeof chunk === 'string' ? ': encode text with new TextEncoder().encode(text), or answer a Response, which takes a string' : '';
  return new TypeError(`body chunk is not a Uint8Array (${describe(chunk)})${hint}`);
}
