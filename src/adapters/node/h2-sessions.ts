/**
 * The HTTP/2 side of `serve()`'s limits and graceful close. Node's `headersTimeout`,
 * `requestTimeout` and `keepAliveTimeout` apply to HTTP/1 connections only; an HTTP/2
 * connection (a session) carries many streams, so the same limits are kept here per session
 * and per stream.
 *
 * @module
 */
import { type Http2Server, type Http2SecureServer, type Http2Session, type ServerHttp2Stream, constants } from 'node:http2';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { serverStatusKey } from '../../gateway/server-status.ts';
import { environOfExchange, exchangeOf } from './exchange-key.ts';
import { tellClientGone } from '../../gateway/client-gone.ts';
import { setHeaderBlockLimit } from './http2-compat.ts';
import { destroyOnPeerReset } from './h2-peer-reset.ts';
import { countRunning } from './h2-running.ts';
import { MAX_DELAY } from '../../gateway/max-delay.ts';
import { LINGER_TIME } from './linger.ts';

/** The limits {@link trackSessions} applies, in milliseconds (0 turns one off). */
export interface SessionLimits {
  /** A new session that opens no stream in this time is closed. */
  firstByteTimeout: number;
  /** A session with no open stream for this long is closed (`GOAWAY`). */
  keepAliveTimeout: number;
  /** A request body not received whole in this time: `408`, or the stream reset when the answer has started. */
  requestTimeout: number;
  /** The largest response header block a session sends, in bytes (its `maxSendHeaderBlockLength`). */
  maxSendHeaderBlockLength: number;
  /** Streams a session takes at once (its `maxConcurrentStreams` setting): also the most apps it runs at once (`countRunning`). */
  maxConcurrentStreams: number;
}

/** The sessions of one server, for `close()`. */
export interface Sessions {
  /** Graceful: every session sends `GOAWAY`, lets its open streams finish, then closes. */
  closeIdle(): void;
  /** Every session is destroyed at once (its streams are reset). */
  closeAll(): void;
  /**
   * Settles once every session open now has emitted `close`, after the `close` of each of
   * its streams and their responses (what `accessLog` writes its line at). The server's own
   * `close` may come before them, as soon as the client ends the connection.
   */
  closed(): Promise<void>;
}

const TIMEOUT_BODY = 'Request Timeout\n';

/**
 * `timeout` as a timer can keep it: at most {@link MAX_DELAY} (24.8 days). Node runs a longer
 * timer after 1 ms, and these limits, which Node's HTTP/1 server takes past it (its socket
 * timeouts are clamped there, `requestTimeout` is compared with the clock), would close every
 * HTTP/2 session or answer every upload `408` at once.
 */
function within(timeout: number): number {
  return timeout > MAX_DELAY ? MAX_DELAY : timeout;
}

/**
 * Tracks the sessions of an HTTP/2 server: a session is closed with `GOAWAY`, and its
 * connection with it, after `firstByteTimeout` without a first stream, or `keepAliveTimeout`
 * without an open stream; a stream whose request body has not arrived whole after
 * `requestTimeout` is answered `408` (or reset with `CANCEL` once its answer has started), as
 * Node does for HTTP/1.
 */
export function trackSessions(server: Http2Server | Http2SecureServer, limits: SessionLimits): Sessions {
  const sessions = new Set<Http2Session>();
  // Node ends the connection of a session it closed (its own socket `end()`, after `GOAWAY`), but
  // then waits for the client's end: the connection is closed {@link LINGER_TIME} ms after
  // ours, if the client has not closed it by then. (Listened for before Node's own listener of
  // the connection, which makes the session.)
  server.prependListener(server instanceof TlsServer ? 'secureConnection' : 'connection', closeAfterOurEnd);
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    setHeaderBlockLimit(session, limits.maxSendHeaderBlockLength);
    countRunning(session, limits.maxConcurrentStreams);
    let open = 0;
    let idle: NodeJS.Timeout | undefined;
    // With no stream open, `destroy()`, not `close()`: both send `GOAWAY` and end the socket,
    // but after a `close()` Node then waits for the client's end of the connection, which a
    // client that neither reads nor closes (a TLS handshake with nothing after) never sends, so
    // its connection was held for ever; after a `destroy()` Node destroys the socket once
    // `GOAWAY` is written.
    const arm = (timeout: number) => {
      if (timeout <= 0) return;
      idle = setTimeout(() => session.destroy(), within(timeout));
      idle.unref();
    };
    arm(limits.firstByteTimeout || limits.keepAliveTimeout);
    session.on('stream', (stream: ServerHttp2Stream) => {
      open++;
      clearTimeout(idle);
      if (!stream.endAfterHeaders) limitRequest(stream, limits.requestTimeout);
      destroyOnPeerReset(stream);
      stream.once('close', () => {
        // A client that reset its stream while the app works: the layers watching it are told.
        tellClientGone(environOfExchange(stream));
        open--;
        if (open === 0 && !session.closed) arm(limits.keepAliveTimeout);
      });
    });
    session.once('close', () => {
      clearTimeout(idle);
      sessions.delete(session);
    });
  });
  return {
    closeIdle() {
      for (const session of sessions) if (!session.closed) session.close();
    },
    closeAll() {
      for (const session of sessions) session.destroy();
    },
    async closed() {
      await Promise.all(Array.from(sessions, (session) => new Promise((resolve) => session.once('close', resolve))));
    },
  };
}

/**
 * Closes `socket`, an HTTP/2 connection, {@link LINGER_TIME} ms after this side ended it. Node
 * ends the socket of a session closed gracefully (the graceful shutdown's `GOAWAY`, once the
 * last stream is done) and then waits for the client's end of the connection, which a client
 * that keeps its side open never sends: `close()` waited for it until its timeout cut it, where
 * an idle HTTP/1.1 connection is closed at once. The grace lets a client read the last answer
 * and `GOAWAY` before the close (a close with the client's bytes unread would reset the
 * connection, and with it what the client has not read yet), as the lingering close of an
 * HTTP/1.1 connection does.
 */
function closeAfterOurEnd(socket: Socket): void {
  socket.once('finish', () => {
    const timer = setTimeout(() => socket.destroy(), LINGER_TIME);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}

/**
 * Answers `408` (or resets the stream) when the request body is not whole after `timeout` ms.
 * After the 408, an app still reading the body sees it broken off (`breakOffRequest`), not the
 * clean, shorter end Node gives a stream closed with `NO_ERROR`.
 */
function limitRequest(stream: ServerHttp2Stream, timeout: number): void {
  if (timeout <= 0) return;
  const timer = setTimeout(() => {
    if (stream.closed || stream.destroyed) return;
    if (stream.headersSent) {
      stream.close(constants.NGHTTP2_CANCEL); // Node fails the body's read itself (an error close)
      return;
    }
    // The client gets this 408, not the app's answer: the access log says so, not 499.
    const environ = environOfExchange(stream);
    if (environ !== undefined) serverStatusKey.set(environ, 408);
    stream.respond({ ':status': 408, 'content-type': 'text/plain; charset=utf-8', 'content-length': TIMEOUT_BODY.length });
    stream.end(TIMEOUT_BODY, () => {
      if (!stream.closed) stream.close(constants.NGHTTP2_NO_ERROR);
      breakOffRequest(stream);
    });
  }, within(timeout));
  timer.unref();
  const stop = () => clearTimeout(timer);
  stream.once('end', stop);
  stream.once('close', stop);
}

/**
 * Destroys the request of `stream` (the app's `Http2ServerRequest`, found through its environ)
 * once the stream is being closed before its body arrived whole: Node would end that body as
 * if it were complete, so a form or JSON cut off by `requestTimeout` would read as a shorter
 * one; destroyed, a reader gets a premature close (a 400 from the body readers). A request the
 * app was not called for yet has no reader and is left alone. As `refuseRestOfBody` does.
 */
function breakOffRequest(stream: ServerHttp2Stream): void {
  const environ = environOfExchange(stream);
  const exchange = environ === undefined ? undefined : exchangeOf(environ);
  const req = exchange === undefined ? undefined : 'req' in exchange ? exchange.req : exchange;
  if (req !== undefined && !req.destroyed && !req.complete) req.destroy();
}
