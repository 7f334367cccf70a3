/**
 * The state of a request's `tsgi.input` after a reader stopped early: a failed input for the
 * next reader, and a way to stop iterating a Node.js stream without destroying it.
 *
 * @module
 */
import type { Environ } from './types.ts';
import { nodeReadableOf, readableChunks } from './readable-input.ts';

/**
 * The input of a request whose body a reader failed to read whole (see {@link spoilInput}):
 * iterating it throws that reader's error at once. A later reader (`bytes()`, `form()`, the
 * app iterating `tsgi.input`) so gets the same answer — a 413 stays a 413 — instead of the
 * rest of a body whose start is gone, or a wait for bytes the failed reader already took.
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

/**
 * Records that a read of `input` failed after it began: `environ['tsgi.input']` becomes a
 * {@link FailedInput} of `error`, unless the environ already holds another input.
 */
export function spoilInput(environ: Environ, input: AsyncIterable<Uint8Array>, error: unknown): void {
  if (environ['tsgi.input'] === input) environ['tsgi.input'] = new FailedInput(error);
}

/**
 * Opens `input` for a reader that may stop before its end; `detach()` stops it. A Node.js
 * stream (the Node adapter's input, see `readable-input.ts`) is iterated without being
 * destroyed when the reader stops (the server still has to answer on its connection), and
 * `detach()` removes the listeners the iteration put on it. Any other input's iterator gets
 * `return()` (not awaited: one asked while a `next()` is pending runs when that settles).
 */
export function openInput(input: AsyncIterable<Uint8Array>): { chunks: AsyncIterator<Uint8Array>; detach(): void } {
  const stream = nodeReadableOf(input);
  const chunks = stream === undefined ? input[Symbol.asyncIterator]() : readableChunks(stream);
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
