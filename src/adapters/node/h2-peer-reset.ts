/**
 * A client's `RST_STREAM(NO_ERROR)` taken for the reset it is. RFC 9113 §8.1 gives `NO_ERROR`
 * to a server that answered before the request ended; a client that sends it before its
 * stream ended has still cut the exchange short. Node treats it otherwise: for any other code
 * it destroys the stream at once, but with `NO_ERROR` it ends the request body as if it were
 * whole (an upload cut short would read as a shorter, complete one) and keeps the stream until
 * its answer is sent, which it can no longer be: the app's body (an open file) stayed held,
 * and `tsgi.signal` unaborted, until the connection closed.
 *
 * @module
 */
import { type ServerHttp2Stream, constants } from 'node:http2';

/**
 * Destroys `stream` when its client closes it with `NO_ERROR` before the stream is done, as
 * Node destroys it for any other code: the app's read of an unfinished body fails, its answer's
 * body is closed and `tsgi.signal` aborts, at once. Node emits `aborted` as it marks the stream
 * closed by the peer while the answer is not ended; an answer already ended (a large one
 * still queued) is cut at `sendTimeout` instead (`cutStream`). Called by `trackSessions` for
 * `serve()`'s streams, and by `toNodeHandler`'s handler for an HTTP/2 request on a server of
 * the user's own.
 */
export function destroyOnPeerReset(stream: ServerHttp2Stream): void {
  stream.once('aborted', onAborted);
}

/** `aborted`'s listener, shared by every stream (`this`). */
function onAborted(this: ServerHttp2Stream): void {
  if (this.rstCode === constants.NGHTTP2_NO_ERROR && !this.destroyed) this.destroy();
}
