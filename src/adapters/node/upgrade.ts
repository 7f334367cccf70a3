/**
 * HTTP/1.1 protocol upgrades (RFC 9110 §7.8) next to the app on the same port: `serve()`'s
 * `upgrade` option, for WebSockets with a library that speaks the protocol (the `ws`
 * package's `WebSocketServer({ noServer: true })`). tsgi decides which requests go there and
 * ties the upgraded connections to the server's limits and its graceful close; it reads and
 * writes nothing on them.
 *
 * @module
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Environ, LogStream } from '../../gateway/types.ts';
import { logError, logRequestError } from '../../gateway/log.ts';
import { isAbort } from '../../gateway/abort.ts';
import { redactQuery } from '../../gateway/redact-query.ts';
import { HTTPException } from '../../exceptions/base.ts';
import { HTTPRedirection, absoluteLocation } from '../../exceptions/redirects.ts';
import { releaseFirstByte } from './connections.ts';
import { type NodeEnvironOptions, createEnviron } from './environ.ts';
import type { Reporter } from './refused.ts';
import { rawAnswer } from './raw-answer.ts';
import { ignoreClientGone } from './client-error.ts';
import { callListener } from './listener-call.ts';
import { abortAtUpgradeClose } from './request-signal.ts';
import { type ClosedUpgrade, type UpgradeCloseListener, type UpgradeWatch, watchUpgrade } from './upgrade-closed.ts';

/**
 * What `serve()` hands an {@link UpgradeHandler} next to the connection, its fourth argument.
 * An object, so that later versions can add fields without changing the handler's signature.
 */
export interface UpgradeContext {
  /**
   * The server's shutdown signal (the app's `tsgi.shutdown_signal`), aborted when `close()`
   * begins (SIGINT or SIGTERM under `tsgi serve`): end the handler's connections then, a
   * WebSocket with close code `1001` ("going away", RFC 6455 §7.4.1), or `close()` cuts them
   * at its timeout. An upgrade asked once `close()` has begun is answered `503` without the
   * handler, but an `async` handler's awaits may outlast the start of `close()`: check
   * `shutdown.aborted` after them (a listener added to an aborted signal never runs). Remove
   * the listeners you add when a connection closes.
   */
  readonly shutdown: AbortSignal;
  /**
   * The request's environ, as the app would get it: built by `serve()` with its options
   * (`scriptName` applied, `trustedHosts` checked), and under `tsgi serve` with `--root-path`
   * and `--proxy-headers` applied as to the app's requests, so `REMOTE_ADDR` is the client's
   * address, `tsgi.url_scheme` and `HTTP_HOST` the ones it used, behind a trusted proxy
   * (`req.socket.remoteAddress` stays the peer's, the proxy's). `new Request(context.environ)`
   * reads it as the app's `Request` does (path, cookies, `remoteAddr`). One per upgrade; what
   * the handler sets on it is what `onUpgradeClosed` gets. Its `tsgi.signal` (`request.signal`)
   * aborts when the connection closes: the client gone (`client disconnected`, a reset while an
   * `async` handler awaits a lookup given it), the connection ended, or `close()` cutting it
   * at its timeout (`server shutting down`).
   */
  readonly environ: Environ;
}

/**
 * Takes over the connection of an HTTP/1.1 `Upgrade` request (Node's `upgrade` event,
 * RFC 9110 §7.8): `(req, socket, head, context)`, with `req` the request (its head read,
 * `req.headers`, `req.url`), `socket` the connection, `head` the bytes that came after the
 * head (the first frames, often empty; hand them on, as `ws`'s `handleUpgrade` takes them),
 * and `context` an {@link UpgradeContext} (`context.shutdown`, the server's shutdown signal;
 * `context.environ`, the request's environ, the client's address in `REMOTE_ADDR`). A request
 * body (a `Content-Length` or a chunked one, which no WebSocket handshake has) is not read as
 * HTTP: Node hands its bytes over in `head` as they came, chunk framing and all, and
 * `context.environ`'s `tsgi.input` reads empty.
 *
 * The handler answers on the raw socket: `101 Switching Protocols` (what `ws`'s
 * `handleUpgrade` writes), or a refusal (`403`, `404`, `426`) followed by `socket.end()`.
 * It may be `async`. An `HTTPException` it throws (or rejects with) before writing anything
 * (`HTTPForbidden`, `HTTPUpgradeRequired` with its `upgrade`, `createEnviron`'s
 * `HTTPBadRequest` for a request without Host; a redirect, `HTTPMovedPermanently` for an
 * endpoint that moved, with its `Location` made absolute as the app's is, which `ws`'s
 * `followRedirects` follows) is the answer: its status, reason, fields and
 * message, as plain text, and `onRefused` is told (unlogged, and unanswered when the client has
 * gone meanwhile). An `AbortError` it rejects with once the client has gone (a lookup given
 * `context.environ`'s `tsgi.signal`) only closes the connection. Another error it throws or rejects with is
 * logged to `serve()`'s `log`, and the connection is closed (`500` first when nothing was
 * written yet).
 */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, context: UpgradeContext) => void | Promise<void>;

/**
 * True when `upgrade`, a request's `Upgrade` field, offers only `h2c` (RFC 7540's cleartext
 * HTTP/2 upgrade, which `curl --http2` offers on every request): RFC 9113 deprecated it and
 * tsgi does not take it, so such a request is served as HTTP/1.1 by the app.
 */
function offersOnlyH2c(upgrade: string | undefined): boolean {
  return upgrade !== undefined && upgrade.split(',').every((protocol) => protocol.trim().toLowerCase().startsWith('h2c'));
}

/**
 * Writes a short plain-text HTTP/1.1 answer on `socket` ({@link rawAnswer}, with `fields`, an
 * exception's headers) and closes it once written. Answers the number of body bytes.
 */
function answerRaw(socket: Duplex, status: number, reason: string, detail: string, fields: Iterable<[string, string]> = []): number {
  const body = `${detail}\n`;
  // Closed once written, as Node's server closes a `Connection: close` answer and `ws` its
  // refusals: a client that keeps its side open would otherwise hold the connection (and
  // `close()`) until cut, as no timeout watches an upgraded socket.
  socket.once('finish', () => socket.destroy());
  socket.end(rawAnswer(status, reason, body, fields));
  return Buffer.byteLength(body);
}

/** What {@link acceptUpgrades} needs of the server. */
export interface UpgradeSetup {
  /** The handler given to `serve()`. */
  handler: UpgradeHandler;
  /** The `tsgi.shutdown_signal` of the server. */
  shutdown: AbortSignal;
  /** True once `close()` has begun. */
  closing: () => boolean;
  /** Where a failing handler is logged. */
  log: LogStream | undefined;
  /** Where an upgrade refused during shutdown is reported (`onRefused`). */
  report: Reporter | undefined;
  /** The request rules of the server (`trustedHosts`, `maxHeaders`, `scriptName`), checked first. */
  environ: NodeEnvironOptions;
  /** Told of each upgrade the handler took once its connection closed (`onUpgradeClosed`). */
  closed: UpgradeCloseListener | undefined;
  /** Where each upgraded connection the handler took is kept until its `'close'`, for `close()` to wait for. */
  upgraded: Set<Promise<void>>;
  /**
   * Where the promise of an `async` `setup.closed` is handed (the server's `tsgi.wait_until`),
   * for `close()` to wait for until its timeout, as for the work run after the answers.
   */
  waitUntil: (promise: Promise<unknown>) => void;
}

/**
 * Hands the HTTP/1.1 `Upgrade` requests of `server` (but `h2c`'s, and HTTP/1.0 requests, whose
 * `Upgrade` RFC 9110 §7.8 has a server ignore: served by the app; from Node 24.9) to
 * `setup.handler`. Node's parser has read and limited the head as for any request
 * (`maxHeaderSize`, `maxHeaders`, `headersTimeout`); the connection's first-byte timeout ends,
 * as a request's does. The request must pass the rules an app's request does (`trustedHosts`,
 * `scriptName`, a valid Host and target: else the `400` or `404` of `createEnviron`). An
 * upgrade pipelined behind requests still being answered is handed
 * over once their answers have gone out (not at all when one closed the connection). An
 * upgrade asked once `close()` has begun is answered `503` on the raw socket without calling
 * the handler. A socket error (a client's reset) never reaches the process as an uncaught
 * error: the socket has an 'error' listener before the handler runs. With `setup.closed`, each
 * upgrade the handler took is told to it once its connection closed ({@link watchUpgrade}),
 * but a refusal of the handler's that tsgi answers, which goes to `setup.report` alone; the
 * promise an `async` one returns goes to `setup.waitUntil`.
 *
 * @throws TypeError when `setup.handler` is not a function.
 */
export function acceptUpgrades(server: HttpServer, setup: UpgradeSetup): void {
  const { handler, shutdown, log, report, closed, upgraded, waitUntil } = setup;
  if (typeof handler !== 'function') throw new TypeError('serve: upgrade must be a function (req, socket, head, context)');
  const answering = countAnswers(server);
  // Node asks this for each request with `Connection: upgrade` and `Upgrade` (from Node 24.9;
  // earlier versions hand every upgrade to the listener): false serves it as a request.
  // An HTTP/1.0 request's Upgrade is ignored (RFC 9110 §7.8: a server MUST), as h2c's is.
  (server as { shouldUpgradeCallback?: (req: IncomingMessage) => boolean }).shouldUpgradeCallback = (req) =>
    req.httpVersion !== '1.0' && !offersOnlyH2c(req.headers.upgrade);
  // Told once the connection closed, with what it sent (an error of its own is logged); the
  // promise of an `async` one is waited for by `close()`, as `tsgi.wait_until`'s work is.
  const tell =
    closed === undefined
      ? undefined
      : (upgrade: ClosedUpgrade) => {
          const settled = callListener(() => closed(upgrade), (error) => logRequestError(log, upgrade.environ, ' (onUpgradeClosed threw)', error));
          if (settled !== undefined) waitUntil(settled);
        };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const started = performance.now();
    // Node's HTTP server removes its own 'error' listener from an upgraded socket: a client
    // that resets it (ECONNRESET) while the handler awaits, or before its turn, would end the
    // process with an uncaught error. The socket is destroyed with the error; nothing to say.
    socket.on('error', ignoreClientGone);
    releaseFirstByte(socket as Socket);
    // An upgrade pipelined behind requests still being answered waits for their answers,
    // which go out first, on the same socket.
    answering.idle(socket as Socket, () => {
      if (!socket.destroyed && socket.writable) take(req, socket, head, started);
    });
  });
  const take = (req: IncomingMessage, socket: Duplex, head: Buffer, started: number) => {
    if (setup.closing()) {
      const detail = 'the server is shutting down';
      const bytes = answerRaw(socket, 503, 'Service Unavailable', detail);
      report?.(503, detail, bytes, req);
      return;
    }
    // Counted once the handler has it, never while it waits behind the answers ahead (that
    // connection's requests count) nor when refused above: `close()` and the graceful cut's
    // note (`upgradedConnectionsOpen`) see only the connections the handler took.
    keepUntilClosed(upgraded, socket);
    // What the connection carried before (the answers to the requests ahead of this one).
    const before = (socket as Socket).bytesWritten;
    // Watching the answer, for `onUpgradeClosed`, once the handler has the socket.
    let watch: UpgradeWatch | undefined;
    // The request's environ, once `createEnviron` has taken it (a redirect's Location is made against it).
    let environ: Environ | undefined;

    // The handler's error, thrown or the rejection of its promise.
    const failed = (error: unknown) => {
      const fresh = socket.writable && (socket as Socket).bytesWritten === before;
      // A redirect is answered as the app's is (a WebSocket endpoint that moved: `ws`'s
      // `followRedirects` follows it); another 1xx–3xx exception is no answer to an upgrade.
      const refusal = error instanceof HTTPException && (error.code >= 400 || error instanceof HTTPRedirection);
      // A refusal for a client gone meanwhile (while an async handler awaited), or the abort of
      // a lookup given `tsgi.signal`, which the client's going aborted: nothing to answer, and
      // nothing went wrong on the server's side (as an app's abort once its client left).
      if ((refusal || isAbort(error)) && !socket.writable) {
        socket.destroy();
        return;
      }
      if (fresh && refusal) {
        // A refusal: createEnviron's 400 (no Host, a bad path), or the handler's HTTPForbidden.
        // Told to `onRefused` at once, as the refusals before the handler are, and only there.
        watch?.forget();
        const fields = error instanceof HTTPRedirection ? [...error.headers, ['Location', absoluteLocation(error.location, environ)] as [string, string]] : error.headers;
        const bytes = answerRaw(socket, error.code, error.title, error.message, fields);
        report?.(error.code, error.message, bytes, req);
        return;
      }
      const target = req.url === undefined ? '-' : redactQuery(req.url, setup.environ.redactQuery ?? []);
      logError(log, `${req.method ?? '-'} ${target} (upgrade handler)`, error);
      if (fresh) answerRaw(socket, 500, 'Internal Server Error', 'Internal Server Error');
      else socket.destroy();
    };
    try {
      // First the rules the app's requests pass (a Host in `trustedHosts`, a path under
      // `scriptName`, at most `maxHeaders` fields): createEnviron's refusal is answered below.
      environ = createEnviron(req, undefined, setup.environ);
      // Its `tsgi.signal` aborts when the connection closes, as an app's when its client leaves.
      abortAtUpgradeClose(environ, socket, shutdown);
      if (tell !== undefined) watch = watchUpgrade(socket as Socket, environ, started, tell);
      const context: UpgradeContext = Object.freeze({ shutdown, environ });
      callListener(() => handler(req, socket, head, context), failed);
    } catch (error) {
      failed(error);
    }
  };
}

/**
 * Keeps in `open` a promise that settles at `socket`'s `'close'` (after the listeners that
 * event runs: `onUpgradeClosed`'s), and removes it then.
 */
function keepUntilClosed(open: Set<Promise<void>>, socket: Duplex): void {
  if (socket.closed) return;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  open.add(closed);
  void closed.then(() => open.delete(closed));
}

/** Per connection, the answers of {@link countAnswers} not yet closed, and who waits for none. */
interface Answering {
  count: number;
  idle: Array<() => void>;
}

/**
 * Counts, per HTTP/1 connection of `server`, the answers begun and not yet closed, so that
 * `idle(socket, then)` runs `then` once the connection has none (at once when it has none).
 */
function countAnswers(server: HttpServer): { idle(socket: Socket, then: () => void): void } {
  const open = new WeakMap<Socket, Answering>();
  const begun = (req: IncomingMessage, res: { once(event: 'close', listener: () => void): unknown }) => {
    if (req.httpVersionMajor !== 1) return;
    const socket = req.socket;
    const answering = open.get(socket) ?? { count: 0, idle: [] };
    open.set(socket, answering);
    answering.count++;
    res.once('close', () => {
      if (--answering.count > 0) return;
      for (const then of answering.idle.splice(0)) then();
    });
  };
  // First, before the handler that may answer (and close) at once.
  server.prependListener('request', begun);
  server.prependListener('checkContinue', begun);
  server.prependListener('checkExpectation', begun);
  return {
    idle(socket, then) {
      const answering = open.get(socket);
      if (answering === undefined || answering.count === 0) then();
      else answering.idle.push(then);
    },
  };
}
