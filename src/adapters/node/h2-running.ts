/**
 * The apps still running on an HTTP/2 connection, counted against its `maxConcurrentStreams`.
 * A client that resets a stream after its `HEADERS` were read (a later read: the app has been
 * called) closes the stream at once, but the app works on until it settles, and its streamed
 * body until its `return()` has run. nghttp2 counts the stream closed: without a count of
 * its own, a client could open and reset streams faster than apps that ignore `tsgi.signal`
 * end, and run them by the thousand from one connection (a variant of the rapid-reset attack,
 * CVE-2023-44487, that Node's bound on the rate of resets only slows). The apps running count
 * against the stream limit whether or not their stream is still open, as Go's `net/http`
 * counts its handlers; past it a new stream is refused with `REFUSED_STREAM` (RFC 9113 §8.7:
 * not processed, safe to retry; nginx's answer to too many streams at once) and the app is
 * not called, where Go holds the stream until a handler ends (Node calls the app as the stream
 * opens). An answer sent whole whose streamed body is still closing (a HEAD's) counts too.
 *
 * @module
 */
import { type Http2Session, type ServerHttp2Stream, constants } from 'node:http2';
import type { ServerResponse } from 'node:http';
import { http2Stream } from './http2-compat.ts';

/** The count of one session: the apps running on it, and its `maxConcurrentStreams`. */
export interface SessionLoad {
  /** The apps called on the session whose answer (the app's promise, then its streamed body) is not over. */
  running: number;
  /** The session's `maxConcurrentStreams`. */
  readonly limit: number;
}

/** Where a session keeps its {@link SessionLoad}. */
const LOAD = Symbol('tsgi.h2_load');

type CountedSession = Http2Session & { [LOAD]?: SessionLoad };

/**
 * Starts counting the apps running on `session`, which refuses a new stream once `limit`
 * of them are: its `stream` listener, put before Node's own (the one that would call the app),
 * closes such a stream with `REFUSED_STREAM`, and `serve()`'s handler leaves a closed stream
 * unrun (`goneBeforeServed`).
 */
export function countRunning(session: Http2Session, limit: number): void {
  (session as CountedSession)[LOAD] = { running: 0, limit };
  session.prependListener('stream', refuseWhenFull);
}

/** The `stream` listener of {@link countRunning} (`this`: the session). */
function refuseWhenFull(this: CountedSession, stream: ServerHttp2Stream): void {
  const load = this[LOAD]!;
  if (load.running >= load.limit) stream.close(constants.NGHTTP2_REFUSED_STREAM);
}

/**
 * The count of the session that carries `res`, an HTTP/2 response of `serve()`; `undefined`
 * for HTTP/1, and for a session {@link countRunning} does not count (`toNodeHandler` on a
 * server of the user's own).
 */
export function sessionLoadOf(res: ServerResponse): SessionLoad | undefined {
  return (http2Stream(res)?.session as CountedSession | undefined)?.[LOAD];
}
