/**
 * A client's `RST_STREAM(NO_ERROR)` taken for the reset it is. RFC 9113 §8.1 gives `NO_ERROR`
 * to a server that answered before the request ended; a client that sends it before its
 * stream ended has still cut the exchange short. Node treats it otherwise: for any other code
 * it destroys the stream at once, but with `NO_ERROR` it ends the request body as if it were
 * whole (an upload cut short would read as a shorter, complete one) and keeps the stream until
 * its answer is sent, which it can no longer be: the app's body (an open file) stayed held,
 * and `tsgi.signal` unaborted, until the connection closed. A reset that comes before the
 * handler is called (a server of the user's own whose async middleware still works) finds Node
 * has closed the stream already, its body ended as if whole or thrown away.
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

/**
 * True when `stream`, a request with a body (its `HEADERS` frame did not end the stream), has
 * closed before the handler was called: its client reset it (any code, `NO_ERROR` included)
 * while a server of the user's own was still at work, and Node has ended the request body as
 * if it were whole (or thrown it away: a body that did end is dropped at the close when nobody
 * read it). The body can no longer be read whole: `toNodeHandler`'s handler makes the app's
 * read fail then, as it fails for a reset that comes while the app reads. A request without a
 * body reads as the empty body it is.
 */
export function resetBeforeHandler(stream: ServerHttp2Stream): boolean {
  return stream.closed && !stream.endAfterHeaders;
}

/**
 * True when `stream` has closed before `serve()`'s handler got to it: its client reset it (or
 * its connection went) in the read that carried its `HEADERS`, so Node hands it over already
 * closed, and no answer can reach anyone. The handler then leaves it unrun, as a pipelined
 * HTTP/1.1 request whose client left before its turn: the app ran for each such stream, which
 * is the rapid-reset attack (CVE-2023-44487: `HEADERS` then `RST_STREAM`, over and over) that
 * ran the app thousands of times at once from one connection, past `maxConcurrentStreams`.
 */
export function goneBeforeServed(stream: ServerHttp2Stream): boolean {
  return stream.closed || stream.destroyed;
}
