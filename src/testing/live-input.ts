/**
 * The request body of a test client request, as the server gives one: live, read once.
 *
 * @module
 */

/** The size of the chunks a live input yields: what a socket read commonly gives. */
const CHUNK = 64 * 1024;

/**
 * A request body that can be iterated once, as the server's `tsgi.input` (a Node stream) can
 * (docs/spec.md §3): the first iteration yields the bytes, in chunks of up to 64 KiB; a later
 * one yields nothing, as an ended stream does. So a reader that takes the body without putting
 * a replayable copy back (a raw middleware's `for await`, a multipart form parse) leaves the
 * next reader what it would leave it under `serve()`, and `lint` can name the mistake, where a
 * replayable `BufferedInput` would hide it.
 */
export class LiveInput implements AsyncIterable<Uint8Array> {
  #body: Uint8Array | null;

  constructor(body: Uint8Array) {
    this.#body = body;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const body = this.#body;
    this.#body = null;
    if (body === null) return;
    for (let start = 0; start < body.byteLength; start += CHUNK) yield body.subarray(start, start + CHUNK);
  }
}
