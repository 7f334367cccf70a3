/**
 * Pulling a node:zlib decoder's output one input chunk at a time, so that it decodes no
 * further ahead than its reader takes: the streamed decoding of `decodeBody` (request bodies)
 * and `decodeContent` (response bodies).
 *
 * @module
 */
import type { Transform } from 'node:stream';

/**
 * What the decoder `z` makes of `chunk` (or, for `null`, of the end of its input, `z.end()`),
 * yielded as it makes it: done once the chunk was consumed (for `null`, once `z` ended). The
 * decoder stops while 16 KiB of its output wait unread (the streams' default high-water mark),
 * so a consumer that holds a piece holds the decoding too; each piece is at most zlib's chunk
 * (16 KiB) plus what waited. The listeners it adds are removed when it ends or is closed
 * early; `z` itself is left to the caller (to destroy, and to give an `'error'` listener that
 * outlives these).
 *
 * @throws (the iteration rejects with) what `fail` makes of the decoder's error, once `z`
 *   fails (data it refuses, or that ends early); read from `z.errored`, which is set before
 *   the `'error'` event and whatever the write callback is told.
 */
export async function* decoderOutput(z: Transform, chunk: Uint8Array | null, fail: (error: unknown) => unknown): AsyncGenerator<Buffer, void, undefined> {
  let consumed = false;
  let wake = (): void => {};
  const onEvent = (): void => wake();
  z.on('readable', onEvent);
  z.on('end', onEvent);
  z.on('error', onEvent);
  if (chunk === null) z.end();
  else {
    z.write(chunk, () => {
      consumed = true;
      wake();
    });
  }
  try {
    for (;;) {
      const output = z.read() as Buffer | null;
      if (output !== null) {
        yield output;
        continue;
      }
      if (z.errored !== null) throw fail(z.errored);
      if (chunk === null ? z.readableEnded : consumed) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    z.off('readable', onEvent);
    z.off('end', onEvent);
    z.off('error', onEvent);
  }
}
