/**
 * The TSGI gateway interface: the types of docs/spec.md (the calling convention between
 * servers and applications). It follows PEP 3333 (WSGI) with JavaScript's iteration protocols
 * in place of Python's.
 *
 * @module
 */
import { notAnAppKind, notAnAppMark } from './not-an-app.ts';

/**
 * The response body an app returns: any sync or async iterable of byte chunks.
 *
 * Arrays of `Uint8Array` (`[bytes]`) are the cheapest bodies; generators stream. The server
 * iterates to the end, or calls the iterator's `return()` when the client goes away, so a
 * generator's `finally` block always runs (PEP 3333's `close()`).
 */
export type Body = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * Called by the app to begin the response (PEP 3333 `start_response`).
 *
 * @param status - `"<3 digits> <reason phrase>"`, e.g. `"404 Not Found"`.
 * @param headers - response header fields as `[name, value]` pairs, in order; names are
 *   tokens, values contain no CR/LF; hop-by-hop fields are the server's business.
 * @param error - set only when calling again to replace the status after an error; if the
 *   headers have already been sent, the server re-throws `error` instead.
 */
export type StartResponse = (
  status: string,
  headers: Array<[string, string]>,
  error?: unknown,
) => void;

/**
 * Where log text goes: anything with a `write(message)` method, such as `process.stderr`, a
 * `fs.WriteStream` or `{ write: (line) => lines.push(line) }`. It is the type of
 * `environ['tsgi.errors']` (PEP 3333 `wsgi.errors`) and of every `log` option of the toolkit
 * (`serve`, `errors`, `accessLog`). Each message is one or more whole lines, ending with
 * `\n`; what `write` answers is ignored.
 */
export interface LogStream {
  /** Writes text to the log; a message ends with a newline. */
  write(message: string): unknown;
}

/**
 * The per-request environment: a plain mutable object with the CGI/WSGI keys (see
 * docs/spec.md for each). Middleware and apps add keys under their own prefix.
 */
export interface Environ {
  /** `GET`, `POST`, … as sent (RFC 9110 §9). */
  REQUEST_METHOD: string;
  /** The URL path the request was routed by, percent-decoded; `''` or starts with `/`. */
  SCRIPT_NAME: string;
  /** The rest of the URL path, percent-decoded as UTF-8; `''` or starts with `/`. */
  PATH_INFO: string;
  /** The raw query string, without `?`; `''` when absent. */
  QUERY_STRING: string;
  /** The raw request-target as it appeared on the request line (path and query, encoded). */
  REQUEST_URI?: string | undefined;
  /** The `Content-Type` header, if any. */
  CONTENT_TYPE?: string | undefined;
  /** The `Content-Length` header (decimal bytes), if any. */
  CONTENT_LENGTH?: string | undefined;
  /** The server's host name or address. */
  SERVER_NAME: string;
  /** The server's port, as a decimal string. */
  SERVER_PORT: string;
  /** `HTTP/1.1`, `HTTP/1.0`, … */
  SERVER_PROTOCOL: string;
  /** The client's address (the TCP peer), if known. */
  REMOTE_ADDR?: string | undefined;
  /** The client's port, as a decimal string, if known. */
  REMOTE_PORT?: string | undefined;
  /** The authenticated user name (RFC 3875 §4.1.11), set by auth middleware. */
  REMOTE_USER?: string | undefined;
  /** How `REMOTE_USER` was authenticated (RFC 3875 §4.1.1): `Basic`, `Bearer`, `cookie`; set by auth middleware. */
  AUTH_TYPE?: string | undefined;
  /** Interface version, `[1, 0]`. */
  'tsgi.version': readonly [number, number];
  /** `http` or `https`. */
  'tsgi.url_scheme': string;
  /** The request body as a stream of byte chunks; read it once (see `Request.bytes()`). */
  'tsgi.input': AsyncIterable<Uint8Array>;
  /** Where apps and middleware log errors. */
  'tsgi.errors': LogStream;
  /**
   * True when the same app may be invoked at the same time from several threads that share
   * memory (PEP 3333 `wsgi.multithread`). The Node adapter runs every request on one thread:
   * false. Requests still interleave at each `await`, so per-request state belongs in the
   * environ or local variables, never in module-level variables.
   */
  'tsgi.multithread': boolean;
  /** True when the app may run in several processes. */
  'tsgi.multiprocess': boolean;
  /** True when the app will be called once only in this process (CGI). */
  'tsgi.run_once': boolean;
  /**
   * Aborted when the client goes away before the response is complete, or when middleware
   * above gave up on the request (`timeout`), which may replace it with a signal joining both.
   */
  'tsgi.signal'?: AbortSignal;
  /**
   * Aborted when the server begins a graceful shutdown (`close()`, `tsgi serve` on SIGTERM or
   * when a worker is replaced), with a `DOMException` named `AbortError`: a response that
   * would otherwise run until the client leaves (a long poll, a stream of updates) SHOULD end
   * then, so the shutdown is not held for its whole timeout (docs/spec.md §2.6). OPTIONAL:
   * `serve()` provides it, `toNodeHandler` and `toFetchHandler` when given one (their
   * `shutdownSignal` option).
   */
  'tsgi.shutdown_signal'?: AbortSignal;
  /**
   * True when the request may carry a body that `CONTENT_LENGTH` does not announce (chunked
   * HTTP/1.1, an HTTP/2 stream that did not end with its headers, a fetch `Request` with a body
   * and no `Content-Length`): `tsgi.input` then holds it, read to its end (WSGI's
   * `wsgi.input_terminated`, as Werkzeug reads it). Absent with no `CONTENT_LENGTH`: no body.
   */
  'tsgi.input_terminated'?: boolean;
  /**
   * Hands the server work that runs after the answer (a promise), as a Worker's
   * `ctx.waitUntil`: a graceful shutdown waits for it, within its timeout (docs/spec.md §2.7).
   * OPTIONAL: `serve()`, the fetch adapters on a Worker (its `ctx.waitUntil`) and the
   * `TestClient` provide it (the client's call settles once the work has); elsewhere the work
   * still runs but nothing waits for it. `res.callOnClose(fn)` uses it.
   */
  'tsgi.wait_until'?: (promise: Promise<unknown>) => void;
  /**
   * Sends a `103 Early Hints` response (RFC 8297) ahead of the final one: OPTIONAL, present
   * only where the server can send one (`serve()`, `toNodeHandler`; not the fetch adapters).
   * See {@link EarlyHints}; apps call `req.sendEarlyHints(links)`.
   */
  'tsgi.early_hints'?: EarlyHints;
  /** One `HTTP_*` key per request header, and any key added by middleware. */
  [key: string]: unknown;
}

/**
 * The `tsgi.early_hints` server extension (docs/spec.md §2.5): sends an informational
 * `103 Early Hints` response (RFC 8297) with `fields` ahead of the final answer, so a browser
 * can start fetching what a `Link: </style.css>; rel=preload; as=style` names while the app
 * is still working on the page. One server function serves every request: it is called with
 * the request's environ (`environ['tsgi.early_hints'](environ, fields)`), which is how it finds
 * the connection.
 *
 * It answers `true` when the 103 went out, `false` when nothing was sent and nothing needs to
 * be: an HTTP/1.0 client (RFC 8297 §3: it must not get a 1xx), a final head already sent, a
 * client gone, `fields` without a `Link` field. It may be called several times before the
 * final head; each call is one 103.
 *
 * @param environ - the environ of the request (or a copy of it) the hints are for.
 * @param fields - `[name, value]` pairs: token names, field-value characters (spec §5), no
 *   hop-by-hop fields, no `Content-Length` (RFC 9110 §8.6); each `Link` field one link-value
 *   (`<uri>` then `; name=value` parameters; several links are several fields).
 * @throws TypeError for fields that break those rules; nothing is sent then.
 */
export type EarlyHints = (environ: Environ, fields: Array<[string, string]>) => boolean;

/**
 * A gateway application: takes the environ and `startResponse`, returns the body.
 * May return a promise of the body; may call `startResponse` lazily, during iteration.
 */
export type App = (environ: Environ, startResponse: StartResponse) => Body | Promise<Body>;

/**
 * A middleware: a function that takes an app (any {@link AppLike}) and its options, and
 * returns the wrapping app (docs/spec.md §8; WSGI middleware, Werkzeug's
 * `app.wsgi_app = Middleware(app.wsgi_app, **options)`).
 *
 * The options argument may be left out unless `Options` has a required key, so a middleware
 * whose options are all optional is also a plain `(app) => App` and stacks without arrow
 * functions: `compose(accessLog, errors, compress)(site)`. Every middleware of the toolkit
 * (`accessLog`, `errors`, `compress`, `cors`, `proxyFix`, `lint`, `basicAuth`, `bearerAuth`, an
 * `AuthTickets`' `middleware`, and what `defineMiddleware` builds) is a `Middleware` of its
 * options type.
 *
 * @example
 * ```ts
 * const timing: Middleware<{ header?: string | undefined }> = (app, options = {}) => {
 *   const inner = toApp(app);
 *   return async (environ, startResponse) => {
 *     const started = performance.now();
 *     return inner(environ, (status, headers, error) =>
 *       startResponse(status, [...headers, [options.header ?? 'Server-Timing', `app;dur=${performance.now() - started}`]], error));
 *   };
 * };
 * ```
 */
export type Middleware<Options extends object = {}> = (
  app: AppLike,
  ...options: {} extends Options ? [options?: Options] : [options: Options]
) => App;

/**
 * Anything that can serve as an app: an {@link App} function, or an object with a
 * `respond(environ, startResponse)` method such as a `Response` or an `HTTPException`
 * (WebOb's callable responses).
 */
export type AppLike = App | { respond: App };

/**
 * Turns an {@link AppLike} into an {@link App} (binding `respond` when given an object).
 * @throws TypeError for anything else, naming what it got (`undefined`, a `RouteMap`, a response
 *   filter such as `rewriteHtml` given unapplied…).
 */
export function toApp(app: AppLike): App {
  if (typeof app === 'function') {
    // A middleware marked as no app (`serve(rewriteHtml)`): refused here, where the app is built.
    if (notAnAppMark(app) === undefined) return app;
  } else if (app !== null && typeof app === 'object' && typeof app.respond === 'function') {
    return app.respond.bind(app);
  }
  throw new TypeError(`expected a gateway app: a function or an object with respond() (got ${notAnAppKind(app)})`);
}

/** The `tsgi.version` this package implements. */
export const TSGI_VERSION: readonly [number, number] = Object.freeze([1, 0] as [number, number]);

