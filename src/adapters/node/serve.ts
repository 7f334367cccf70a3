/**
 * `serve()`: a `node:http` server running a gateway app, with a graceful `close()`.
 *
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppLike } from '../../gateway/types.ts';
import type { NodeEnvironOptions } from './environ.ts';
import type { ServerState } from './state.ts';
import { createHandler } from './handler.ts';
import { DEFAULT_MAX_HEADERS } from './environ.ts';
import { DEFAULT_FIRST_BYTE_TIMEOUT, defaultMaxConnections, limitConnections } from './connections.ts';

/**
 * Options of {@link serve}: those of `toNodeHandler` ({@link NodeEnvironOptions}: `log`, where
 * app errors are logged, `serverName`, which defaults to `host` here, …) and the listening
 * address.
 */
export interface ServeOptions extends NodeEnvironOptions {
  /** Address to bind; default `127.0.0.1`. */
  host?: string;
  /** Port to bind; default `8000`; `0` picks a free port. */
  port?: number;
  /**
   * Milliseconds for the whole request head to arrive once its first byte did; past it the
   * client gets `408` and the connection closes (slowloris). Default 20 000 (Node's 60 000).
   */
  headersTimeout?: number;
  /** Milliseconds for the whole request, body included, to arrive; then `408`. Default 300 000. */
  requestTimeout?: number;
  /** Milliseconds an idle keep-alive connection is kept between requests. Default 5 000. */
  keepAliveTimeout?: number;
  /**
   * Milliseconds a new connection may stay silent before it is closed: a connection that sends
   * nothing never starts the headers timeout. Default 10 000; 0 turns it off.
   */
  firstByteTimeout?: number;
  /**
   * Most connections open at once; past it new connections are closed as they arrive, so
   * descriptors remain for the clients being served. Default 80 % of the process's open-file
   * limit, at most 10 000 (4 096 where the limit cannot be read).
   */
  maxConnections?: number;
  /**
   * Most connections open at once from one client address; 0 (the default) sets no cap.
   * Behind a proxy every client has the proxy's address: leave it off there.
   */
  maxConnectionsPerClient?: number;
  /** Options passed to `http.createServer` (`maxHeaderSize`, TLS-free extras…); they win over the above. */
  server?: http.ServerOptions;
}

/** A running server, as answered by {@link serve}. */
export interface ServerHandle {
  /** The underlying `http.Server`. */
  readonly server: http.Server;
  /** The bound address, e.g. `127.0.0.1` or `::1`. */
  readonly host: string;
  /** The bound port (the real one when `port: 0` was asked). */
  readonly port: number;
  /** `http://host:port`, with IPv6 addresses in brackets. */
  readonly url: string;
  /**
   * Stops accepting connections, lets requests in flight finish, and resolves when the server
   * is closed. Idle keep-alive connections are closed at once, busy ones as soon as their
   * response ends, and answers started meanwhile carry `Connection: close`. After `timeout`
   * milliseconds (default 10 000) the remaining connections are cut. Calling it again answers
   * the same promise.
   */
  close(options?: { timeout?: number }): Promise<void>;
}

/**
 * Serves a gateway app with `node:http`.
 *
 * Responses: the headers go out with the first body chunk (or at the end of an empty body);
 * a body known whole (an array, or a stream that ends after one chunk) gets `Content-Length`,
 * other streams go chunked, with backpressure (the next chunk is asked for only once the
 * socket took the last). HEAD, 204 and 304 answers carry no body. Hop-by-hop fields from the
 * app are dropped (`Connection: close` is honoured). An app-declared `Content-Length` must
 * match the body: a mismatch known before sending answers 500, one found while streaming cuts
 * the connection. When the client leaves, the body iterator's `return()` runs and
 * `tsgi.signal` aborts. A response sent before the request body was read whole closes the
 * connection gracefully (the rest of the body is discarded for up to 2 s / 4 MiB), unless the
 * app never touched a small body (at most 256 KiB), which Node drains, keeping the connection.
 *
 * @example
 * ```ts
 * const server = await serve(app, { host: '127.0.0.1', port: 8000 });
 * console.log(`Serving on ${server.url}`);
 * process.once('SIGINT', () => server.close());
 * ```
 *
 * @returns once listening: the bound address and a graceful `close()`.
 * @throws (rejects) when the address cannot be bound (`EADDRINUSE`, `EACCES`).
 */
export async function serve(app: AppLike, options: ServeOptions = {}): Promise<ServerHandle> {
  const host = options.host ?? '127.0.0.1';
  const state: ServerState = { closing: false };
  const server = http.createServer({
    headersTimeout: options.headersTimeout ?? 20_000,
    requestTimeout: options.requestTimeout ?? 300_000,
    keepAliveTimeout: options.keepAliveTimeout ?? 5_000,
    // Node checks the headers and request timeouts this often (its default, 30 s, lets a
    // timed-out connection linger for that much longer).
    connectionsCheckingInterval: 1_000,
    ...options.server,
  });
  limitConnections(server, {
    maxConnections: options.maxConnections ?? defaultMaxConnections(),
    maxConnectionsPerClient: options.maxConnectionsPerClient ?? 0,
    firstByteTimeout: options.firstByteTimeout ?? DEFAULT_FIRST_BYTE_TIMEOUT,
  });
  // Past maxHeadersCount Node answers 431 itself (Node 24) or drops fields silently (older
  // versions): keep one more than our limit so the handler sees the excess and answers 431
  // (see NodeEnvironOptions.maxHeaders).
  server.maxHeadersCount = (options.maxHeaders ?? DEFAULT_MAX_HEADERS) + 1;
  const handlerOptions = { ...options, serverName: options.serverName ?? host };
  server.on('request', createHandler(app, handlerOptions, state));
  // With a 'checkContinue' listener Node no longer answers `100 Continue` by itself: the
  // handler sends it when the app first reads the body.
  server.on('checkContinue', createHandler(app, handlerOptions, state, true));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8000, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.address.includes(':') ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    server,
    host: address.address,
    port: address.port,
    url: `http://${urlHost}:${address.port}`,
    close({ timeout = 10_000 } = {}) {
      closing ??= new Promise<void>((resolve) => {
        state.closing = true;
        const timer = setTimeout(() => server.closeAllConnections(), timeout);
        // Keep-alive connections become idle as their last response ends: close them then.
        const sweep = setInterval(() => server.closeIdleConnections(), 25);
        timer.unref();
        sweep.unref();
        server.close(() => {
          clearTimeout(timer);
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
