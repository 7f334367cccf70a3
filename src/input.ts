/**
 * Request body input helpers: a replayable in-memory input, and reading an input whole with
 * a size limit enforced while streaming.
 *
 * @module
 */
import { concatBytes } from './gateway.ts';
import { HTTPBadRequest, HTTPContentTooLarge } from './exceptions.ts';

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
 * Reads an input whole.
 *
 * @param limit - maximum body size in bytes (default unlimited); checked against
 *   `declaredLength` first, then chunk by chunk while reading, so an oversized body is refused
 *   without being buffered.
 * @throws HTTPContentTooLarge (413) past the limit; HTTPBadRequest (400) when the client
 *   goes away or the stream fails mid-body.
 */
export async function readInput(
  input: AsyncIterable<Uint8Array>,
  limit = Infinity,
  declaredLength: number | null = null,
): Promise<Uint8Array> {
  if (input instanceof BufferedInput) {
    if (input.bytes.byteLength > limit) throw tooLarge(limit);
    return input.bytes;
  }
  if (declaredLength !== null && declaredLength > limit) throw tooLarge(limit);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of input) {
      total += chunk.byteLength;
      if (total > limit) throw tooLarge(limit);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof HTTPContentTooLarge) throw error;
    throw new HTTPBadRequest('The request body could not be read completely.', { cause: error });
  }
  return concatBytes(chunks, total);
}

function tooLarge(limit: number): InstanceType<typeof HTTPContentTooLarge> {
  return new HTTPContentTooLarge(`The request body exceeds the limit of ${limit} bytes.`);
}
