/**
 * The upstream proxy app ({@link proxy}): forwards each request to an HTTP or HTTPS server and
 * streams its answer back, as WSGIProxy2's `HostProxy` and Paste's `Proxy` do for WSGI.
 *
 * @module
 */
import { Readable } from 'node:stream';
import { type Dispatcher, loadUndici, undiciLoaded } from './undici.ts';
import type { App, Body, Environ, StartResponse } from '../gateway/types.ts';
import { markRelayed } from '../gateway/relayed.ts';
import { assertHeader } from '../gateway/fields.ts';
import { reasonPhrase } from '../response/status.ts';
import { CLIENT_CLOSED, isReasonPhrase } from '../gateway/status.ts';
import { HTTPNotImplemented, HTTPServiceUnavailable } from '../exceptions/server-errors.ts';
import { HTTPBadRequest } from '../exceptions/client-errors.ts';
import { inputFailure, isBodyReadable } from '../request/input.ts';
import { HTTPException } from '../exceptions/base.ts';
import { applyEdits, checkRequestFields } from './header-edits.ts';
import { type ProxyOptions, proxySettings } from './proxy-options.ts';
import { connectionOptions, forwardRequestHeaders, forwardResponseHeaders } from './forward-headers.ts';
import { upstreamTarget } from './upstream-path.ts';
import { decrementMaxForwards, maxForwardsOf } from './max-forwards.ts';
import { redirectToCleanPath } from '../middleware/clean-path.ts';
import { ExchangeClosed, type ExchangeTimeouts, type UpstreamHead, UpstreamExchange } from './upstream-exchange.ts';
import { PROXY_AUTHENTICATION_CODE, answerFailure, failedMidBody, isConnectionLost } from './upstream-errors.ts';
import { upstreamConnector } from './upstream-socket.ts';
import { earlyHintsForwarder } from './early-hints.ts';
import { eventStreamKind } from '../gateway/shutdown.ts';
import { keptPrefixKey } from './kept-prefix.ts';
import { undecodedTransferCoding } from './transfer-coding.ts';
import { withoutUpstreamRequestId } from './request-id-field.ts';
import { type UpstreamTiming, upstreamTimingKey } from '../gateway/upstream-timing-key.ts';

/** The empty first chunk that sends an event stream's head before its first event. */
const EMPTY = new Uint8Array(0);

/** What {@link proxy} answers: a gateway app, plus `close()` to release its connections. */
export interface ProxyApp extends App {
  (environ: Environ, startResponse: StartResponse): Promise<Body>;
  /** The upstream's URL, normalised: `http://127.0.0.1:8080/base`. */
  readonly upstream: string;
  /**
   * Closes the default connection pool (not a `dispatcher` you passed) once the requests in
   * flight are done; resolves when closed. A request after it is answered `503` ("The proxy is
   * closed"). Calling it again returns the same promise, as
   * `serve()`'s `close()` does (undici's own `close()` rejects the second time).
   */
  close(): Promise<void>;
}

/** The status line started for a client gone before the upstream's head (nginx's 499). */
const CLIENT_CLOSED_LINE = `${CLIENT_CLOSED} Client Closed Request`;

/**
 * A gateway app that forwards every request to `upstream` and streams the answer back.
 *
 * - **Bodies stream both ways** with backpressure, through undici: the request body is read
 *   from `tsgi.input` as the upstream takes it, the response body is read from the upstream
 *   as the client takes it; neither is buffered whole. Connections to the upstream are kept
 *   alive and reused (a `HEAD`'s too, where undici alone would close it), as nginx's and Envoy's.
 * - **The path**: the raw remainder of the request-target (from `REQUEST_URI`, so `%2F` stays
 *   `%2F`) below the upstream URL's path, and the query as sent; see
 *   {@link ProxyOptions.stripScriptName}.
 * - **Headers** (RFC 9110 §7.6): hop-by-hop fields and those named in `Connection` are dropped
 *   both ways; `Host` is the upstream's (see {@link ProxyOptions.preserveHost});
 *   `X-Forwarded-*` and `Via` are added; {@link ProxyOptions.requestHeaders} and
 *   {@link ProxyOptions.responseHeaders} edit the rest. `Expect: 100-continue` is answered by
 *   the server when the body is first read, so it is not forwarded.
 * - **One request id end to end**: under `requestId` (outside the proxy), the id goes upstream
 *   in the request, and an upstream's answer field of the id's name (`X-Request-Id`) is left
 *   out, so the client gets the gateway's id, the one its log lines hold, as Envoy sets
 *   `x-request-id` in the answer; without `requestId` the upstream's passes as it is.
 * - **Timing**: the upstream's time to its head and to the end of its answer, in ms from when
 *   the request was sent, goes in the environ (`upstreamTimingKey`, `tsgi.upstream_timing`),
 *   which `accessLog` logs (`upstream_header_ms`, `upstream_response_ms`), as nginx's
 *   `$upstream_header_time` and `$upstream_response_time`.
 * - **`103 Early Hints`** from the upstream are passed on where the server can send them
 *   (`tsgi.early_hints`): their `Link` fields only, one link each, after the
 *   {@link ProxyOptions.responseHeaders} edits, the first 8 of a request (a 1xx has no
 *   back-pressure); other interim answers are dropped.
 * - **An upstream's `407`** is answered 502: its challenge is for this gateway (RFC 9110
 *   §11.7.1), not the client, which could not answer it (`Proxy-Authorization` is not
 *   forwarded either), and a 407 without it breaks §15.5.8.
 * - **Redirects** are passed to the client, not followed (use `rewriteLocation` to map
 *   `Location` to the public URL).
 * - **Failures before the head**: refused, reset, unresolvable host, TLS or a malformed answer
 *   (a status past 599 too: RFC 9110 §15; a body under a transfer coding other than `chunked`,
 *   `Transfer-Encoding: gzip, chunked`, which undici does not decode: RFC 9112 §7) → 502; connect or response-head timeout → 504; the page says which, and
 *   `tsgi.errors` gets the upstream and the cause. The upstream's head is passed on with the
 *   body's first chunk (the server sends none before it either), so a failure up to that chunk
 *   is one of these too. After it, a failure (reset, `bodyTimeout`) makes the body throw, so
 *   the server cuts the client's connection: a truncated body never looks complete. That
 *   includes a reset that ends an answer with no length (HTTP/1.0, or neither Content-Length
 *   nor chunked: RFC 9112 §6.3), which undici takes for its end: the default pool's
 *   connections report it (not for an answer that began while part of the upload was still to
 *   go: RFC 9112 §9.6's reset of an early answer). A clean close ends such an answer.
 * - **A kept-alive connection lost** before any answer (reset, closed: the upstream closed it
 *   as the request went out) is retried once on another connection for an idempotent method
 *   (GET, HEAD, OPTIONS, PUT, DELETE; RFC 9110 §9.2.2) without a body, as nginx's
 *   `proxy_next_upstream` does; anything else, or a second loss, is the 502, and so is the
 *   loss of a fresh connection that read nothing (the upstream failed on this very request: a
 *   query that kills its worker is not sent to a second one).
 * - **An early answer** (RFC 9112 §9.5: a `413` or `401` sent before the whole upload was read,
 *   the connection then closed or reset by the upstream) is passed on, with its body, instead of
 *   the 502 of the failed upload: the default pool's connections keep reading after such a
 *   write fails, and undici then pauses the upload, so nothing more is read from the client
 *   (the server closes its connection after the answer). With your own `dispatcher` undici
 *   may report the failed write instead (a 502). An upstream that answers early and keeps the
 *   connection needs none of this: once its answer is whole, undici stops the upload and closes
 *   that connection.
 * - **An upload the client breaks** (a body cut off or malformed, or past the server's
 *   `maxBodySize`) aborts the upstream request and is answered as the client's error, `400`
 *   or `413`, as `req.bytes()` answers it: not a 502.
 * - **The client leaving** (`tsgi.signal`, or the server closing the body) aborts the upstream
 *   request at once, as does a layer above refusing the head (`startResponse` throwing). A client gone before the head is answered `499 Client Closed Request`
 *   (nginx's code; nobody receives it). A layer still reading the body when the client leaves (a filter's
 *   `await res.json()`) has its read rejected with the signal's reason once the chunks already
 *   in are taken, never ended as if those were the whole answer.
 * - **`Upgrade`** requests (WebSocket) are answered `501 Not Implemented`: the gateway
 *   interface does not carry a connection after the exchange. An `h2c` or `TLS` offer alone
 *   (`curl --http2`) is declined: the request is forwarded without it.
 * - **`TRACE`** is answered `501 Not Implemented`, never forwarded: the upstream's echo of the
 *   request (RFC 9110 §9.3.8) would show the client what this gateway adds to it (the
 *   `requestHeaders` edits: an internal token) and, read by a script, its cookies (cross-site
 *   tracing). nginx refuses TRACE too (405; a 405 must carry an `Allow` this gateway cannot
 *   know, and 501 is RFC 9110 §15.6.2's answer for a method not supported for any resource).
 * - **`Max-Forwards`** on an `OPTIONS` (RFC 9110 §7.6.2): `0` is answered here, `200` with no
 *   content, and not forwarded; a larger count is forwarded decremented (at most 2³¹ − 1); one
 *   that is not digits is answered `400`. Other methods forward the field as it is (§7.6.2 lets
 *   a recipient ignore it for them).
 * - **Dot segments** of the path (`/a/../b`, `%2E%2E`) are never resolved out of sight of the
 *   layers above, which read `PATH_INFO` with them (a guard testing for `/admin` lets
 *   `/x/../admin` by): a request with one is answered `308 Permanent Redirect` to the URL with
 *   them resolved (`/x/../admin?q` → `/admin?q`), as `mount` answers it, so the clean path
 *   comes through those layers again. One hidden behind an escaped slash (`..%2F..%2Fadmin`)
 *   or a path parameter (`..;/admin`, which a Java upstream resolves) is answered
 *   `400 Bad Request`. `OPTIONS *` is
 *   answered `501` (the HTTP client sends only paths) unless the upstream URL has a base path.
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
 *   query or a fragment; a timeout that is not a positive number up to 2147483647 ms; a
 *   `connections` that is no positive whole number or `Infinity`, or one given with `dispatcher`; header edits with an
 *   invalid name or value, or `requestHeaders` that set a field the HTTP client writes itself
 *   (`Transfer-Encoding`, `Keep-Alive`, `Upgrade`, `Expect`; a `Content-Length` that is not
 *   digits; a thrown `TypeError`, answered 500, when a function edit sets one); `tls` given with
 *   `dispatcher` or for an `http:` upstream, or `tls` options Node cannot use (a key that is not PEM, an unknown `minVersion`…); a `preserveHost`,
 *   `xForwarded` or `stripScriptName` that is not a boolean (`'false'` from an environment variable).
 */
export function proxy(upstream: string | URL, options: ProxyOptions = {}): ProxyApp {
  const settings = proxySettings(upstream, options);
  const { stripScriptName } = settings;
  const timeouts: ExchangeTimeouts = { headers: settings.headersTimeout, body: settings.bodyTimeout };
  const origin = settings.url.origin;
  const basePath = settings.url.pathname.replace(/\/+$/, '');
  const ownPool = options.dispatcher === undefined;
  let dispatcher = options.dispatcher;
  // undici starts loading as the proxy is built, so its first request need not wait for it
  // (about 90 ms); an import that fails is retried, and reported, by that first request.
  loadUndici().catch(() => undefined);
  /**
   * The dispatcher, once undici is loaded: at the first request forwarded (undici.ts), when the
   * default pool is made too; `undefined` when the proxy was closed meanwhile.
   */
  const loadDispatcher = async (): Promise<Dispatcher | undefined> => {
    const { Pool } = await loadUndici();
    if (closing !== undefined && ownPool) return undefined;
    return (dispatcher ??= new Pool(origin, { connections: settings.connections, connect: upstreamConnector({ ...settings.tls, timeout: settings.connectTimeout }) }));
  };

  const app = async (environ: Environ, startResponse: StartResponse): Promise<Body> => {
    // Its own pool closed (`close()` called, at shutdown): undici would refuse the request (a
    // 502 blaming the upstream); the gateway itself is unavailable.
    if (closing !== undefined && ownPool) return new HTTPServiceUnavailable(CLOSED).respond(environ, startResponse);
    if (isUpgrade(environ)) {
      return new HTTPNotImplemented('WebSocket and other Upgrade requests cannot pass through this gateway.').respond(environ, startResponse);
    }
    if (environ.REQUEST_METHOD === 'TRACE') return new HTTPNotImplemented(TRACE_REFUSED).respond(environ, startResponse);
    const path = upstreamTarget(environ, basePath, stripScriptName);
    // The filters above map the upstream's URLs back: below SCRIPT_NAME only when it was left out.
    keptPrefixKey.set(environ, !stripScriptName);
    if (path === null) return new HTTPBadRequest('The path hides a dot segment behind an escaped slash or a path parameter (;).').respond(environ, startResponse);
    // Dot segments are not resolved out of sight of the layers above, which read PATH_INFO
    // with them; repeated slashes are forwarded as those layers read them.
    const redirect = redirectToCleanPath(environ, startResponse, false);
    if (redirect !== null) return redirect;
    const hops = maxForwardsOf(environ);
    if (hops === null) return new HTTPBadRequest('Max-Forwards must be a number of hops: digits only.').respond(environ, startResponse);
    if (hops === 0) {
      // RFC 9110 §7.6.2: not forwarded; answered as the final recipient, an OPTIONS with no content.
      startResponse('200 OK', [['Content-Length', '0']]);
      return [];
    }
    if (path === '*') return new HTTPNotImplemented('OPTIONS * is not forwarded: ask the upstream about a path.').respond(environ, startResponse);
    const headers = applyEdits(decrementMaxForwards(forwardRequestHeaders(environ, settings), hops), options.requestHeaders, environ, 'requestHeaders');
    // A function's edits are known only now: a field undici refuses is this gateway's error (500), not the upstream's.
    if (typeof options.requestHeaders === 'function') checkRequestFields(headers, 'requestHeaders');
    const request = {
      origin,
      path,
      method: environ.REQUEST_METHOD,
      headers: headers.flat(),
      // The exchange keeps both times itself (see UpstreamExchange's timer).
      headersTimeout: 0,
      bodyTimeout: 0,
      // undici closes the connection after each HEAD (sending `Connection: close`) in case the
      // upstream wrongly sends a body; nginx and Envoy keep it, and so does this pool: a HEAD's
      // answer has no body (RFC 9110 §9.3.2), and stray bytes on an idle connection end it.
      ...(environ.REQUEST_METHOD === 'HEAD' ? { reset: false } : {}),
    };
    const client = dispatcher !== undefined && undiciLoaded() !== undefined ? dispatcher : await loadDispatcher();
    if (client === undefined) return new HTTPServiceUnavailable(CLOSED).respond(environ, startResponse);
    const input = isBodyReadable(environ) ? environ['tsgi.input'] : null;
    // An upstream's 103 goes on to the client where the server can send one (spec §2.5).
    const onEarlyHints = earlyHintsForwarder(environ, options.responseHeaders);
    let exchange!: UpstreamExchange;
    let head!: UpstreamHead;
    // nginx's $upstream_header_time and $upstream_response_time, for `accessLog`: from the first send.
    const timing: UpstreamTiming = { header: null, response: null };
    upstreamTimingKey.set(environ, timing);
    const sentAt = performance.now();
    for (let attempt = 1; ; attempt++) {
      let answer: Promise<UpstreamHead>;
      [exchange, answer] = startExchange(client, request, input, timeouts, environ['tsgi.signal'], onEarlyHints, timing, sentAt);
      try {
        head = await answer;
        break;
      } catch (error) {
        // A kept-alive connection the upstream closed as the request went out (RFC 9112
        // §9.3.1): an idempotent request without a body is sent once more, as nginx does.
        if (!exchange.aborted && attempt === 1 && input === null && IDEMPOTENT.has(request.method) && isConnectionLost(error)) continue;
        return failedBeforeHead(exchange, environ, startResponse, origin, error);
      }
    }
    if (head.statusCode === 407) {
      exchange.abort(new ExchangeClosed('407 from the upstream'));
      return answerFailure(environ, startResponse, origin, Object.assign(new Error('407 Proxy Authentication Required'), { code: PROXY_AUTHENTICATION_CODE }));
    }
    // A body still under a coding undici does not take off (`Transfer-Encoding: gzip, chunked`):
    // without that field, which is not passed on, the client would take its bytes for the content.
    const coding = request.method === 'HEAD' || head.statusCode === 204 || head.statusCode === 304 ? undefined : undecodedTransferCoding(head.headers);
    if (coding !== undefined) {
      exchange.abort(new ExchangeClosed('a transfer coding undici does not decode'));
      const error = new Error(`Transfer-Encoding: ${coding}: a transfer coding other than chunked, which this gateway does not decode (RFC 9112 §7)`);
      // llhttp's code for a Transfer-Encoding it refuses: `classify` takes it for a malformed answer.
      return answerFailure(environ, startResponse, origin, Object.assign(error, { code: 'HPE_INVALID_TRANSFER_ENCODING' }));
    }
    const forwarded = forwardResponseHeaders(head.headers, 'HTTP/1.1', head.statusCode);
    try {
      for (const [name, value] of forwarded) assertHeader(name, value);
    } catch (error) {
      exchange.abort(new ExchangeClosed('invalid response header'));
      return answerFailure(environ, startResponse, origin, Object.assign(error as Error, { code: 'ERR_INVALID_HEADER' }));
    }
    let responseHeaders: Array<[string, string]>;
    try {
      // The edits are this gateway's (an object's were checked when built): a function that
      // throws, or leaves a field that cannot be sent, is its error (500), not the upstream's.
      // The upstream's own request id would hide the one `requestId` above forwarded and logs.
      responseHeaders = applyEdits(withoutUpstreamRequestId(forwarded, environ), options.responseHeaders, environ, 'responseHeaders');
      if (typeof options.responseHeaders === 'function') for (const [name, value] of responseHeaders) assertHeader(name, value);
    } catch (error) {
      exchange.abort(new ExchangeClosed('the responseHeaders edit failed'));
      throw error;
    }
    // An event stream's head goes out at once, with an empty first chunk, as nginx
    // (`proxy_buffering off`) and http-proxy pass it on: the client's EventSource opens, and a
    // `timeout` above sees the answer start, while the upstream works on its first event (an
    // LLM's first token). A failure before that event cuts the connection, which EventSource
    // takes as an error and reconnects.
    if (eventStreamKind(responseHeaders) !== undefined) {
      passHead(exchange, startResponse, statusLine(head), responseHeaders);
      return failLoudly(exchange, origin, EMPTY);
    }
    // The server sends no head before the body's first chunk either: a failure up to there is
    // answered as one before the head (502, saying which), not as the server's 500.
    let first: IteratorResult<Uint8Array, undefined>;
    try {
      first = await exchange.next();
    } catch (error) {
      return failedBeforeHead(exchange, environ, startResponse, origin, error);
    }
    passHead(exchange, startResponse, statusLine(head), responseHeaders);
    return first.done ? [] : failLoudly(exchange, origin, first.value);
  };
  let closing: Promise<void> | undefined;
  return Object.assign(app, {
    upstream: origin + basePath,
    close: () => (closing ??= ownPool && dispatcher !== undefined ? dispatcher.close().then(() => undefined) : Promise.resolve()),
  });
}

/**
 * The answer to an exchange that failed before the client got a head: `499` when the client
 * left (nobody receives it); the client's own error when reading its body failed (`413` past
 * the server's `maxBodySize`, `400` for a body cut off or malformed, as `req.bytes()` answers;
 * anything else is thrown to the server); else the 502 or 504 of {@link answerFailure}.
 */
function failedBeforeHead(exchange: UpstreamExchange, environ: Environ, startResponse: StartResponse, origin: string, error: unknown): Body {
  if (exchange.aborted) {
    startResponse(CLIENT_CLOSED_LINE, []);
    return [];
  }
  if (exchange.uploadError === undefined) return answerFailure(environ, startResponse, origin, error);
  const failure = inputFailure(exchange.uploadError);
  if (failure instanceof HTTPException) return failure.respond(environ, startResponse);
  throw failure;
}

/**
 * Passes the upstream's head on. When `startResponse` throws (a layer above refuses the head:
 * `lint`, and so the `TestClient`, on a 401 without `WWW-Authenticate`), the upstream request is
 * aborted before the error is thrown on: nobody will read its body, which would otherwise hold
 * its connection, paused once 64 KiB are queued, and keep `close()` from resolving, for ever.
 */
function passHead(exchange: UpstreamExchange, startResponse: StartResponse, status: string, headers: Array<[string, string]>): void {
  // The upstream's head: `lint` leaves the fields its status MUST carry to the origin (a warning, not a refusal).
  markRelayed(headers);
  try {
    startResponse(status, headers);
  } catch (error) {
    exchange.abort(new ExchangeClosed('the head was refused above'));
    throw error;
  }
}

/** RFC 9110 §9.2.2: the methods a client may send again after a lost connection (TRACE is never sent). */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** The 503's reason once `close()` was called on a proxy with its own pool. */
const CLOSED = 'The proxy is closed: it is shutting down.';

/** The 501's reason for a TRACE. */
const TRACE_REFUSED = 'TRACE is not forwarded: its echo would show the request, with the fields this gateway adds, to whoever sent it.';

/**
 * Sends `request` upstream through `dispatcher` (the body read from `input`, when there is
 * one) and answers the exchange and its head, taken before the dispatch (a dispatcher may
 * answer at once, a `MockAgent` does, and the exchange lets go of its head when it is over);
 * the client leaving (`signal`) aborts it; an interim 103's fields go to `onEarlyHints`; its
 * times, from `sentAt`, to `timing`.
 */
function startExchange(
  dispatcher: Dispatcher,
  request: Omit<Dispatcher.DispatchOptions, 'body'>,
  input: AsyncIterable<Uint8Array> | null,
  timeouts: ExchangeTimeouts,
  signal: AbortSignal | undefined,
  onEarlyHints: UpstreamExchange['onEarlyHints'],
  timing: UpstreamTiming,
  sentAt: number,
): [UpstreamExchange, Promise<UpstreamHead>] {
  const exchange = new UpstreamExchange(timeouts);
  exchange.onEarlyHints = onEarlyHints;
  exchange.timeFrom(timing, sentAt);
  if (signal) {
    const onAbort = () => exchange.clientLeft(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    exchange.onFinish = () => signal.removeEventListener('abort', onAbort);
  }
  const head = exchange.head;
  if (input !== null) exchange.uploading();
  dispatcher.dispatch({ ...request, body: input === null ? null : requestBody(input, exchange) }, exchange);
  // A request waiting for a free connection of the pool waits within headersTimeout.
  exchange.dispatched();
  return [exchange, head];
}

/**
 * The body: `first`, then the rest read from the exchange; an upstream failure in the middle of
 * it throws the 502 or 504 of `failedMidBody`, which names the upstream in the server's log,
 * and a failure of the client's own upload (the upstream answered before reading it all) that
 * upload's error (a 413 past `maxBodySize`, a 400), which blames nobody upstream.
 */
function failLoudly(exchange: UpstreamExchange, origin: string, first: Uint8Array): AsyncIterableIterator<Uint8Array> {
  let pending: Uint8Array | undefined = first;
  return {
    next: () => {
      if (pending !== undefined) {
        const value = pending;
        pending = undefined;
        return Promise.resolve({ done: false, value });
      }
      return exchange.next().catch((error: unknown) => {
        // The client left: its signal's reason, as the layers above take a client gone (no upstream failure).
        if (exchange.aborted) throw error;
        // The client's own upload broke (the upstream answered before reading it all): its error, not the upstream's.
        throw exchange.uploadError ?? failedMidBody(origin, error);
      });
    },
    return: () => exchange.return(),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * An upgrade request this gateway refuses (RFC 9110 §7.8): `Upgrade` named in `Connection`,
 * offering a protocol the exchange cannot do without (WebSocket). An offer of `h2c` or `TLS/…`
 * alone is declined by answering in HTTP/1.1, as the RFC lets a server do: `curl --http2`
 * sends one with every cleartext request. (`Upgrade` is hop-by-hop: it is not forwarded.)
 */
function isUpgrade(environ: Environ): boolean {
  const offered = environ.HTTP_UPGRADE as string | undefined;
  if (offered === undefined || connectionOptions(environ.HTTP_CONNECTION as string | undefined)?.has('upgrade') !== true) return false;
  return offered.split(',').some((protocol) => !DECLINABLE.test(protocol.trim()));
}

/** Upgrades a server may decline by answering as it is: HTTP/2 over cleartext, TLS (RFC 2817). */
const DECLINABLE = /^(?:h2c|TLS\/[\d.]+)?$/i;

/**
 * The request body as a stream for undici, pulling one chunk from `tsgi.input` per read. The
 * input is opened at the first read (so `100 Continue` goes out only once the upstream takes the
 * body) and is never closed from here: when the upstream fails, the server deals with what
 * the client still sends (docs/server.md, unread request bodies). A failed read destroys the
 * stream with its error, told to the exchange (`uploadFailed`); the stream's own 'error' event
 * has a listener that ignores it, since undici listens only while it owns the request: it
 * reads the body once (`read(0)`) as the request's turn on a connection comes, before
 * {@link UpstreamExchange.onRequestStart} refuses a request given up while it waited (its
 * client gone, or its 504 sent), and that read then fails unheard (an uncaught exception).
 */
function requestBody(input: AsyncIterable<Uint8Array>, exchange: UpstreamExchange): Readable {
  let iterator: AsyncIterator<Uint8Array> | undefined;
  const body = new Readable({
    read() {
      iterator ??= input[Symbol.asyncIterator]();
      exchange.waitingForClient();
      iterator.next().then(
        (step) => {
          exchange.requestProgress();
          if (step.done) exchange.uploaded();
          this.push(step.done ? null : step.value);
        },
        (error: unknown) => {
          exchange.uploadFailed(error);
          this.destroy(error as Error);
        },
      );
    },
  });
  body.on('error', ignoreUploadError);
  return body;
}

/** The body stream's 'error' listener of {@link requestBody}: the error went to the exchange. */
function ignoreUploadError(): void {}

/**
 * The status line to send: the upstream's code and reason phrase, or the code's standard phrase
 * when the upstream's is empty or one a status line cannot carry (undici reads it as UTF-8, so
 * a phrase in UTF-8 or ISO-8859-1 bytes may hold characters past U+00FF).
 */
function statusLine(head: UpstreamHead): string {
  const reason = head.statusMessage && isReasonPhrase(head.statusMessage) ? head.statusMessage : reasonPhrase(head.statusCode);
  return `${head.statusCode} ${reason}`;
}
