/**
 * The Node.js server adapter: runs a gateway app on `node:http`.
 *
 * `serve(app)` starts a server; `toNodeHandler(app)` gives a `(req, res)` handler for an
 * existing `http.Server` or for Express/Connect; `createEnviron(req)` builds the environ.
 *
 * @module
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type App,
  type AppLike,
  type Body,
  type BodyIterator,
  type Environ,
  type ErrorStream,
  type StartResponse,
  HOP_BY_HOP,
  TSGI_VERSION,
  closeBody,
  describe,
  openBody,
  parseStatus,
  toApp,
} from '../gateway.ts';
import { formatError, stderrErrors } from '../errors-stream.ts';

/** Options of {@link createEnviron} and {@link toNodeHandler}. */
export interface NodeEnvironOptions {
  /** `SERVER_NAME`; default the socket's local address. */
  serverName?: string;
  /** `SERVER_PORT`; default the socket's local port. */
  serverPort?: number | string;
  /** `tsgi.errors`; default standard error. */
  errors?: ErrorStream;
  /** `tsgi.multiprocess`; default false (true under `tsgi serve --workers`). */
  multiprocess?: boolean;
}

/**
 * Options of {@link serve}. `serverName` defaults to `host` there; `errors` is where app
 * errors are logged (pass `{ write }` to capture them).
 */
export interface ServeOptions extends NodeEnvironOptions {
  /** Address to bind; default `127.0.0.1`. */
  host?: string;
  /** Port to bind; default `8000`; `0` picks a free port. */
  port?: number;
  /** Options passed to `http.createServer` (timeouts, `maxHeaderSize`, …). */
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

/** Thrown by {@link createEnviron} for a request the app must not see; answered with 400. */
export class BadRequestError extends Error {
  override name = 'BadRequestError';
}

const KEY_CACHE = new Map<string, string>();
const KEY_CACHE_MAX = 512;

/** `Accept-Language` → `HTTP_ACCEPT_LANGUAGE`; `''` for names with `_` (dropped, as nginx does). */
function headerKey(name: string): string {
  let key = KEY_CACHE.get(name);
  if (key !== undefined) return key;
  if (name.includes('_')) key = '';
  else {
    const upper = name.toUpperCase().replaceAll('-', '_');
    key = upper === 'CONTENT_TYPE' || upper === 'CONTENT_LENGTH' ? upper : `HTTP_${upper}`;
  }
  if (KEY_CACHE.size < KEY_CACHE_MAX) KEY_CACHE.set(name, key);
  return key;
}

const VALID_HOST = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=%]*|\[[0-9A-Fa-f:.]+(?:%[A-Za-z0-9\-._~%]+)?\])(?::\d*)?$/;
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/;

/**
 * Builds the environ of a Node request (see docs/spec.md for every key).
 *
 * `PATH_INFO` is the path percent-decoded as UTF-8; `QUERY_STRING` and `REQUEST_URI` are raw;
 * one `HTTP_*` key per header with repeated headers joined by `, ` (`; ` for Cookie, RFC 9110
 * §5.3, RFC 6265 §5.4) and header names containing `_` dropped (as nginx and gunicorn do).
 * An absolute-form target (`GET http://host/path`) supplies `HTTP_HOST` (RFC 9112 §3.2.2).
 * `tsgi.input` is the request stream itself (never buffered); `tsgi.signal` is created on first
 * use and aborts when the client goes away before the response is complete.
 *
 * @param res - the response, so `tsgi.signal` can tell a hang-up from a finished exchange;
 *   without it the signal aborts when the request stream closes before it was read whole.
 * @throws BadRequestError for a request-target that is not origin-form, absolute-form, or `*`
 *   with OPTIONS (RFC 9112 §3.2); a malformed percent-escape or invalid UTF-8 in the path; an
 *   invalid Host; several Host headers (RFC 9112 §3.2).
 */
export function createEnviron(req: IncomingMessage, res?: ServerResponse, options: NodeEnvironOptions = {}): Environ {
  const socket = req.socket;
  const method = req.method ?? 'GET';
  const target = req.url ?? '/';
  let pathAndQuery = target;
  let authority: string | undefined;
  if (target.charCodeAt(0) !== 47 /* / */) {
    const match = target === '*' ? null : ABSOLUTE_FORM.exec(target);
    if (match) {
      authority = match[1];
      pathAndQuery = target.slice(match[0].length);
      if (pathAndQuery.charCodeAt(0) !== 47) pathAndQuery = `/${pathAndQuery}`;
    } else if (target !== '*' || method !== 'OPTIONS') {
      throw new BadRequestError('invalid request-target');
    }
  }
  const q = pathAndQuery.indexOf('?');
  const rawPath = q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
  let pathInfo = rawPath;
  if (rawPath.includes('%')) {
    try {
      // Throws URIError for a malformed escape and for invalid UTF-8 (overlong forms,
      // surrogates, stray continuation bytes), as RFC 3629 requires.
      pathInfo = decodeURIComponent(rawPath);
    } catch {
      throw new BadRequestError('malformed percent-escape or invalid UTF-8 in the path');
    }
  }
  const environ: Environ = {
    REQUEST_METHOD: method,
    SCRIPT_NAME: '',
    PATH_INFO: pathInfo,
    QUERY_STRING: q === -1 ? '' : pathAndQuery.slice(q + 1),
    REQUEST_URI: target,
    SERVER_NAME: options.serverName ?? socket.localAddress ?? 'localhost',
    SERVER_PORT: String(options.serverPort ?? socket.localPort ?? ''),
    SERVER_PROTOCOL: req.httpVersion === '1.1' ? 'HTTP/1.1' : `HTTP/${req.httpVersion}`,
    REMOTE_ADDR: socket.remoteAddress,
    REMOTE_PORT: socket.remotePort === undefined ? undefined : String(socket.remotePort),
    'tsgi.version': TSGI_VERSION,
    'tsgi.url_scheme': (socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
    'tsgi.input': req,
    'tsgi.errors': options.errors ?? stderrErrors,
    'tsgi.multithread': false,
    'tsgi.multiprocess': options.multiprocess ?? false,
    'tsgi.run_once': false,
    get 'tsgi.signal'(): AbortSignal {
      const signal = abortSignalFor(req, res);
      Object.defineProperty(this, 'tsgi.signal', { value: signal, writable: true, enumerable: true, configurable: true });
      return signal;
    },
    set 'tsgi.signal'(value: AbortSignal) {
      Object.defineProperty(this, 'tsgi.signal', { value, writable: true, enumerable: true, configurable: true });
    },
  };
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const key = headerKey(raw[i]!);
    if (key === '') continue;
    const value = raw[i + 1]!;
    const existing = environ[key] as string | undefined;
    if (existing === undefined) environ[key] = value;
    else if (key === 'HTTP_HOST') throw new BadRequestError('several Host headers');
    else environ[key] = existing + (key === 'HTTP_COOKIE' ? '; ' : ', ') + value;
  }
  if (authority !== undefined) environ.HTTP_HOST = authority;
  const host = environ.HTTP_HOST as string | undefined;
  if (host !== undefined && !VALID_HOST.test(host)) throw new BadRequestError('invalid Host header');
  return environ;
}

function abortSignalFor(req: IncomingMessage, res: ServerResponse | undefined): AbortSignal {
  const controller = new AbortController();
  const target = res ?? req;
  const gone = () => !(res ? res.writableFinished : req.complete);
  const abort = () => {
    if (gone()) controller.abort(new Error('client disconnected'));
  };
  if (target.destroyed || req.socket.destroyed) abort();
  else target.once('close', abort);
  return controller.signal;
}

function isThenable<T>(value: unknown): value is PromiseLike<T> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<T>).then === 'function';
}

/** State shared by the handler of one server and its `close()`. */
interface ServerState {
  /** Set by `close()`: responses then carry `Connection: close`. */
  closing: boolean;
}

const INTERNAL_ERROR = Buffer.from('Internal Server Error\n');
const DIGITS = /^\d+$/;

/** True when a Connection field value lists the `close` option (RFC 9112 §9.6). */
function hasCloseOption(value: string): boolean {
  for (const option of value.split(',')) if (option.trim().toLowerCase() === 'close') return true;
  return false;
}

/**
 * One request/response exchange: the state of `startResponse` and sending the body.
 *
 * Array bodies take a fast path (no listeners, one `writeHead` and `end`); other bodies are
 * pumped with backpressure, and their iterator is closed (`return()`) when the client leaves.
 */
class Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly environ: Environ;
  readonly state: ServerState | undefined;
  status: string | undefined = undefined;
  headers: Array<[string, string]> | undefined = undefined;
  /** True once `writeHead` succeeded: from then on an error can only cut the connection. */
  headersSent = false;
  /** True when the response must carry no body (HEAD, 204, 304). */
  noBody = false;
  /** True when the body ends only when the connection does (an HTTP/1.0 client, no length). */
  closeDelimited = false;

  constructor(req: IncomingMessage, res: ServerResponse, environ: Environ, state: ServerState | undefined) {
    this.req = req;
    this.res = res;
    this.environ = environ;
    this.state = state;
  }

  /** PEP 3333 `start_response`: records the status and headers; they are checked at sending. */
  startResponse: StartResponse = (status, headers, error) => {
    if (error !== undefined) {
      if (this.headersSent) throw error;
    } else if (this.status !== undefined) {
      throw new TypeError('startResponse was called twice without an error');
    }
    if (!Array.isArray(headers)) throw new TypeError('startResponse headers must be an array of [name, value] pairs');
    this.status = status;
    this.headers = headers;
  };

  /**
   * Sends the status line and headers. `length` is the body length when known (the whole body
   * is in hand): it becomes `Content-Length` unless the app gave one, which must then match.
   *
   * @throws TypeError for anything the app got wrong (no startResponse, invalid status or
   *   header, bad or mismatched Content-Length); nothing has been written then.
   */
  sendHead(length: number | undefined): void {
    const status = this.status;
    const headers = this.headers;
    if (status === undefined || headers === undefined) {
      throw new TypeError('the app produced a body without calling startResponse');
    }
    const { code, reason } = parseStatus(status);
    if (code < 200) throw new TypeError(`invalid final status: ${JSON.stringify(status)}`);
    const res = this.res;
    const flat: string[] = [];
    let declared = -1;
    for (let i = 0; i < headers.length; i++) {
      const pair = headers[i];
      if (!Array.isArray(pair)) throw new TypeError(`header ${i} is not a [name, value] pair (${describe(pair)})`);
      const name = pair[0];
      const value = pair[1];
      if (typeof name !== 'string' || typeof value !== 'string') {
        throw new TypeError(`invalid header pair: ${describe(name)}, ${describe(value)}`);
      }
      const n = name.length;
      if (n === 14 || n === 2 || n === 7 || n === 10 || n >= 16) {
        const lower = name.toLowerCase();
        if (lower === 'content-length') {
          if (declared !== -1 || !DIGITS.test(value)) {
            throw new TypeError(`invalid Content-Length from the app: ${JSON.stringify(value)}`);
          }
          declared = Number(value);
          if (code === 204) continue; // RFC 9110 §8.6: never on a 204
        } else if (HOP_BY_HOP.has(lower)) {
          if (lower === 'connection' && hasCloseOption(value)) res.shouldKeepAlive = false;
          continue;
        }
      }
      flat.push(name, value);
    }
    const head = this.environ.REQUEST_METHOD === 'HEAD';
    const bodiless = code === 204 || code === 304;
    this.noBody = head || bodiless;
    if (length !== undefined && !bodiless) {
      if (declared === -1) {
        // A HEAD answered with an empty body says nothing about the GET body's length.
        if (!head || length !== 0) flat.push('Content-Length', String(length));
      } else if (declared !== length && !head) {
        throw new TypeError(`the app declared Content-Length: ${declared} but its body has ${length} bytes`);
      }
    }
    if (this.state?.closing) res.shouldKeepAlive = false;
    // Throws for invalid names and values before anything is written.
    res.writeHead(code, reason, flat);
    this.headersSent = true;
    if (length === undefined) {
      // A stream must match the length it declared: Node throws on the write or end that breaks it.
      if (declared !== -1) res.strictContentLength = true;
      else if (!res.chunkedEncoding && !this.noBody) this.closeDelimited = true;
    }
  }

  /** Runs the app and sends its answer. */
  run(app: App): void {
    let body: Body | Promise<Body>;
    try {
      body = app(this.environ, this.startResponse);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (isThenable<Body>(body)) {
      try {
        body.then(
          (value) => this.send(value),
          (error: unknown) => this.fail(error),
        );
      } catch (error) {
        this.fail(error);
      }
    } else {
      this.send(body);
    }
  }

  send(body: Body): void {
    if (Array.isArray(body) && this.status !== undefined) {
      try {
        this.sendArray(body as unknown[]);
      } catch (error) {
        this.fail(error);
      }
      return;
    }
    void this.pump(body);
  }

  /** Fast path: an array body is already in memory, so its length is known. */
  sendArray(chunks: unknown[]): void {
    let length = 0;
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i];
      if (!(chunk instanceof Uint8Array)) throw new TypeError(`body chunk is not a Uint8Array (${describe(chunk)})`);
      length += chunk.byteLength;
    }
    const res = this.res;
    if (res.destroyed) return; // the client left while the app was working
    this.sendHead(length);
    if (chunks.length === 1) res.end(chunks[0]);
    else {
      for (let i = 0; i < chunks.length; i++) res.write(chunks[i] as Uint8Array);
      res.end();
    }
  }

  /**
   * Sends a streamed body with backpressure: the next chunk is asked for only once the last
   * one was accepted. The headers wait for the first chunk; a body that ends at its second
   * step is sent with Content-Length. When the client leaves, the iterator's `return()` is
   * called at once (even while a `next()` is pending) and nothing more is asked of it.
   */
  async pump(body: Body): Promise<void> {
    let iterator: BodyIterator;
    try {
      iterator = openBody(body);
    } catch (error) {
      this.fail(error);
      return;
    }
    const res = this.res;
    const onError = (error: unknown) => this.log(error);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      closeBody(iterator, onError);
    };
    if (res.destroyed) {
      release();
      return;
    }
    let closed = false;
    let wake: (() => void) | undefined;
    const onDrain = () => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    };
    const onClose = () => {
      if (res.writableFinished) return;
      closed = true;
      res.off('drain', onDrain);
      release();
      onDrain();
    };
    const drain = () =>
      new Promise<void>((resolve) => {
        wake = resolve;
        res.once('drain', onDrain);
      });
    res.once('close', onClose);
    let finished = false;
    try {
      let step = await (iterator.next() as IteratorResult<Uint8Array> | Promise<IteratorResult<Uint8Array>>);
      if (closed) return;
      if (step.done) {
        this.sendHead(0);
        res.end();
        finished = true;
        return;
      }
      let chunk = checkChunk(step.value);
      const pending = iterator.next() as IteratorResult<Uint8Array> | Promise<IteratorResult<Uint8Array>>;
      const second = isThenable<IteratorResult<Uint8Array>>(pending) ? await raceImmediate(pending) : pending;
      if (closed) return;
      if (second !== undefined) {
        if (second.done) {
          this.sendHead(chunk.byteLength);
          res.end(chunk);
          finished = true;
          return;
        }
        checkChunk(second.value); // a bad chunk still in hand answers 500, not a cut
      }
      this.sendHead(undefined);
      if (this.noBody) {
        res.end();
        return;
      }
      if (!res.write(chunk)) await drain();
      if (closed) return;
      step = second ?? (await pending);
      for (;;) {
        if (closed) return;
        if (step.done) {
          res.end();
          finished = true;
          return;
        }
        chunk = checkChunk(step.value);
        if (!res.write(chunk)) {
          await drain();
          if (closed) return;
        }
        step = await (iterator.next() as IteratorResult<Uint8Array> | Promise<IteratorResult<Uint8Array>>);
      }
    } catch (error) {
      this.fail(error);
    } finally {
      res.off('close', onClose);
      if (!finished) release();
    }
  }

  /** Writes an error to `tsgi.errors` with the request line. */
  log(error: unknown): void {
    const req = this.req;
    const target = (req as ExpressRequest).originalUrl ?? req.url;
    const line = `${req.method} ${target} HTTP/${req.httpVersion}`;
    try {
      (this.environ['tsgi.errors'] ?? stderrErrors).write(formatError(line, error));
    } catch {
      stderrErrors.write(formatError(line, error));
    }
  }

  /** An app error: logged; a 500 before the headers are out; after, the connection is cut. */
  fail(error: unknown): void {
    this.log(error);
    const res = this.res;
    if (res.destroyed) return;
    if (this.headersSent || res.headersSent) {
      // A close-delimited body would end cleanly on FIN: reset, so the cut shows as an error.
      const socket = res.socket;
      if (this.closeDelimited && socket) socket.resetAndDestroy();
      else res.destroy();
      return;
    }
    try {
      res.strictContentLength = false;
      res.writeHead(500, 'Internal Server Error', [
        'Content-Type', 'text/plain; charset=utf-8',
        'Content-Length', String(INTERNAL_ERROR.byteLength),
      ]);
      this.headersSent = true;
      res.end(INTERNAL_ERROR);
    } catch {
      res.destroy();
    }
  }
}

function checkChunk(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  throw new TypeError(`body chunk is not a Uint8Array (${describe(chunk)})`);
}

/** Resolves with the step if it settles before the next turn of the event loop, else `undefined`. */
function raceImmediate<T>(promise: PromiseLike<T>): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    const timer = setImmediate(() => resolve(undefined));
    promise.then(
      (value) => {
        clearImmediate(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearImmediate(timer);
        reject(error);
      },
    );
  });
}

function plainAnswer(res: ServerResponse, code: number, reason: string, text: string): void {
  const body = Buffer.from(text);
  res.writeHead(code, reason, [
    'Content-Type', 'text/plain; charset=utf-8',
    'Content-Length', String(body.byteLength),
    'Connection', 'close',
  ]);
  res.end(body);
}

/** The fields Express/Connect leave on a request routed by `app.use(path, handler)`. */
interface ExpressRequest {
  baseUrl?: unknown;
  originalUrl?: string;
}

function createHandler(
  app: AppLike,
  options: NodeEnvironOptions,
  state: ServerState | undefined,
): (req: IncomingMessage, res: ServerResponse) => void {
  const callable = toApp(app);
  return (req, res) => {
    let environ: Environ;
    try {
      environ = createEnviron(req, res, options);
      const baseUrl = (req as ExpressRequest).baseUrl;
      if (typeof baseUrl === 'string' && baseUrl !== '') mountExpress(req, environ, baseUrl);
    } catch (error) {
      if (error instanceof BadRequestError) plainAnswer(res, 400, 'Bad Request', `Bad Request: ${error.message}\n`);
      else {
        (options.errors ?? stderrErrors).write(formatError(`${req.method} ${req.url} HTTP/${req.httpVersion}`, error));
        plainAnswer(res, 500, 'Internal Server Error', 'Internal Server Error\n');
      }
      return;
    }
    new Exchange(req, res, environ, state).run(callable);
  };
}

/** Express's mount path becomes SCRIPT_NAME; its original URL is the raw REQUEST_URI. */
function mountExpress(req: IncomingMessage, environ: Environ, baseUrl: string): void {
  try {
    environ.SCRIPT_NAME = decodeURIComponent(baseUrl);
  } catch {
    throw new BadRequestError('malformed percent-escape or invalid UTF-8 in the path');
  }
  const original = (req as ExpressRequest).originalUrl;
  if (typeof original === 'string') environ.REQUEST_URI = original;
}

/**
 * A `(req, res)` handler that runs a gateway app: for `http.createServer`, `https`, or
 * Express/Connect (`app.use('/tsgi', toNodeHandler(tsgiApp))`, where Express's mount path
 * `req.baseUrl` becomes `SCRIPT_NAME` and `req.originalUrl` the `REQUEST_URI`).
 *
 * A bad request-target (malformed path escape, invalid UTF-8, invalid or repeated Host) is
 * answered 400 without calling the app. App errors are logged to `tsgi.errors` with the
 * request line; before the headers they answer 500, after them the connection is cut so the
 * client never takes a truncated body for a whole one. See {@link serve} for the rest.
 */
export function toNodeHandler(app: AppLike, options: NodeEnvironOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  return createHandler(app, options, undefined);
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
 * `tsgi.signal` aborts.
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
  const server = http.createServer(options.server ?? {});
  server.on(
    'request',
    createHandler(app, { ...options, serverName: options.serverName ?? host }, state),
  );
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
