/**
 * The gateway validator: `wsgiref.validate`, `Rack::Lint`. Wrap an app with `lint()` in
 * tests (or in development) and every breach of docs/spec.md, by the server or by the app,
 * throws a {@link LintError} naming the rule.
 *
 * @module
 */
import { type App, type AppLike, type Body, type Environ, type LogStream, type StartResponse, toApp } from '../gateway/types.ts';
import { type LintWarn, checkEnviron, emitLintWarning, fail, wrapInput } from './lint-environ.ts';
import { type ResponseState, checkBodyType, checkStart, keepHeaders, wrapChecked } from './lint-response.ts';
import { checkCookieDomains } from './lint-cookie-domain.ts';
import { type LoggedRequest, escapeRequestLine, logRequestError } from '../gateway/log.ts';

export { LintError, checkEnviron } from './lint-environ.ts';

/** An app wrapped by {@link lint}, which also tracks the bodies it handed out. */
export interface LintedApp extends App {
  /** How many bodies this app returned that were neither finished nor closed yet. */
  readonly openBodies: number;
  /**
   * Throws a `LintError` when a body this app returned was abandoned: not iterated to the
   * end and not closed with `return()`. Call it once the requests are over (in a test,
   * after reading the responses); it forgets the bodies it reports.
   */
  assertClosed(): void;
}

/**
 * The rules each app (as given to {@link lint}) was warned of: kept across its wrappings, since
 * a `TestClient` wraps its app anew for each call and would otherwise warn on every one.
 */
const WARNED = new WeakMap<AppLike, Set<string>>();

/** The set of rules `app` was warned of, made empty on first use. */
function warnedOf(app: AppLike): Set<string> {
  let warned = WARNED.get(app);
  if (warned === undefined) WARNED.set(app, (warned = new Set()));
  return warned;
}

/**
 * Wraps an app and checks both sides of the gateway interface, like `wsgiref.validate`:
 *
 * - **the environ** the server passes: the CGI keys are strings of the right shape
 *   (`SCRIPT_NAME` `''` or `/x` without a trailing slash, `PATH_INFO` `''` or `/…`, or `*` for
 *   `OPTIONS *` with `SCRIPT_NAME` `''` (RFC 9112 §3.2.4: the server as a whole), a numeric
 *   `SERVER_PORT`, `CONTENT_LENGTH` digits), the `tsgi.*` keys are present with their types,
 *   no `HTTP_CONTENT_TYPE`/`HTTP_CONTENT_LENGTH`; `tsgi.input` chunks are `Uint8Array`, a
 *   read after one that reached the end gives as many bytes (a reader that took the body whole
 *   put back a replayable copy, spec §3), and `tsgi.errors.write()` gets strings;
 * - **`startResponse`** (docs/spec.md §4–5): called once (again only with an error, and never
 *   after the body started without one), the headers array not changed after the call (lint
 *   passes a copy on, and compares at the first chunk or the end), status `'<3 digits> <reason>'` and not 1xx,
 *   headers an array of `[name, value]` string pairs with token names and values of HTAB,
 *   SP, visible ASCII or U+0080–U+00FF (so no CR/LF/NUL), no hop-by-hop field but
 *   `Connection: close`, no `Status` field, at most one Content-Length (digits) and
 *   Content-Type, no Content-Length in a 204 (none but 0 in a 205), an `ETag` that is an
 *   entity tag (`"x"` or `W/"x"`, RFC 9110 §8.8.3; Werkzeug's lint warns of an unquoted one),
 *   and the fields RFC 9110 says a status MUST carry: a 401 a non-blank `WWW-Authenticate`
 *   (§15.5.2; a bare `new HTTPUnauthorized()` breaks this rule), a 405 an `Allow` (§15.5.6;
 *   empty means no method, §10.2.1), a 407 a non-blank `Proxy-Authenticate` (§15.5.8), a 426
 *   a non-blank `Upgrade` (§15.5.22; a bare `new HTTPUpgradeRequired()` breaks it), a 206 a
 *   non-blank `Content-Range` unless its content is `multipart/byteranges`, which has none in
 *   its head (§15.3.7: each part carries its own); an
 *   upstream's head a `proxy` relays as it came only warns of these (the server generating
 *   the status MUST send them: the origin, not the proxy; nginx passes such answers on). A 416's
 *   `Content-Range` is only a SHOULD (§15.5.17): not checked. What RFC 9110 only discourages
 *   is let through with a warning (below): `Content-Type` on a 304 (SHOULD NOT, §15.4.5) or
 *   a 204 (no content to describe), body bytes answered to a HEAD request (the server
 *   drops them and keeps the `Content-Length`, docs/spec.md §7.2; Werkzeug's lint says
 *   nothing of them), and a `Set-Cookie` whose `Domain` does not cover the request's host
 *   (`Domain=example.com` answered to `shop.acme.test`: browsers drop it, RFC 6265 §5.3);
 * - **the body**: an iterable or async iterable (not a string, not bare bytes), chunks are
 *   `Uint8Array`, produced only after `startResponse`, none with bytes for 204/205/304, as
 *   many bytes as Content-Length says (not checked for HEAD and 304); `next()` is not called
 *   again before the previous one settled; the body is iterated to the end or closed with `return()`
 *   (see {@link LintedApp.assertClosed}; a body garbage-collected while open is reported to
 *   `tsgi.errors`), but for an array returned after `startResponse`, checked at once and handed
 *   on as an array, so the server frames it with `Content-Length` as it would the app's own.
 *
 * **Warnings**, for what is discouraged but allowed, are process warnings of type
 * `'LintWarning'` (`process.emitWarning`, as Werkzeug's lint calls `warnings.warn`; see
 * `process.on('warning')`), each once per app and rule, however often the same app is wrapped
 * (a `TestClient` wraps it for each call): they fail nothing (a `TestClient` call
 * neither, unlike output on `tsgi.errors`), and the response goes out as the app made it.
 *
 * Each breach throws a {@link LintError} (`lint: status must be '<3 digits> <reason>' (got
 * "200")`) where it happens: from the app call, from `startResponse`, or from the body's
 * `next()`, so the server turns it into a 500 or an aborted response and logs it.
 *
 * @example
 * ```ts
 * const app = lint(mount({ '/blog': lint(blog) }));
 * const server = await serve(app, { port: 0 });
 * // … requests …
 * app.assertClosed();
 * ```
 */
export function lint(app: AppLike): LintedApp {
  const inner = toApp(app);
  const open = new Map<number, string>();
  const warned = warnedOf(app);
  const warn: LintWarn = (rule, detail) => {
    // Keyed by the rule alone: the detail (a status line, an upstream's reason phrase behind a proxy) varies.
    if (warned.has(rule)) return;
    warned.add(rule);
    emitLintWarning(rule, detail);
  };
  let nextId = 0;
  // A body collected while open is a line about its request, as every `tsgi.errors` line about
  // one: its request line and id (`[tsgi] GET /x HTTP/1.1 request_id=…: lint: …`).
  const registry = new FinalizationRegistry<{ id: number; errors: LogStream; request: LoggedRequest }>(({ id, errors, request }) => {
    const what = open.get(id);
    if (what === undefined) return;
    open.delete(id);
    logRequestError(errors, request, '', `lint: the body must be iterated to the end or closed with return() (abandoned: ${what})`);
  });

  const linted = (async (environ: Environ, startResponse: StartResponse): Promise<Body> => {
    checkEnviron(environ);
    if (typeof startResponse !== 'function') fail('the server must pass startResponse as a function');
    wrapInput(environ);
    const method = environ.REQUEST_METHOD;
    // The decoded path may hold a line feed or an escape sequence (`%0A`, `%1B`): the warnings
    // and the report of an abandoned body name the request on one line.
    const what = escapeRequestLine(`${method} ${environ.SCRIPT_NAME}${environ.PATH_INFO}`);
    // The request line as the server got it: a `mount` below moves the prefix into SCRIPT_NAME.
    const request = loggedRequest(environ);
    const state: ResponseState = { status: 0, length: null, started: false, chunked: false };
    const start: StartResponse = (status, headers, error) => {
      if (state.chunked && error === undefined) fail('startResponse must not be called again once the body started');
      if (state.started && error === undefined) fail('startResponse must be called once (a second call needs the error argument)');
      checkStart(status, headers, state, warn);
      checkCookieDomains(headers, environ, warn, what);
      state.started = true;
      startResponse(status, keepHeaders(headers, state), error);
    };
    const body = await inner(environ, start);
    checkBodyType(body);
    const id = nextId++;
    open.set(id, what);
    const wrapper = wrapChecked(body, state, method === 'HEAD', () => open.delete(id), (rule) => warn(rule, what));
    // The id now: a `requestId` below lint has set it.
    registry.register(wrapper, { id, errors: environ['tsgi.errors'], request: { ...request, 'tsgi.request_id': environ['tsgi.request_id'] } });
    return wrapper;
  }) as unknown as LintedApp & { openBodies: number };

  Object.defineProperty(linted, 'openBodies', { get: () => open.size });
  linted.assertClosed = () => {
    if (open.size === 0) return;
    const list = [...open.values()].join(', ');
    open.clear();
    fail('the body must be iterated to the end or closed with return()', `abandoned: ${list}`);
  };
  return linted;
}

/**
 * What the line about `environ`'s request needs (`logRequestError`), kept apart from the environ
 * so that a body's registration holds no more of the request than these keys.
 */
function loggedRequest(environ: Environ): LoggedRequest {
  return {
    REQUEST_METHOD: environ.REQUEST_METHOD,
    SCRIPT_NAME: environ.SCRIPT_NAME,
    PATH_INFO: environ.PATH_INFO,
    QUERY_STRING: environ.QUERY_STRING,
    REQUEST_URI: environ.REQUEST_URI,
    SERVER_PROTOCOL: environ.SERVER_PROTOCOL,
    'tsgi.redact_query': environ['tsgi.redact_query'],
    'tsgi.request_id': environ['tsgi.request_id'],
  };
}
