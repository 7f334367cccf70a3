/**
 * `serve()`: a Node server running a gateway app (HTTP/1.1, TLS, HTTP/2, a Unix socket), with
 * a graceful `close()`.
 *
 * @module
 */
import type http from 'node:http';
import type http2 from 'node:http2';
import type { TlsOptions } from 'node:tls';
import type { AppLike } from '../../gateway/types.ts';
import { H2_REQUEST_LIMITS_OPTION, NODE_ENVIRON_OPTIONS, type NodeEnvironOptions, type ServerEnvironOptions, WAIT_UNTIL_OPTION } from './environ.ts';
import { type OptionNames, booleanOption, checkOptions } from '../../gateway/option-names.ts';
import { NODE_SERVER_OPTIONS, NODE_TLS_SERVER_OPTIONS, SERVE_SERVER_NESTED, SERVE_TLS_NESTED } from './server-option-names.ts';
import { type ServerState, waitUntilOf } from './state.ts';
import { connectRefuser, createHandler, expectationRefuser } from './handler.ts';
import { refusalReporter } from './refused.ts';
import { DEFAULT_MAX_HEADERS } from './environ.ts';
import { checkTrustedHosts } from '../../http/trusted-hosts.ts';
import { checkRedactQuery } from '../../gateway/redact-query.ts';
import { defaultMaxConnections, firstByteTimeoutOf } from './connections.ts';
import { createListener } from './listener.ts';
import { type ServerHandle, handleOf } from './handle.ts';
import { shutdownWatchFor } from '../../gateway/shutdown.ts';
import { listenOn } from './listen.ts';
import { shownValue } from '../../gateway/shown.ts';
import { DEFAULT_IPV6_SUBNET } from '../../http/client-prefix.ts';
import { hostMistake } from './host-port.ts';
import { keepAnswerCounts } from './being-answered.ts';
import { type UpgradeHandler, acceptUpgrades } from './upgrade.ts';
import type { UpgradeCloseListener } from './upgrade-closed.ts';

export type { CloseOptions, ServerHandle } from './handle.ts';
export type { UpgradeContext, UpgradeHandler } from './upgrade.ts';
export type { ClosedUpgrade, UpgradeCloseListener } from './upgrade-closed.ts';

/**
 * Options of {@link serve}: those of `toNodeHandler` ({@link NodeEnvironOptions}: `log`, where
 * app errors are logged, `serverName`, which defaults to `host` here, …) and the listening
 * address.
 */
export interface ServeOptions extends NodeEnvironOptions {
  /**
   * Address to bind; default `127.0.0.1` (loopback alone); `'0.0.0.0'` or `'::'` for every
   * interface.
   *
   * @throws TypeError (at once) for an empty string (an unset `HOST=`), which Node would take
   *   for every interface, or one holding a port (`'localhost:3000'`, `'[::1]:8000'`), in
   *   brackets (`'[::1]'`: give an IPv6 address bare, `'::1'`) or written as a URL, which Node
   *   would look up as a host name; the message names the options to give.
   */
  host?: string | undefined;
  /** Port to bind; default `8000`; `0` picks a free port. */
  port?: number | undefined;
  /**
   * A Unix domain socket to listen on instead of `host` and `port` (nginx's
   * `proxy_pass http://unix:/run/app.sock:`). The file gets `pathMode`, by default
   * read-writable by every local user (0o666, as a port on the machine would be: restrict its
   * folder, or `pathMode`, to restrict access), and is removed when the server closes.
   * `SERVER_NAME` is then `localhost` and `SERVER_PORT` the scheme's port (80, 443), as
   * gunicorn does.
   */
  path?: string | undefined;
  /**
   * The permission bits of the `path` socket once bound (connecting needs write permission on
   * it): `0o660` lets the owner and the socket's group connect, as nginx's user in the app's
   * group (`tsgi serve --uds-mode 660`; systemd's `SocketMode=` for a socket it binds); default
   * `0o666`, every local user. Set with `chmod` after `listen`, never through a symbolic link
   * put at the path since, rather than with a process-wide umask (gunicorn's `--umask`), which
   * would also apply to every file the app creates meanwhile.
   *
   * @throws TypeError (at once) for a value that is not an integer from 0 to 0o777, or given
   *   without `path`.
   */
  pathMode?: number | undefined;
  /**
   * A socket already bound and open in this process, by file descriptor, to listen on instead
   * of `host` and `port` (uvicorn's and gunicorn's `--fd`): systemd socket activation, where a
   * `.socket` unit binds the port and hands it over as descriptor 3, so the port stays open
   * while the service restarts; or a supervisor that binds for its children. A TCP or a Unix
   * socket, listening or only bound. `SERVER_NAME` and `SERVER_PORT` come from each
   * connection's local address (on a Unix socket, `localhost` and the scheme's port). Unix
   * platforms only (Node cannot listen on a descriptor on Windows). In a node:cluster worker,
   * the descriptor is the primary's, as node:cluster has it: the primary listens on it and
   * shares the socket with its workers.
   *
   * @throws TypeError (at once) for a value that is not a non-negative integer, or given with
   *   `path`; rejects (`listen EINVAL`, libuv's answer) for a descriptor that is not open or no
   *   socket, and `EEXIST` for one this process already serves.
   */
  fd?: number | undefined;
  /**
   * TLS: serve HTTPS with these `tls.createServer` options, at least `{ cert, key }` (PEM
   * strings or Buffers); `tsgi.url_scheme` is then `https`. A TLS handshake gets
   * `firstByteTimeout` (or 120 s when that is 0) unless `handshakeTimeout` is given. Client
   * certificates (mutual TLS) are Node's options too: `ca` (the CAs that sign them, PEM),
   * `requestCert: true` to ask for one, and `rejectUnauthorized` (Node's default `true` refuses
   * a client without a certificate the `ca` verifies in the handshake; `false` lets every
   * client in and the app decide); with `requestCert` the environ has the `SSL_CLIENT_*` keys
   * (see `clientCertificate`). A key a few letters off one of Node's (`requestcert`) is
   * refused, naming the one meant; any other goes to Node as given.
   */
  tls?: TlsOptions | undefined;
  /**
   * HTTP/2 (RFC 9113) with `node:http2`. `true`: over TLS (needs `tls`), HTTP/1.1 clients
   * served on the same port (ALPN decides). `'h2c'`: cleartext HTTP/2 for clients that know
   * the server speaks it (prior knowledge: load balancers, `curl --http2-prior-knowledge`),
   * HTTP/1.1 for the rest, on the same port. The app sees the same environ either way, with
   * `SERVER_PROTOCOL` `HTTP/2.0` and `HTTP_HOST` from `:authority`; the limits and timeouts
   * below apply per connection and per stream. Default `false` (HTTP/1.1 only).
   *
   * @throws TypeError (at once) for `true` without `tls`, or `'h2c'` with it.
   */
  http2?: boolean | 'h2c' | undefined;
  /**
   * Milliseconds for the whole request head to arrive once its first byte did; past it the
   * client gets `408` and the connection closes (slowloris). Default 20 000 (Node's 60 000), or
   * `requestTimeout` when that is shorter (Node requires it to be at most that).
   */
  headersTimeout?: number | undefined;
  /** Milliseconds for the whole request, body included, to arrive; then `408`. Default 300 000. */
  requestTimeout?: number | undefined;
  /** Milliseconds an idle keep-alive connection is kept between requests. Default 5 000. */
  keepAliveTimeout?: number | undefined;
  /**
   * Milliseconds a new connection may stay silent before its first request's head is in: then
   * it is closed without an answer (nor `onRefused`), whether it sent nothing (which never
   * starts the headers timeout) or stalled partway through that head (each byte starts the
   * wait again; a head trickled in faster is `headersTimeout`'s `408`). Default 10 000; 0 turns
   * it off; one past 2147483647 (`setTimeout`'s limit, 24.8 days), `Infinity` included, is
   * taken as that limit.
   *
   * @throws TypeError (at once) for a value that is not a non-negative number (`NaN`, `-1`, a
   *   string).
   */
  firstByteTimeout?: number | undefined;
  /**
   * Most connections open at once; past it new connections are closed as they arrive, so
   * descriptors remain for the clients being served, and `log` is told (`tsgi: connection
   * limit reached …` at once, then at most every 10 s with the count). Default 80 % of the
   * process's open-file limit, at most 10 000 (4 096 where the limit cannot be read).
   *
   * @throws TypeError (at once) for a value that is not a positive integer (`NaN`, a string).
   */
  maxConnections?: number | undefined;
  /**
   * Most connections open at once from one client (an IPv4 address, an IPv6 prefix: see
   * `ipv6Subnet`); 0 (the default) sets no cap. The connections closed past it are logged as
   * for `maxConnections`. Behind a proxy every
   * client has the proxy's address: leave it off there.
   *
   * @throws TypeError (at once) for a value that is not a non-negative integer.
   */
  maxConnectionsPerClient?: number | undefined;
  /**
   * The prefix length, in bits, by which `maxConnectionsPerClient` counts an IPv6 client, as
   * express-rate-limit 8's `ipv6Subnet`: an ISP gives each customer a /64 or a /56, and a
   * client may connect from any address of it, so a count per address would be no cap. The
   * log names the prefix (`2001:db8:1:100::/56`). An IPv4 client, or one a dual-stack socket
   * reports IPv4-mapped (`::ffff:192.0.2.7`), counts by its IPv4 address. Default 56; `64` for
   * networks that give out /64s, `128` for each address apart.
   *
   * @throws TypeError (at once) for a value that is not an integer from 1 to 128.
   */
  ipv6Subnet?: number | undefined;
  /**
   * Most requests in flight at once in this process (uvicorn's `--limit-concurrency`): past
   * it a request is answered `503 Service Unavailable` without calling the app, and its
   * connection closed. A request is in flight from its head until its answer has been sent or
   * its client has gone. Default none.
   */
  maxConcurrentRequests?: number | undefined;
  /**
   * Options passed to `http.createServer`, `https.createServer` or `http2.createSecureServer`
   * (with `'h2c'`, to both `http.createServer` and `http2.createServer`) (`maxHeaderSize`,
   * HTTP/2 `settings`…); they win over the above. A key a few letters off one of Node's
   * (`maxHeadersize`) is refused, naming the one meant; any other goes to Node as given (the
   * keys of `settings` are not checked). Over HTTP/2, a request whose header list passes
   * `maxHeaderSize` plus 40 octets a line (27 944 octets by default; RFC 9113 §6.5.2 counting)
   * or a `settings.maxHeaderListSize` given here is answered `431`, that stream alone, and one
   * whose `:path` is longer than `maxHeaderSize` (or that `settings.maxHeaderListSize`) `414`,
   * as HTTP/1.1 answers such a request target; twice the list size is advertised as
   * `SETTINGS_MAX_HEADER_LIST_SIZE`, past which Node resets the stream (no answer).
   */
  server?: http.ServerOptions | http2.SecureServerOptions | http2.ServerOptions | undefined;
  /**
   * Takes the connections of HTTP/1.1 `Upgrade` requests (RFC 9110 §7.8), WebSockets above all,
   * on the same port as the app: `(req, socket, head, context)`, Node's `upgrade` event with
   * a context whose `shutdown` is the server's shutdown signal and `environ` the request's (see {@link UpgradeHandler}), e.g. a `ws`
   * `WebSocketServer({ noServer: true })`'s `handleUpgrade`. The request's head is read and
   * limited as any request's (`maxHeaderSize`, `maxHeaders`, `headersTimeout`), and must pass
   * the same rules (`trustedHosts`, `scriptName`: else `400`, `404`); an upgrade
   * offering only `h2c` goes to the app, one pipelined behind answers still going out waits
   * for them, and one asked once `close()` has begun is answered `503`. `close()` aborts `context.shutdown`, waits for the upgraded connections to close, and cuts
   * those left at its timeout. Default none: an `Upgrade` request is then the app's, answered
   * with `Connection: close` (HTTP/2 has no `Upgrade`; RFC 8441's WebSockets over HTTP/2 are
   * not offered).
   *
   * @throws TypeError (at once) when it is not a function.
   */
  upgrade?: UpgradeHandler | undefined;
  /**
   * With `upgrade`: told of each upgrade the handler took once its connection has closed, a
   * {@link ClosedUpgrade} (`status` `101` for a WebSocket, the handler's own refusal, tsgi's
   * `500` for a failing handler, `499` when nothing was answered; the bytes sent after the
   * answer's head, the duration, `environ`), as nginx logs a WebSocket when it ends: the
   * access log line of an upgrade, which `accessLog` cannot write (it wraps the app, and no
   * upgrade reaches the app). An `HTTPException` the handler throws, and the refusals before it
   * (`400`, `404` of the request rules, `503` during shutdown), are told to `onRefused`
   * instead, at once. `tsgi serve` writes both to its access log. It may be `async`: `close()`
   * waits for its promise until its `timeout`; its error is logged to `log`. Default none.
   *
   * @throws TypeError (at once) when it is not a function.
   */
  onUpgradeClosed?: UpgradeCloseListener | undefined;
}

/** Every option of {@link ServeOptions}, checked when `serve` is called (`checkOptions`); `tsc` fails when it and the type differ. */
const SERVE_OPTIONS = { ...NODE_ENVIRON_OPTIONS, host: true, http2: true, port: true, path: true, pathMode: true, fd: true, tls: true, headersTimeout: true, requestTimeout: true, keepAliveTimeout: true, firstByteTimeout: true, maxConnections: true, maxConnectionsPerClient: true, ipv6Subnet: true, maxConcurrentRequests: true, server: true, upgrade: true, onUpgradeClosed: true } as const satisfies OptionNames<ServeOptions>;

/**
 * Serves a gateway app with `node:http`; with `tls`, `node:https`; with `http2`, `node:http2`
 * (HTTP/1.1 still served on the same port); with `path`, on a Unix socket; with `fd`, on a socket
 * already open (systemd socket activation).
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
 * A `CONNECT` request is answered `501 Not Implemented` without calling the app, and so is a
 * method Node's HTTP/1 parser does not know (outside `http.METHODS`: `FOO`, a lower-case `get`;
 * RFC 9110 §15.6.2), over HTTP/1.1 and HTTP/2 alike.
 *
 * @example
 * ```ts
 * const server = await serve(app, { host: '127.0.0.1', port: 8000 });
 * console.log(`Serving on ${server.url}`);
 * process.once('SIGINT', () => server.close());
 * ```
 *
 * @returns once listening: the bound address and a graceful `close()`.
 * @throws (rejects) when the address cannot be bound (`EADDRINUSE`, `EACCES`); a TypeError
 *   for `options` that are not an object (`serve(app, 3000)`), a `port` that is not a number
 *   (or a string of one, `process.env.PORT`), a `host` holding a port (`'localhost:3000'`) or white space (`'localhost '`) or empty, `http2: true`
 *   without `tls`, `'h2c'` with it, an `http2` or `clientCertificate` or `multiprocess` that is
 *   not a boolean (`'true'` from an environment variable; `http2` also takes `'h2c'`), an `fd` that is not a descriptor number
 *   or comes with `path`, a `maxBodySize`,
 *   `maxConcurrentRequests` or `maxConnectionsPerClient` that is not a non-negative integer, an
 *   `ipv6Subnet` that is not an integer from 1 to 128, a
 *   `maxConnections` or `maxHeaders` that is not a positive integer, a `serverName` that is no
 *   non-empty string, a `serverPort` that is no port (1 to 65535, or its decimal string), a
 *   `log` without a `write` method, a `bodyTimeout` or `sendTimeout`
 *   that is not a number from 0 to 2147483647, a `firstByteTimeout` that is not a non-negative
 *   number, a `shutdownSignal` that is
 *   not an `AbortSignal`, an `upgrade` or `onUpgradeClosed` that is not a function, a
 *   `trustedHosts` entry that is no host name (`'localhost:8000'`, `'*.example.com'`), an
 *   unknown option (`checkOptions`), a `tls` or `server` that is not a plain object or holds a
 *   misspelling of one of Node's options (`serve: unknown option "tls.requestcert": did you
 *   mean "requestCert"?`), or an
 *   Express, Connect or Koa
 *   app given as `app` (mount tsgi inside it with `toNodeHandler` instead); TLS errors for a
 *   bad certificate or key.
 */
export async function serve(app: AppLike, options: ServeOptions = {}): Promise<ServerHandle> {
  checkAddress(options);
  checkOptions('serve', options, SERVE_OPTIONS);
  checkOptions('serve', options.tls, NODE_TLS_SERVER_OPTIONS, SERVE_TLS_NESTED);
  checkOptions('serve', options.server, NODE_SERVER_OPTIONS, SERVE_SERVER_NESTED);
  const host = options.host ?? '127.0.0.1';
  // `NaN` would lift Node's `maxHeadersCount` (`maxHeaders + 1`) along with the count of fields.
  const maxHeaders = countOption('maxHeaders', options.maxHeaders ?? DEFAULT_MAX_HEADERS, 1);
  const maxConcurrentRequests = countOption('maxConcurrentRequests', options.maxConcurrentRequests ?? 0, 0);
  // Node takes `NaN` for no cap at all (not even the default) and a negative one for a cap below every connection.
  const maxConnections = countOption('maxConnections', options.maxConnections ?? defaultMaxConnections(), 1);
  const maxConnectionsPerClient = countOption('maxConnectionsPerClient', options.maxConnectionsPerClient ?? 0, 0, ' (0: no cap)');
  const ipv6Subnet = options.ipv6Subnet ?? DEFAULT_IPV6_SUBNET;
  if (!Number.isInteger(ipv6Subnet) || ipv6Subnet < 1 || ipv6Subnet > 128) {
    const got = shownValue(ipv6Subnet);
    const hint = '(128: each address apart)';
    throw new TypeError(`serve: ipv6Subnet must be an integer from 1 to 128 ${hint}, got ${got}`);
  }
  if (options.fd !== undefined) {
    if (!Number.isSafeInteger(options.fd) || options.fd < 0) throw new TypeError('serve: fd must be a non-negative integer (a file descriptor)');
    if (options.path !== undefined) throw new TypeError('serve: fd and path cannot be combined: listen on one socket');
  }
  if (options.pathMode !== undefined) {
    const mode: unknown = options.pathMode;
    if (!Number.isInteger(mode) || (mode as number) < 0 || (mode as number) > 0o777) {
      throw new TypeError(`serve: pathMode must be a permission mode from 0 to 0o777 (0o660: owner and group), got ${shownValue(mode)}`);
    }
    if (options.path === undefined) throw new TypeError('serve: pathMode needs path (a Unix socket)');
  }
  if (options.onUpgradeClosed !== undefined && typeof options.onUpgradeClosed !== 'function') {
    throw new TypeError('serve: onUpgradeClosed must be a function');
  }
  if (options.shutdownSignal !== undefined && !(options.shutdownSignal instanceof AbortSignal)) {
    throw new TypeError('serve: shutdownSignal must be an AbortSignal');
  }
  checkTrustedHosts(options.trustedHosts);
  checkRedactQuery(options.redactQuery, 'serve');
  // `'true'` from an environment variable would otherwise serve HTTP/1.1, unsaid.
  const http2 = options.http2 === 'h2c' ? 'h2c' : booleanOption('serve', 'http2', options.http2);
  // The SSL_CLIENT_* keys where a certificate is asked for (`server` options win, as there).
  const clientCertificate = booleanOption('serve', 'clientCertificate', options.clientCertificate, ((options.server as TlsOptions | undefined)?.requestCert ?? options.tls?.requestCert) === true);
  const requestTimeout = options.requestTimeout ?? 300_000;
  const state: ServerState = { closing: false, inFlight: 0, maxInFlight: maxConcurrentRequests, pumping: new Set(), upgraded: new Set(), waiting: new Set(), answering: 0, onAnswered: undefined, shutdown: new AbortController() };
  const report = refusalReporter(options.onRefused, options.log, options.redactQuery, waitUntilOf(state));
  const listener = createListener({
    report,
    log: options.log,
    tls: options.tls,
    http2,
    // Node wants the head's timeout within the whole request's.
    headersTimeout: options.headersTimeout ?? Math.min(20_000, requestTimeout || 20_000),
    requestTimeout,
    keepAliveTimeout: options.keepAliveTimeout ?? 5_000,
    firstByteTimeout: firstByteTimeoutOf(options.firstByteTimeout),
    maxConnections,
    maxConnectionsPerClient,
    ipv6Subnet,
    // Past maxHeadersCount Node answers 431 itself (Node 24) or drops fields silently (older
    // versions): keep one more than our limit so the handler sees the excess and answers 431
    // (see NodeEnvironOptions.maxHeaders).
    maxHeadersCount: maxHeaders + 1,
    server: options.server ?? {},
  });
  const path = options.path;
  const fd = options.fd;
  const handlerOptions: ServerEnvironOptions = {
    ...options,
    // On a descriptor's socket, each connection's local address (see `createEnviron`).
    serverName: options.serverName ?? (fd !== undefined ? undefined : path === undefined ? host : 'localhost'),
    serverPort: options.serverPort ?? (path === undefined ? undefined : listener.scheme === 'https' ? 443 : 80),
    shutdownSignal: shutdownSignalOf(state, options.shutdownSignal),
    clientCertificate,
    // Set as the environ is built, with the other `tsgi.*` keys: one shape for every request.
    [WAIT_UNTIL_OPTION]: waitUntilOf(state),
    [H2_REQUEST_LIMITS_OPTION]: listener.h2Requests,
  };
  for (const server of listener.requestServers) {
    const handle = createHandler(app, handlerOptions, state);
    server.on('request', handle);
    // With a 'checkContinue' listener Node no longer answers `100 Continue` by itself: the
    // handler sends it when the app first reads the body.
    const handleContinue = createHandler(app, handlerOptions, state, true);
    server.on('checkContinue', handleContinue);
    server.on('checkExpectation', expectationRefuser(report, handle, handleContinue));
    server.on('connect', connectRefuser(report));
  }
  const server = listener.server;
  keepAnswerCounts(server, state);
  if (options.upgrade !== undefined) {
    acceptUpgrades(server as http.Server, {
      handler: options.upgrade,
      shutdown: handlerOptions.shutdownSignal!,
      closing: () => state.closing,
      upgraded: state.upgraded,
      log: options.log,
      report,
      environ: handlerOptions,
      closed: options.onUpgradeClosed,
      waitUntil: waitUntilOf(state),
    });
  }
  await listenOn(server, fd !== undefined ? { fd } : path === undefined ? { port: options.port ?? 8000, host } : { path, mode: options.pathMode });
  return handleOf(listener, state, path, shutdownWatchFor(handlerOptions.shutdownSignal!), options.log);
}

/**
 * Refuses the address arguments of other servers' habits, which Node would take for something
 * else: `serve(app, 3000)` (Express's `app.listen(3000)`, served on 8000), a `port` that is no
 * number (`'http'`, which Node takes for a Unix socket's path), a `host` with a port
 * (`'localhost:3000'`, `'[::1]:8000'`), in brackets (`'[::1]'`), written as a URL or with white
 * space (`'localhost '`, from a `HOST=localhost ` line), each an
 * `ENOTFOUND` from Node (`hostMistake`), and an empty `host` (an unset `HOST=`), which Node takes
 * for every interface where the default is loopback alone. A port as a string of a number (`process.env.PORT`,
 * spaces or a newline around it) is taken, as Node takes it. The message shows a refused port
 * by its type alone when it is an object (a config object may hold secrets).
 * @throws TypeError naming what to write instead.
 */
function checkAddress(options: ServeOptions): void {
  if (typeof options !== 'object' || options === null) {
    // `app.listen(3000)`, `app.listen(process.env.PORT)`: the port they meant, when it is one.
    const raw: unknown = options;
    const given = typeof raw === 'number' || (typeof raw === 'string' && raw.trim() !== '') ? Number(raw) : NaN;
    const port = Number.isInteger(given) && given >= 0 && given <= 65535 ? given : 8000;
    throw new TypeError(`serve: options must be an object, as serve(app, { port: ${port} }) (got ${options === null ? 'null' : typeof options})`);
  }
  // Unknown: plain JavaScript and a config file give what the types do not allow.
  const { port, host }: { port?: unknown; host?: unknown } = options;
  // Node's `listen(port, host)` takes a string for a port when `Number(port) >= 0` (`'3000'`,
  // a PORT file's `'3000\n'`), for a Unix socket's path otherwise: that is refused, and an
  // empty one (`PORT=`), which Node refuses in other words.
  if (port !== undefined && typeof port !== 'number' && !(typeof port === 'string' && port.trim() !== '' && Number(port) >= 0)) {
    throw new TypeError(`serve: port must be a number from 0 to 65535 (got ${shownValue(port)}); a Unix socket is { path }`);
  }
  // Node listens on every interface for an empty host (`HOST=` in a deployment's environment),
  // where leaving it out listens on loopback alone.
  if (host === '') {
    throw new TypeError("serve: host is empty: leave it out to listen on 127.0.0.1, or give '0.0.0.0' or '::' to listen on every interface");
  }
  const mistake = typeof host === 'string' ? hostMistake(host) : null;
  if (mistake !== null) {
    const what = { space: 'holds white space', port: 'holds a port', brackets: 'is in brackets', url: 'is a URL' }[mistake.kind];
    const port = mistake.kind === 'brackets' || mistake.kind === 'space' || mistake.port === undefined ? '' : `, port: ${mistake.port}`;
    const instead = mistake.name === undefined ? 'give its host name alone' : `serve(app, { host: ${JSON.stringify(mistake.name)}${port} })`;
    throw new TypeError(`serve: host ${JSON.stringify(host)} ${what}: ${instead}`);
  }
}

/**
 * `value`, the option `name` of `serve()`, when it is an integer from `least` (0 or 1).
 *
 * @throws TypeError naming the option (`serve: maxConnections must be a positive integer`),
 *   `hint` after it.
 */
function countOption(name: string, value: number, least: 0 | 1, hint = ''): number {
  if (!Number.isSafeInteger(value) || value < least) {
    throw new TypeError(`serve: ${name} must be a ${least === 0 ? 'non-negative' : 'positive'} integer${hint}, got ${shownValue(value)}`);
  }
  return value;
}

/**
 * The `tsgi.shutdown_signal` of a server: aborted by its `close()`, and by the caller's own
 * signal when given one.
 */
function shutdownSignalOf(state: ServerState, given: AbortSignal | undefined): AbortSignal {
  return given === undefined ? state.shutdown.signal : AbortSignal.any([state.shutdown.signal, given]);
}
