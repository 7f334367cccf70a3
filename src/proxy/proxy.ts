/**
 * The upstream proxy app ({@link proxy}): forwards each request to an HTTP or HTTPS server and
 * streams its answer back, as WSGIProxy2's `HostProxy` and Paste's `Proxy` do for WSGI.
 *
 * @module
 */
import { Readable } from 'node:stream';
import { type Dispatcher, Pool } from 'undici';
import type { App, Body, Environ, StartResponse } from '../gateway/types.ts';
import { assertHeader } from '../gateway/fields.ts';
import { reasonPhrase } from '../response/status.ts';
import { HTTPNotImplemented } from '../exceptions/server-errors.ts';
import { type HeaderEdits, applyEdits, checkEdits } from './header-edits.ts';
import { connectionOptions, forwardRequestHeaders, forwardResponseHeaders } from './forward-headers.ts';
import { upstreamTarget } from './upstream-path.ts';
import { ExchangeClosed, type UpstreamHead, UpstreamExchange } from './upstream-exchange.ts';
import { answerFailure, classify, describeCause } from './upstream-errors.ts';

/** Options of {@link proxy}. Times are in milliseconds. */
export interface ProxyOptions {
  /**
   * Send the client's `Host` header upstream (Apache's `ProxyPreserveHost On`); default false:
   * the upstream's own host and port, as in its URL.
   */
  preserveHost?: boolean;
  /**
   * Leave the mount prefix (`SCRIPT_NAME`) out of the upstream path; default true, as
   * WSGIProxy2's `strip_script_name`: mounted at `/legacy`, `/legacy/a` is asked for as `/a`
   * (below the upstream URL's own path, if it has one). With false it is asked for as
   * `/legacy/a`.
   */
  stripScriptName?: boolean;
  /**
   * Add `X-Forwarded-For` (appended), `X-Forwarded-Proto`, `X-Forwarded-Host` and
   * `X-Forwarded-Prefix`; default true. Values the client sent for the last three are
   * replaced, never passed on.
   */
  xForwarded?: boolean;
  /** Changes to the request fields sent upstream, applied last (see {@link HeaderEdits}). */
  requestHeaders?: HeaderEdits;
  /** Changes to the response fields sent to the client, applied last (see {@link HeaderEdits}). */
  responseHeaders?: HeaderEdits;
  /** Time to open a connection to the upstream, ms; default 10 000. Past it: 504. */
  connectTimeout?: number;
  /**
   * Time the upstream may take to send its response head, ms, counted from the end of the
   * request (a slow upload restarts it); default 60 000. Past it: 504.
   */
  headersTimeout?: number;
  /**
   * Longest pause between two chunks of the upstream's body, ms; default 60 000. Past it the
   * client's connection is cut (the head is already sent).
   */
  bodyTimeout?: number;
  /**
   * The undici dispatcher to send requests through (a `Pool`, an `Agent` with your TLS
   * options, a `MockAgent` in tests). Default: a `Pool` of keep-alive connections to the
   * upstream's origin, made for this app and closed by its `close()`. `connectTimeout` applies
   * to the default pool only.
   */
  dispatcher?: Dispatcher;
}

/** What {@link proxy} answers: a gateway app, plus `close()` to release its connections. */
export interface ProxyApp extends App {
  (environ: Environ, startResponse: StartResponse): Promise<Body>;
  /** The upstream's URL, normalised: `http://127.0.0.1:8080/base`. */
  readonly upstream: string;
  /** Closes the default connection pool (not a `dispatcher` you passed); resolves when closed. */
  close(): Promise<void>;
}

const CLIENT_CLOSED = '499 Client Closed Request';

/**
 * A gateway app that forwards every request to `upstream` and streams the answer back.
 *
 * - **Bodies stream both ways** with backpressure, through undici: the request body is read
 *   from `tsgi.input` as the upstream takes it, the response body is read from the upstream
 *   as the client takes it; neither is buffered whole.
 * - **The path**: the raw remainder of the request-target (from `REQUEST_URI`, so `%2F` stays
 *   `%2F`) below the upstream URL's path, and the query as sent; see
 *   {@link ProxyOptions.stripScriptName}.
 * - **Headers** (RFC 9110 §7.6): hop-by-hop fields and those named in `Connection` are dropped
 *   both ways; `Host` is the upstream's (see {@link ProxyOptions.preserveHost});
 *   `X-Forwarded-*` and `Via` are added; {@link ProxyOptions.requestHeaders} and
 *   {@link ProxyOptions.responseHeaders} edit the rest. `Expect: 100-continue` is answered by
 *   the server when the body is first read, so it is not forwarded.
 * - **Redirects** are passed to the client, not followed (use `rewriteLocation` to map
 *   `Location` to the public URL).
 * - **Failures before the head**: refused, reset, unresolvable host, TLS or a malformed answer
 *   → 502; connect or response-head timeout → 504; the page says which, and
 *   `tsgi.errors` gets the upstream and the cause. After the head, a failure (reset,
 *   `bodyTimeout`) makes the body throw, so the server cuts the client's connection: a
 *   truncated body never looks complete.
 * - **The client leaving** (`tsgi.signal`, or the server closing the body) aborts the upstream
 *   request at once. A client gone before the head is answered `499 Client Closed Request`
 *   (nginx's code; nobody receives it).
 * - **`Upgrade`** requests (WebSocket) are answered `501 Not Implemented`: the gateway
 *   interface does not carry a connection after the exchange.
 *
 * @example
 * ```ts
 * import { mount } from 'tsgi/middleware';
 * import { proxy } from 'tsgi/proxy';
 *
 * const legacy = proxy('http://127.0.0.1:8081', { requestHeaders: { remove: ['cookie'] } });
 * export const app = mount({ '/': site, '/legacy': legacy });   // /legacy/a%2Fb?q=1 → /a%2Fb?q=1
 * ```
 * @param upstream - an `http:` or `https:` URL, optionally with a base path.
 * @throws TypeError (at once) for an upstream that is not an http(s) URL, has credentials, a
 *   query or a fragment; a timeout that is not a positive number; header edits with an
 *   invalid name or value.
 */
export function proxy(upstream: string | URL, options: ProxyOptions = {}): ProxyApp {
  const url = parseUpstream(upstream);
  const origin = url.origin;
  const basePath = url.pathname.replace(/\/+$/, '');
  const connectTimeout = timeout(options.connectTimeout, 10_000, 'connectTimeout');
  const headersTimeout = timeout(options.headersTimeout, 60_000, 'headersTimeout');
  const bodyTimeout = timeout(options.bodyTimeout, 60_000, 'bodyTimeout');
  checkEdits(options.requestHeaders, 'requestHeaders');
  checkEdits(options.responseHeaders, 'responseHeaders');
  const ownPool = options.dispatcher === undefined;
  const dispatcher = options.dispatcher ?? new Pool(origin, { connect: { timeout: connectTimeout } });
  const stripScriptName = options.stripScriptName !== false;
  const settings = { preserveHost: options.preserveHost === true, xForwarded: options.xForwarded !== false, stripScriptName };

  const app = async (environ: Environ, startResponse: StartResponse): Promise<Body> => {
    if (isUpgrade(environ)) {
      return new HTTPNotImplemented('WebSocket and other Upgrade requests cannot pass through this gateway.').respond(environ, startResponse);
    }
    const headers = applyEdits(forwardRequestHeaders(environ, settings), options.requestHeaders, environ);
    const exchange = new UpstreamExchange();
    const signal = environ['tsgi.signal'];
    const onAbort = () => exchange.abort(new ExchangeClosed('the client went away'));
    if (signal) {
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      exchange.onFinish = () => signal.removeEventListener('abort', onAbort);
    }
    dispatcher.dispatch(
      {
        origin,
        path: upstreamTarget(environ, basePath, stripScriptName),
        method: environ.REQUEST_METHOD,
        headers: headers.flat(),
        body: hasBody(environ) ? requestBody(environ['tsgi.input']) : null,
        headersTimeout,
        bodyTimeout,
      },
      exchange,
    );
    let head: UpstreamHead;
    try {
      head = await exchange.head;
    } catch (error) {
      if (exchange.aborted) {
        startResponse(CLIENT_CLOSED, []);
        return [];
      }
      return answerFailure(environ, startResponse, origin, error);
    }
    let responseHeaders: Array<[string, string]>;
    try {
      responseHeaders = applyEdits(forwardResponseHeaders(head.headers, 'HTTP/1.1'), options.responseHeaders, environ);
      for (const [name, value] of responseHeaders) assertHeader(name, value);
    } catch (error) {
      exchange.abort(new ExchangeClosed('invalid response header'));
      return answerFailure(environ, startResponse, origin, Object.assign(error as Error, { code: 'ERR_INVALID_HEADER' }));
    }
    startResponse(statusLine(head), responseHeaders);
    return failLoudly(exchange, origin);
  };
  return Object.assign(app, {
    upstream: origin + basePath,
    close: async () => {
      if (ownPool) await dispatcher.close();
    },
  });
}

/** Reads the body; turns an upstream failure in the middle of it into an error naming the upstream. */
function failLoudly(exchange: UpstreamExchange, origin: string): AsyncIterableIterator<Uint8Array> {
  return {
    next: () =>
      exchange.next().catch((error: unknown) => {
        throw new Error(`upstream ${origin}: ${classify(error).reason} in the middle of the response body (${describeCause(error)})`, { cause: error });
      }),
    return: () => exchange.return(),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

function parseUpstream(upstream: string | URL): URL {
  let url: URL;
  try {
    url = new URL(String(upstream));
  } catch {
    throw new TypeError(`proxy: the upstream must be an http(s) URL, not ${JSON.stringify(String(upstream))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`proxy: the upstream must be http: or https:, not ${url.protocol}`);
  if (url.username || url.password || url.search || url.hash) {
    throw new TypeError('proxy: the upstream URL must not have credentials, a query or a fragment (use requestHeaders for Authorization)');
  }
  return url;
}

function timeout(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new TypeError(`proxy: ${name} must be a positive number of milliseconds`);
  return value;
}

/** An upgrade request (RFC 9110 §7.8): `Upgrade` named in `Connection`. */
function isUpgrade(environ: Environ): boolean {
  return environ.HTTP_UPGRADE !== undefined && connectionOptions(environ.HTTP_CONNECTION as string | undefined)?.has('upgrade') === true;
}

/** RFC 9112 §6.3: a request has a body when it has Transfer-Encoding or a Content-Length above 0. */
function hasBody(environ: Environ): boolean {
  const length = environ.CONTENT_LENGTH;
  return length === undefined ? environ.HTTP_TRANSFER_ENCODING !== undefined : length !== '0';
}

/**
 * The request body as a stream for undici, pulling one chunk from `tsgi.input` per read. The
 * input is opened at the first read (so `100 Continue` goes out only once the upstream takes the
 * body) and is never closed from here: when the upstream fails, the server deals with what
 * the client still sends (docs/server.md, unread request bodies).
 */
function requestBody(input: AsyncIterable<Uint8Array>): Readable {
  let iterator: AsyncIterator<Uint8Array> | undefined;
  return new Readable({
    read() {
      iterator ??= input[Symbol.asyncIterator]();
      iterator.next().then(
        (step) => this.push(step.done ? null : step.value),
        (error: unknown) => this.destroy(error as Error),
      );
    },
  });
}

function statusLine(head: UpstreamHead): string {
  const reason = head.statusMessage && !/[\x00-\x08\x0a-\x1f\x7f]/.test(head.statusMessage) ? head.statusMessage : reasonPhrase(head.statusCode);
  return `${head.statusCode} ${reason}`;
}
