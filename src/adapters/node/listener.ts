/**
 * The servers behind `serve()`: plain HTTP/1.1 (`node:http`), HTTP/1.1 over TLS
 * (`node:https`), HTTP/2 over TLS with HTTP/1.1 on the same port (`node:http2`,
 * `allowHTTP1`, ALPN decides), or cleartext HTTP/2 next to HTTP/1.1 (h2c). Whatever the kind,
 * the app gets the same `request` events and the same limits apply.
 *
 * @module
 */
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import type { Server as NetServer, Socket } from 'node:net';
import type { TlsOptions } from 'node:tls';
import { type ConnectionCaps, capConnections, limitFirstByte, releaseFirstByte } from './connections.ts';
import { type Sessions, trackSessions } from './h2-sessions.ts';
import { acceptH2c } from './h2c.ts';
import { applyHttp1Options } from './http1-fallback.ts';
import { DEFAULT_HEADER_BLOCK_LIMIT } from './http2-compat.ts';
import { type H2RequestLimits, h2HeaderLimits } from './h2-header-limits.ts';
import { keepPeerAddress } from './peer.ts';
import { connectionClosed, hearsClose, watchable } from './client-watch.ts';
import { answerClientError } from './client-error.ts';
import { logServerHandshakeFailures } from './handshake-failures.ts';
import type { Reporter } from './refused.ts';
import type { LogStream } from '../../gateway/types.ts';

/** What {@link createListener} builds: the protocols, the limits, and server options. */
export interface ListenerOptions extends ConnectionCaps {
  /** TLS options (`cert`, `key`, …): HTTPS. */
  tls: TlsOptions | undefined;
  /** `true`: HTTP/2 over TLS with HTTP/1.1 fallback; `'h2c'`: cleartext HTTP/2 next to HTTP/1.1. */
  http2: boolean | 'h2c';
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  firstByteTimeout: number;
  /**
   * Node's `maxHeadersCount` for HTTP/1; HTTP/2 gets as many field lines, and more for its
   * pseudo-fields and Cookie crumbs, in as many octets as `maxHeaderSize` allows HTTP/1
   * ({@link h2HeaderLimits}).
   */
  maxHeadersCount: number;
  /** Options for the `create*Server` call; they win over the above. */
  server: http.ServerOptions | http2.SecureServerOptions;
  /** Where the requests Node's HTTP/1 parser refused are reported (`serve()`'s `onRefused`). */
  report: Reporter | undefined;
  /** Where connections closed at `maxConnections` are logged (`serve()`'s `log`; standard error when undefined). */
  log: LogStream | undefined;
}

/** The servers of one `serve()`. */
export interface Listener {
  /** The server that listens: `http.Server`, `https.Server` or `Http2SecureServer`. */
  readonly server: NetServer;
  /** `https` behind TLS, else `http`. */
  readonly scheme: 'http' | 'https';
  /** The servers that emit `request` and `checkContinue` (one, or two for h2c). */
  readonly requestServers: readonly NetServer[];
  /** With HTTP/2, what a request's head is held to: the header list size answered `431`, the `:path` length answered `414` (`h2HeaderLimits`); else undefined. */
  readonly h2Requests: H2RequestLimits | undefined;
  /**
   * Stops accepting connections; `done` runs once every connection has closed, and every
   * HTTP/2 session has emitted `close` (after its streams' answers). `idle: 'close'`
   * closes the idle HTTP/1 connections now (Node's `server.close()`); `'expire'` leaves them
   * to their keep-alive timeout or their client.
   */
  stop(idle: IdleConnections, done: () => void): void;
  /**
   * Sends `GOAWAY` on idle HTTP/2 sessions, closes the connections that have sent nothing for
   * {@link SILENT_CONNECTION_GRACE} ms since their accept (behind TLS, their handshake), and
   * unless `http1` is false (`idle: 'expire'`) idle HTTP/1 connections; the close calls it
   * again every 25 ms.
   */
  closeIdle(http1?: boolean): void;
  /** Cuts every connection at once. */
  closeAll(): void;
}

/** What `close()` does with idle HTTP/1 keep-alive connections: see `ServerHandle.close`. */
export type IdleConnections = 'close' | 'expire';

/**
 * Builds the server(s) for `options`, with the connection caps, the first-byte wait, Node's
 * HTTP/1 timeouts and their HTTP/2 counterparts applied, and the requests Node's HTTP/1
 * parser refuses answered with a reason (`answerClientError`).
 *
 * @throws TypeError for `http2: true` without `tls`, or `http2: 'h2c'` with it.
 */
export function createListener(options: ListenerOptions): Listener {
  const { tls, report } = options;
  const refuse = (error: Error, socket: Socket) => answerClientError(error, socket, report);
  if (options.http2 === true && tls === undefined) {
    throw new TypeError("serve: http2: true needs tls ({ cert, key }); use http2: 'h2c' for cleartext HTTP/2");
  }
  if (options.http2 === 'h2c' && tls !== undefined) throw new TypeError("serve: http2: 'h2c' is cleartext HTTP/2: drop tls, or use http2: true");
  const http1Options = {
    headersTimeout: options.headersTimeout,
    requestTimeout: options.requestTimeout,
    keepAliveTimeout: options.keepAliveTimeout,
    // Node checks the headers and request timeouts this often (its default, 30 s, lets a
    // timed-out connection linger for that much longer).
    connectionsCheckingInterval: 1_000,
    // An HTTP/1.1 request without Host is answered by createEnviron, with a reason (Node's own
    // answer is a bare 400).
    requireHostHeader: false,
    // A request without `Content-Length` or `Transfer-Encoding` has no body (RFC 9112 §6.3):
    // Node then skips the request stream's `end` and `close` events and their ticks (Node
    // 24.12 and later; Node 22 ignores the option). tsgi reads such a body as empty and
    // watches the response and the connection, never that stream, for the client's leaving.
    optimizeEmptyRequests: true,
  };
  // Its `settings` hold the user's over tsgi's: they go after `options.server`, whose own would replace tsgi's.
  const { headerListSize, targetLength, ...h2Limits } = h2HeaderLimits(options.maxHeadersCount, options.server as http.ServerOptions & http2.ServerOptions);
  const sessionLimits = {
    firstByteTimeout: options.firstByteTimeout,
    keepAliveTimeout: options.keepAliveTimeout,
    requestTimeout: options.requestTimeout,
    maxSendHeaderBlockLength: (options.server as http2.ServerOptions).maxSendHeaderBlockLength ?? DEFAULT_HEADER_BLOCK_LIMIT,
    // Node's default, when a user's `settings` leaves it out explicitly (`undefined`): 2^32-1.
    maxConcurrentStreams: h2Limits.settings.maxConcurrentStreams ?? 2 ** 32 - 1,
  };
  if (tls !== undefined) {
    const tlsOptions = { handshakeTimeout: options.firstByteTimeout || 120_000, ...tls };
    let server: https.Server | http2.Http2SecureServer;
    if (options.http2 === true) {
      const secureOptions = { ...tlsOptions, ...http1Options, allowHTTP1: true, ...(options.server as http2.SecureServerOptions), ...h2Limits };
      server = http2.createSecureServer(secureOptions);
      // Node 22 leaves them off its HTTP/1.1 fallback (Node 24 applies them).
      applyHttp1Options(server, secureOptions);
    } else {
      server = https.createServer({ ...tlsOptions, ...http1Options, ...(options.server as http.ServerOptions) });
    }
    (server as http.Server).maxHeadersCount = options.maxHeadersCount;
    server.on('clientError', refuse);
    logServerHandshakeFailures(server, options.log);
    // The TLS socket a request sees is not the TCP socket `trackSocket` hears.
    server.on('secureConnection', watchable);
    keepPeerAddress(server, true);
    capConnections(server, options, options.log);
    limitFirstByte(server, 'secureConnection', options.firstByteTimeout, [server]);
    const sessions = options.http2 === true ? trackSessions(server as http2.Http2SecureServer, sessionLimits) : undefined;
    return withClose(server, 'https', [server], sessions, options.http2 === true ? { headerListSize, targetLength } : undefined);
  }
  const server = http.createServer({ ...http1Options, ...(options.server as http.ServerOptions) });
  server.maxHeadersCount = options.maxHeadersCount;
  server.on('clientError', refuse);
  let sessions: Sessions | undefined;
  const requestServers: NetServer[] = [server];
  if (options.http2 === 'h2c') {
    // `options.server` goes to both servers, as it does to the one that speaks both over TLS:
    // each takes the options it knows (`settings` the HTTP/2 one, `maxHeaderSize` the other).
    const h2 = http2.createServer({ ...(options.server as http2.ServerOptions), ...h2Limits });
    sessions = trackSessions(h2, sessionLimits);
    acceptH2c(server, h2, (socket) => releaseFirstByte(socket));
    requestServers.push(h2);
  }
  keepPeerAddress(server);
  capConnections(server, options, options.log);
  limitFirstByte(server, 'connection', options.firstByteTimeout, [server]);
  return withClose(server, 'http', requestServers, sessions, options.http2 === 'h2c' ? { headerListSize, targetLength } : undefined);
}

/**
 * How long (ms) a connection that has sent nothing yet is given from its accept (behind TLS,
 * from its handshake) before the graceful close (`idle: 'close'` or `'expire'`) closes it: a client that
 * connected just before the close sends its request within it and is answered, while a
 * browser's preconnect or a pool's spare does not hold the close until `firstByteTimeout`.
 * Go's `Server.Shutdown` gives such a connection 5 s; uvicorn closes it at once. An HTTP/2
 * connection past its preface is a session, which `Sessions.closeIdle` sends `GOAWAY` at once
 * when it has no open stream, as Go does.
 */
const SILENT_CONNECTION_GRACE = 1_000;

/**
 * Keeps `socket` in `open` until it closes; its `close` also tells the layers watching a
 * request whose app still works there that the client is gone (`connectionClosed`).
 */
function trackSocket(open: Set<Socket>, socket: Socket): void {
  open.add(socket);
  hearsClose(socket);
  socket.once('close', () => {
    open.delete(socket);
    connectionClosed(socket);
  });
}

/**
 * The {@link Listener} of `server`: idle HTTP/1 connections closed by Node, sessions by
 * `sessions`, and every connection `server` accepted cut by `closeAll`.
 */
function withClose(server: NetServer, scheme: 'http' | 'https', requestServers: NetServer[], sessions: Sessions | undefined, h2Requests: H2RequestLimits | undefined): Listener {
  const http1 = server as Partial<Pick<http.Server, 'closeIdleConnections' | 'closeAllConnections'>>;
  // Node's `closeAllConnections` knows only the connections its HTTP/1 parser has: not one
  // still in the TLS handshake (nothing sent, or a ClientHello cut short), nor h2c's (a
  // connection whose first bytes have not told HTTP/1 from HTTP/2 yet, or one an HTTP/2
  // session holds: a destroyed session leaves its socket open until the client reads what was
  // sent), and an Http2SecureServer has none. Each accepted socket is kept to be cut by hand.
  const sockets = new Set<Socket>();
  // When each connection was accepted (and behind TLS, its handshake done), in `performance.now()` ms.
  const since = new WeakMap<Socket, number>();
  server.on('connection', (socket: Socket) => {
    since.set(socket, performance.now());
    trackSocket(sockets, socket);
  });
  // Behind TLS a request is read from the TLS socket: its TCP one has read the handshake.
  const secure = new Set<Socket>();
  if (scheme === 'https') {
    server.on('secureConnection', (socket: Socket) => {
      since.set(socket, performance.now());
      secure.add(socket);
      socket.once('close', () => secure.delete(socket));
    });
  }
  /** Destroys `socket` if it has read nothing in the {@link SILENT_CONNECTION_GRACE} ms since it was accepted (a TLS one: since its handshake). */
  const closeSilent = (socket: Socket, now: number) => {
    if (socket.bytesRead === 0 && now - (since.get(socket) ?? 0) >= SILENT_CONNECTION_GRACE) socket.destroy();
  };
  return {
    server,
    scheme,
    requestServers,
    h2Requests,
    stop(idle, done) {
      // The server's `close` can come before its HTTP/2 sessions' (and their answers'): then done.
      const stopped = () => (sessions === undefined ? done() : void sessions.closed().then(done));
      if (idle === 'close') {
        server.close(stopped);
        return;
      }
      // Node's `close()` of an HTTP/1 server closes its idle connections first, by a call to
      // the server's own `closeIdleConnections`: shadowed for that call, they stay.
      const own = Object.getOwnPropertyDescriptor(server, 'closeIdleConnections');
      Object.defineProperty(server, 'closeIdleConnections', { value: () => {}, configurable: true, writable: true });
      try {
        server.close(stopped);
      } finally {
        if (own) Object.defineProperty(server, 'closeIdleConnections', own);
        else delete (server as Partial<http.Server>).closeIdleConnections;
      }
    },
    closeIdle(closeHttp1 = true) {
      if (closeHttp1) http1.closeIdleConnections?.();
      // Nor does Node take a connection that has sent nothing yet for idle (its head timer
      // runs from the connect): a browser's preconnect held the close until
      // `firstByteTimeout`. One that has read no byte (behind TLS, no byte past its
      // handshake: an HTTPS preconnect) is closed once it has been silent for
      // SILENT_CONNECTION_GRACE, so a client that connected just before the close and is
      // sending its request now is still answered (the close's sweep calls this again).
      // Under `idle: 'expire'` too: that keeps connections a proxy may be reusing, and one
      // that has sent nothing has not been used yet.
      const now = performance.now();
      for (const socket of sockets) closeSilent(socket, now);
      for (const socket of secure) closeSilent(socket, now);
      sessions?.closeIdle();
    },
    closeAll() {
      http1.closeAllConnections?.();
      sessions?.closeAll();
      for (const socket of sockets) socket.destroy();
    },
  };
}
