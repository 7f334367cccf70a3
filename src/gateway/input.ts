/**
 * The state of a request's `tsgi.input` after a reader: a replayable copy when it read the
 * body whole and kept it, a failed input when it stopped early or kept nothing, and a way to stop
 * iterating a Node.js stream without destroying it.
 *
 * @module
 */
import type { Environ } from './types.ts';
import { type ClaimEnd, type IterationClaim, nodeReadableOf, readTimeoutOf, readableChunks } from './readable-input.ts';

/**
 * A request body held in memory that can be iterated any number of times. `Request.bytes()`
 * puts one in `environ['tsgi.input']` after reading the body whole, so the next reader (the
 * app below a middleware that peeked) gets the same bytes again.
 */
export class BufferedInput implements AsyncIterable<Uint8Array> {
  /** The whole body. */
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.bytes.byteLength > 0) yield this.bytes;
  }
}

/**
 * The input the body readers read for an environ without `tsgi.input`: an empty body
 * (Werkzeug's rule). Zero bytes, so nothing can change it.
 */
export const EMPTY_INPUT: BufferedInput = new BufferedInput(new Uint8Array(0));

/**
 * The input of a request whose body a reader failed to read whole (see {@link spoilInput}),
 * or read without keeping it (see {@link consumeInput}): iterating it throws that error at
 * once. A later reader (`bytes()`, `form()`, the app iterating `tsgi.input`) so gets the same
 * answer — a 413 stays a 413 — instead of the rest of a body whose start is gone, or a wait
 * for bytes the failed reader already took.
 */
export class FailedInput implements AsyncIterable<Uint8Array> {
  /** The error of the read that failed. */
  readonly error: unknown;

  constructor(error: unknown) {
    this.error = error;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const error = this.error;
    return { next: () => Promise.reject(error) };
  }
}

/** The inputs a layer put in `tsgi.input` over another, reading it and nothing else (see {@link readsThrough}). */
const views = new WeakMap<AsyncIterable<Uint8Array>, AsyncIterable<Uint8Array>>();

/**
 * Records that `view`, put in `tsgi.input` in place of `input`, hands on `input`'s chunks as
 * they come and nothing else (`accessLog`'s count of the bytes read): a failed read of `input`
 * leaves the environ failed through it too ({@link spoilInput}), as if `input` were still there.
 */
export function readsThrough(view: AsyncIterable<Uint8Array>, input: AsyncIterable<Uint8Array>): void {
  views.set(view, input);
}

/**
 * The live inputs a reader read without keeping them ({@link consumeInput}), or whose read
 * failed after it began ({@link spoilInput}), with the error a later reader's claim throws.
 */
const consumed = new WeakMap<AsyncIterable<Uint8Array>, unknown>();

/**
 * Records that a read of `input` failed after it began: `environ['tsgi.input']` becomes a
 * {@link FailedInput} of `error` when it holds `input`, or a view of it ({@link readsThrough}:
 * the server's limit past which a layer above counts what the app reads), unless the environ
 * already holds another input. A live `input` is marked failed itself too (and the input it is
 * a view of, if any), as a consumed one is ({@link consumeInput}): a reader that claims it from another environ holding it (the layer
 * above an app given a spread copy, `{ ...environ, PATH_INFO }`) gets `error` from
 * {@link claimInput}, rather than the rest of the body, whose start the failed read took.
 */
export function spoilInput(environ: Environ, input: AsyncIterable<Uint8Array>, error: unknown): void {
  // The input read and what it reads through (a view's own input): each had bytes taken.
  for (let marked: AsyncIterable<Uint8Array> | undefined = input; marked !== undefined; marked = views.get(marked)) {
    if (!(marked instanceof BufferedInput || marked instanceof FailedInput)) consumed.set(marked, error);
  }
  let held: AsyncIterable<Uint8Array> | undefined = environ['tsgi.input'];
  while (held !== undefined && held !== input) held = views.get(held);
  if (held !== undefined) environ['tsgi.input'] = new FailedInput(error);
}

/**
 * Records that a reader read `input` without keeping the bytes (a multipart form parse, whose
 * files are spooled rather than held): `environ['tsgi.input']` becomes a {@link FailedInput}
 * of an `Error` that says so and how to keep the body, so a later `req.bytes()` (a webhook's
 * signature check) fails loudly instead of answering an empty body. The input itself is marked
 * too: a reader that claims it from another environ holding it (the layer above an app given
 * a spread copy, `{ ...environ, PATH_INFO }`) gets the same error from {@link claimInput}.
 * Nothing changes when `input` is a {@link BufferedInput}, which replays, or a
 * {@link FailedInput}; the environ is left as it is when it holds another input.
 *
 * @param reader - what read it, for the message: `'the form parse (req.form(), files() or params())'`.
 */
export function consumeInput(environ: Environ, input: AsyncIterable<Uint8Array>, reader: string): void {
  if (input instanceof BufferedInput || input instanceof FailedInput) return;
  const error = consumedBody(reader);
  consumed.set(input, error);
  if (environ['tsgi.input'] === input) environ['tsgi.input'] = new FailedInput(error);
}

/**
 * The error {@link consumeInput} left for the readers of `input` after the one that consumed
 * it, or {@link spoilInput} after the read that failed; `undefined` when none did.
 */
export function consumedError(input: AsyncIterable<Uint8Array>): unknown {
  return consumed.get(input);
}

/**
 * The `Error` of a body that `reader` read without keeping it, as {@link consumeInput} leaves
 * it for later readers: `the request body was read by <reader> and not kept: read it with
 * await req.bytes() first to keep it`.
 */
export function consumedBody(reader: string): Error {
  return new Error(`the request body was read by ${reader} and not kept: read it with await req.bytes() first to keep it`);
}

/** The reader reading each live input now, by name (see {@link claimInput}). */
const readers = new WeakMap<AsyncIterable<Uint8Array>, string>();

/**
 * Claims a live `input` for `reader` while it reads it. Two readers of one live body at once
 * (`Promise.all([req.form(), req.bytes()])`: a signature check reading the body while the form
 * parse runs; a `req.stream()` iterated meanwhile) would each take some of its chunks, and one
 * would answer an empty or partial body in silence; the second is refused instead. A
 * {@link BufferedInput} (it replays) and a {@link FailedInput} (it fails alike for every
 * reader) are never claimed. A reader whose claim succeeded gives it back once, with
 * {@link releaseInput}, when its read has settled (`req.parts()` never does: it marks the
 * input consumed at once, which every later claim meets first). Two `WeakMap` look-ups and a
 * store, nothing allocated.
 *
 * @param reader - what reads it, for the message of the reader refused: `'the form parse (req.form(), files() or params())'`.
 * @throws Error when a reader read `input` and did not keep it ({@link consumeInput}: `the
 *   request body was read by <reader> and not kept: …`); the error of a read of `input` that
 *   failed after it began ({@link spoilInput}: a `413`, the `400` of a body broken off); when another reader has claimed
 *   `input` and not released it: `the request body is being read by <reader>: await that read
 *   before reading the body again (await req.bytes() first to keep the body for every reader
 *   after it)`.
 */
export function claimInput(input: AsyncIterable<Uint8Array>, reader: string): void {
  if (input instanceof BufferedInput || input instanceof FailedInput) return;
  const spent = consumed.get(input);
  if (spent !== undefined) throw spent;
  const other = readers.get(input);
  if (other !== undefined) {
    throw new Error(
      `the request body is being read by ${other}: await that read before reading the body again (await req.bytes() first to keep the body for every reader after it)`,
    );
  }
  readers.set(input, reader);
}

/**
 * Gives back the claim a reader made on `input` with {@link claimInput}. Call it once per
 * claim that succeeded: a second call would give back the claim of a reader that came after.
 */
export function releaseInput(input: AsyncIterable<Uint8Array>): void {
  readers.delete(input);
}

/**
 * The claim of one `input` of `environ` for one `reader` (see {@link claimInput}) that an
 * iteration takes at its first `next()` and gives back once it ends, fails or is returned:
 * `req.stream()`'s. One per `req.stream()` call, shared by its iterations; which holds the
 * claim is the iteration's to know. An iteration that read the body to its end, or was
 * returned part-way (a `break`), leaves the input consumed ({@link consumeInput}, as read by
 * `reader` or by `left`): a later `req.bytes()` fails loudly instead of answering an empty
 * body, or the rest of the body as if it were the whole.
 */
export class InputClaim implements IterationClaim {
  readonly #environ: Environ;
  readonly #input: AsyncIterable<Uint8Array>;
  readonly #reader: string;
  readonly #left: string;

  /**
   * @param reader - what reads it, for the message of a reader refused meanwhile and of a
   *   later reader once it was read to its end (`'req.stream()'`).
   * @param left - what left it part-way, for the message of a later reader (`'req.stream() left part-way'`).
   */
  constructor(environ: Environ, input: AsyncIterable<Uint8Array>, reader: string, left: string) {
    this.#environ = environ;
    this.#input = input;
    this.#reader = reader;
    this.#left = left;
  }

  /**
   * Claims the input for the reader.
   *
   * @throws as {@link claimInput}.
   */
  take(): void {
    claimInput(this.#input, this.#reader);
  }

  /**
   * Gives the claim back ({@link releaseInput}): once, by the iteration that took it.
   *
   * @param end - how the iteration stopped: `'ended'` (the body read to its end) and `'left'`
   *   (returned before it) leave the input consumed ({@link consumeInput}); `'untouched'` (a
   *   failure, which the reader leaves itself, or an empty body) leaves it as it is.
   */
  release(end: ClaimEnd): void {
    releaseInput(this.#input);
    if (end !== 'untouched') consumeInput(this.#environ, this.#input, end === 'left' ? this.#left : this.#reader);
  }
}

/**
 * Opens `input` for a reader that may stop before its end; `detach()` stops it. A Node.js
 * stream (the Node adapter's input, see `readable-input.ts`) is iterated without being
 * destroyed when the reader stops (the server still has to answer on its connection), and
 * `detach()` removes the listeners the iteration put on it; its reads keep to the server's
 * `bodyTimeout` (`readTimeoutOf`). Any other input's iterator gets
 * `return()` (not awaited: one asked while a `next()` is pending runs when that settles).
 */
export function openInput(input: AsyncIterable<Uint8Array>): { chunks: AsyncIterator<Uint8Array>; detach(): void } {
  const stream = nodeReadableOf(input);
  const chunks = stream === undefined ? input[Symbol.asyncIterator]() : readableChunks(stream, undefined, readTimeoutOf(input));
  return { chunks, detach: () => void closeQuietly(chunks) };
}

/** Calls `iterator.return()`, if it has one, ignoring what it throws or rejects with. */
async function closeQuietly(iterator: AsyncIterator<Uint8Array>): Promise<void> {
  try {
    await iterator.return?.();
  } catch {
    // The reader already has its answer; a failure to close is nobody's to hear.
  }
}
