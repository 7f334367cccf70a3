/**
 * Request bodies the app left unread: deciding whether the connection can stay open, and the
 * bounded "lingering close" that lets the client read the response before the socket goes.
 *
 * When an app answers before the request body has arrived whole (a 413 from a form limit, an
 * app that never reads a POST, one that broke out of `tsgi.input`), Node stops reading the
 * socket once the request stream is paused or destroyed: the client can no longer finish
 * sending, and the connection stays open, neither closed nor reusable, until a timeout. Closing
 * the socket at once is no better: a close with unread input sends a TCP reset, which may
 * destroy the response before the client reads it. So, like Apache's lingering close and Go's
 * `closeWriteAndWait`, the server marks such a response `Connection: close`, sends it and its
 * FIN, discards further input for a short grace period, then destroys the socket.
 *
 * A small declared body the app never touched is left to Node, which drains it itself and
 * keeps the connection (Go's net/http also keeps a connection whose unread body is at most
 * 256 KiB). A chunked body of unknown length is not small.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isHttp2, refuseRestOfBody } from './http2-compat.ts';

/** Largest declared body (bytes) an app may leave untouched on a connection that stays open. */
export const DRAIN_LIMIT = 256 * 1024;
/** How long (ms) a closing connection keeps discarding the unread body after the response. */
export const LINGER_TIME = 2000;
/** How many bytes (of the unread body) a closing connection discards before it is cut. */
export const LINGER_BYTES = 4 * 1024 * 1024;

/** The Node internals used here; each is optional, so a change in Node only costs the linger. */
interface RequestInternals {
  /** True once the request stream has been read from (Node then does not drain it). */
  _consuming?: boolean | undefined;
  /** True once Node drains the body into the void (`_dump()`), the parser dropping it. */
  _dumped?: boolean | undefined;
  /** Makes the parser drop the rest of the body and keeps the socket flowing. */
  _dump?: (() => void) | undefined;
}

/** The socket internals used to restart its reads; optional, as in {@link RequestInternals}. */
interface SocketInternals {
  /** The libuv handle: `reading` tells whether it reads, `readStart()` makes it read again. */
  _handle?: { reading?: boolean; readStart?: () => number } | null | undefined;
}

/**
 * Called before the head of a response goes out while the request body is still arriving
 * (`!req.complete`). Marks the response `Connection: close` unless Node will drain the body
 * itself (the app never touched the stream and its `Content-Length` is at most
 * {@link DRAIN_LIMIT} bytes), and arranges {@link lingerIfUnread} for when the response has been sent.
 * On HTTP/2 only the request's stream is ended once the answer is out (`refuseRestOfBody`).
 */
export function prepareUnreadBody(req: IncomingMessage, res: ServerResponse): void {
  if (isHttp2(req)) {
    refuseRestOfBody(req, res);
    return;
  }
  const touched =
    req.destroyed || req.readableFlowing !== null || (req as RequestInternals)._consuming === true;
  if (touched || !(Number(req.headers['content-length']) <= DRAIN_LIMIT)) res.shouldKeepAlive = false;
  // `req.socket` is null once the app has destroyed the request stream.
  const socket = res.socket ?? (req.socket as Socket | null);
  if (socket) res.once('finish', () => lingerIfUnread(req, socket));
}

/** The request whose small body Node drains after its answer went out, by connection. */
const drainedAfterAnswer = new WeakMap<Socket, IncomingMessage>();

/**
 * True when the client ended `socket` (its FIN, Node's `HPE_INVALID_EOF_STATE`) while Node was
 * draining the small body of a request already answered: the end of that request, which has
 * its response and its access log line, not a malformed new one to answer `400` and report.
 */
export function endsAnsweredBody(error: { code?: string }, socket: Socket): boolean {
  if (error.code !== 'HPE_INVALID_EOF_STATE') return false;
  const req = drainedAfterAnswer.get(socket);
  return req !== undefined && !req.complete;
}

/**
 * After a response has been sent: if its request body is still arriving and Node will not
 * drain it on a connection that stays open, ends the connection gracefully. Our side is
 * closed (FIN after the response), the rest of the body is read and dropped, and the socket is
 * destroyed once the body is complete, the client closes, more than {@link LINGER_BYTES}
 * bytes arrived, or {@link LINGER_TIME} ms passed. An app still reading that body (one
 * `timeout` answered for while it read an upload) then sees its read fail, as when a client
 * goes away: Node detaches a request from its connection once the response is sent, and would
 * leave that read waiting forever.
 */
export function lingerIfUnread(req: IncomingMessage, socket: Socket): void {
  if (req.complete) return;
  if (socket.destroyed) return void endUnfinished(req);
  const internals = req as RequestInternals;
  const closing = socket.writableEnded; // Node ended it after a `Connection: close` response
  if (!closing && internals._dumped === true) {
    // A small untouched body: Node drains it. A client that gives up on it (FIN mid-body) ends
    // a request already answered, not a new one to refuse (`endsAnsweredBody`).
    drainedAfterAnswer.set(socket, req);
    return;
  }
  socket.once('close', () => endUnfinished(req));
  // Node's destroySoon() destroys the socket once its FIN is out: wait for the client instead.
  socket.removeListener('finish', socket.destroy);
  if (!closing) socket.end();
  // The parser must drop the body: a paused or destroyed request stream would stop the socket.
  if (internals._dumped !== true) {
    if (typeof internals._dump === 'function') internals._dump();
    else req.resume();
  }
  // Node's own listener has parsed each chunk (so `req.complete` is up to date) before `done` is asked.
  discardThenClose(socket, () => req.complete);
}

/**
 * The end of a lingering close, once this side of `socket` is ended (or ending): what the
 * client still sends is read and dropped, and the socket is destroyed once `done()` says the
 * input is over, or the client closes, or more than {@link LINGER_BYTES} bytes arrived, or
 * {@link LINGER_TIME} ms passed.
 */
export function discardThenClose(socket: Socket, done: () => boolean): void {
  const timer = setTimeout(() => socket.destroy(), LINGER_TIME);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  let left = LINGER_BYTES;
  socket.on('data', (chunk: Buffer) => {
    left -= chunk.byteLength;
    if (done() || left < 0) socket.destroy();
  });
  socket.resume();
  // A request stream paused for backpressure (a form parser spooling a file to disk) stopped the
  // handle's reads while the stream still counts a read as under way, so `resume()` alone reads
  // nothing: the rest of the body stayed unread and the connection waited for the timer. Start
  // the handle again, as Node's own server does when it resumes a socket.
  const handle = (socket as SocketInternals)._handle;
  if (handle && handle.reading === false && typeof handle.readStart === 'function') {
    handle.reading = true;
    handle.readStart();
  }
}

/**
 * Destroys `req` when its body never came whole, so that a reader still waiting on it fails
 * (a premature close) instead of waiting forever; a stream nobody listens to emits no error.
 */
function endUnfinished(req: IncomingMessage): void {
  if (!req.complete && !req.destroyed) req.destroy();
}
