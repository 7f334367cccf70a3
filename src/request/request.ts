/**
 * The `Request` wrapper: a live view over an environ, and `Request.application`.
 *
 * The class holds the environ; its attributes are declared by concern in `request/*.ts`
 * (URL parts, header fields, negotiation and conditions, body readers, running apps) and
 * installed on its prototype (see `descriptors.ts`).
 *
 * @module
 */
import type { App, Environ, Middleware } from '../gateway/types.ts';
import { EnvironHeaders } from '../datastructures/environ-headers.ts';
import { PARSED, type ParseCache, type ParsedValues, installParts } from '../http/descriptors.ts';
import { RequestUrl } from './url.ts';
import { RequestHeaderFields } from './headers.ts';
import { RequestConditions } from './conditional.ts';
import { RequestBody } from './body.ts';
import { RequestCopy } from './copy.ts';
import { type HandlerResult, RequestApplication, handlerApp, handlerMiddleware } from './application.ts';
import { BLANK_OPTIONS, type BlankOptions, blankEnviron } from './blank.ts';
import { assertOneBody } from './one-body.ts';
import { checkOptions } from '../gateway/option-names.ts';
import { type LayerHooks, hooksMiddleware } from './hooks.ts';
import { sendLinkHints } from '../gateway/early-hints.ts';

export { splitHost } from '../http/host.ts';
export type { FormOptions, JsonOptions, ReadOptions } from './body.ts';
export type { HandlerResult } from './application.ts';
export type { BlankOptions } from './blank.ts';

/**
 * A `Request.application` handler: gets the request (an instance of the class
 * `application` was called on: `MyRequest.application` gives a `MyRequest`) and answers a
 * {@link HandlerResult} or a promise of one.
 */
export type Handler<R extends Request = Request> = (req: R) => HandlerResult | Promise<HandlerResult>;

/**
 * The function behind a middleware made with `Request.middleware` or `defineMiddleware`: it
 * gets the request (an `R`, the class `middleware` was called on), the wrapped app and the
 * options, and answers like a `Request.application` handler (a `Response`, an `HTTPException`
 * thrown or returned, a string, or another app). It calls `await req.getResponse(app)` to go
 * down the chain, and may change the request before and the response after.
 */
export type MiddlewareHandler<Options, R extends Request = Request> = (
  req: R,
  app: App,
  options: Options,
) => HandlerResult | Promise<HandlerResult>;

/**
 * The hooks of a middleware made with `defineMiddleware({ before, after })` or
 * `Request.middleware({ before, after })`. Either may be left out; each may answer a promise.
 * Each is called as a method of the object (`this` is it, an instance of a class with these
 * methods included).
 *
 * - `before(req, options)` runs first. It answers nothing (`undefined`) to go on down the
 *   chain, or an answer (what a `Request.application` handler answers: a `Response`, an
 *   `HTTPException`, a string, an app) to answer instead of the app, which is then not called
 *   (Flask's `before_request` returning a value).
 * - `after(req, res, options)` runs on the response on its way up: the app's, or the one
 *   `before` answered, or the response of an `HTTPException` the app or `before` threw (Flask's
 *   `after_request`). It changes `res` in place and answers nothing, or answers another
 *   `Response` to send instead.
 *
 * An `HTTPException` thrown by a hook becomes the answer (after `after` when `before` threw
 * it, without it when `after` did); any other error propagates to the layer above, and
 * `after` does not run on it: the 500 page is made above (`errors`, the server), so put the
 * layer over `errors` to have `after` see it (Flask, outside debug and testing, runs
 * `after_request` on its own 500 page).
 */
export type MiddlewareHooks<Options, R extends Request = Request> = LayerHooks<Options, R>;

// The attributes declared in request/*.ts, merged into the class (installed below).
export interface Request extends RequestUrl, RequestHeaderFields, RequestConditions, RequestBody, RequestCopy, RequestApplication {}

/**
 * A request: a thin, live view over a TSGI environ (WebOb's `Request`). Every attribute reads
 * the environ when asked and every setter writes it, so middleware and apps sharing the
 * environ always agree.
 *
 * @example
 * ```ts
 * const req = Request.blank('/search?q=tsgi', { baseUrl: 'https://example.com/app' });
 * req.scriptName;     // '/app'
 * req.pathInfo;       // '/search'
 * req.query.get('q'); // 'tsgi'
 * req.url;            // 'https://example.com/app/search?q=tsgi'
 * ```
 *
 * **Subclassing.** Add an app's own attributes in a subclass (WebOb's `RequestClass`,
 * Werkzeug's `Request` subclasses): `MyRequest.application`, `MyRequest.middleware` and
 * `MyRequest.blank` build a `MyRequest`, typed as one. Keep the constructor's signature
 * (`new (environ)`), and keep state in the environ rather than in fields, so that every
 * wrapper of the environ agrees (a middleware's `Request`, the app's `MyRequest`).
 *
 * @example
 * ```ts
 * class MyRequest extends Request {
 *   // The user a session middleware put in the environ.
 *   get user(): User | null {
 *     return (this.environ['myapp.user'] as User | undefined) ?? null;
 *   }
 * }
 * export const app = MyRequest.application((req) => `Hello ${req.user?.name ?? 'stranger'}`);
 * ```
 */
export class Request implements ParseCache {
  /** The environ this request reads and writes. */
  readonly environ: Environ;
  #headers: EnvironHeaders | undefined;
  #parsed: ParsedValues | undefined;

  constructor(environ: Environ) {
    this.environ = environ;
  }

  /** @internal The parsed headers (`accept`, `query`, `cookies`…) by raw value (see `cachedField`). */
  [PARSED](): ParsedValues {
    return (this.#parsed ??= []);
  }

  /** The request headers: a live, case-insensitive view over the `HTTP_*` keys. */
  get headers(): EnvironHeaders {
    return (this.#headers ??= new EnvironHeaders(this.environ));
  }

  /**
   * Sends a `103 Early Hints` response (RFC 8297) with one `Link` field per link, ahead of the
   * final answer: the browser starts fetching what they name (`rel=preload`, `rel=preconnect`)
   * while the app is still working on the page. Express's `res.writeEarlyHints({ link })`; WebOb
   * and Werkzeug have none. Call it before the slow part of the handler; each call is one 103,
   * and Chromium uses only the first of a response, so give every link in one call.
   *
   * Browsers act on it for a page load (a top-level navigation) only, never for a `fetch()`;
   * Chromium only over HTTP/2 or HTTP/3 (`tsgi serve --http2`, or a proxy passing it on): over
   * HTTP/1.1 the 103 is sent, and ignored (docs/response.md#early-hints-103).
   *
   * It goes through the server's `tsgi.early_hints` (docs/spec.md §2.5): `serve()` and
   * `toNodeHandler` send it over HTTP/1.1 and HTTP/2; the fetch adapters (Bun, Deno, Workers)
   * cannot send a 1xx and have none, so the call does nothing there. The test client records
   * what was sent (`res.earlyHints`).
   *
   * @param links - one link-value (`'</style.css>; rel=preload; as=style'`), or several: each
   *   `<uri>` then `; name=value` parameters (a quoted value without spaces or `;`).
   * @returns `true` when the 103 went out; `false` when nothing was sent: the server cannot send
   *   one, the client speaks HTTP/1.0 (RFC 8297 §3), or the final head is committed (a call
   *   from a streamed body after its first chunk, even just after its first `yield`: harmless,
   *   ignored).
   * @throws TypeError for an empty list, a value with CR, LF or other control characters, or
   *   one that is not a single link-value (several links joined with `,`), whatever the server.
   *
   * @example
   * ```ts
   * export const page = Request.application(async (req) => {
   *   req.sendEarlyHints(['</style.css>; rel=preload; as=style', '</app.js>; rel=preload; as=script']);
   *   const rows = await db.query('…'); // the browser fetches the style sheet meanwhile
   *   return new Response(render(rows), { contentType: 'text/html' });
   * });
   * ```
   */
  sendEarlyHints(links: string | readonly string[]): boolean {
    return sendLinkHints(this.environ, links);
  }

  /**
   * Builds a request with a complete environ, for tests and for calling apps in-process
   * (WebOb `Request.blank`): an instance of the class it is called on (`MyRequest.blank('/')`
   * is a `MyRequest`).
   *
   * @param pathOrUrl - a path with an optional query (`/a?b=1`, percent-encoded as in a
   *   request line; `a/b` is taken as `/a/b`), or an absolute URL whose scheme, host and port fill the environ (a
   *   default port is left out of `Host`). A `#fragment` is dropped, as clients never send it.
   * @param options - method (default `GET`; `POST` when `form` or `files` is given, as WebOb's
   *   `POST=`), headers, and a body: `body` (raw), `json`, `form` (urlencoded), or `files` with
   *   `form` (multipart); see {@link BlankOptions}.
   *
   * @example
   * ```ts
   * const req = Request.blank('/upload', {
   *   method: 'POST',
   *   form: { title: 'Report' },
   *   files: { doc: { filename: 'r.txt', content: 'hello', contentType: 'text/plain' } },
   * });
   * (await req.files()).get('doc')?.size; // 5
   * ```
   * @throws URIError for a path with a malformed percent-escape; TypeError for an invalid
   *   URL or one (or a `baseUrl`) of another scheme than `http:` or `https:` (`'ws://host/'`,
   *   whose `tsgi.url_scheme` would be `ws`), header name or header value (CR/LF), options that are not a plain object or hold
   *   an unknown key (`Request.blank: unknown option "metod": did you mean "method"?`), or two
   *   bodies (`json` with `form`, `files` or `body`; `form` or `files` with `body`: `Request.blank:
   *   give one body: json, form (with files) or body, not json and form`), where the first was sent and the rest dropped.
   */
  static blank<R extends Request>(this: new (environ: Environ) => R, pathOrUrl: string, options: BlankOptions = {}): R {
    checkOptions('Request.blank', options, BLANK_OPTIONS);
    assertOneBody('Request.blank', options);
    return new this(blankEnviron(pathOrUrl, options));
  }

  /**
   * Turns `fn(req, app, options)` into a middleware `(app, options?) => App` (WebOb's
   * `wsgify.middleware`). The handler calls `req.getResponse(app)` to go down the chain and
   * returns a Response (or an HTTPException, a string, an app), as with
   * {@link Request.application}. `req` is an instance of the class `middleware` is called on
   * (`MyRequest.middleware(fn)` gives `fn` a `MyRequest`); on `Request` itself, this is
   * `defineMiddleware`.
   *
   * TypeScript infers both type arguments or neither: on a subclass, annotate the options
   * parameter (`(req, app, { name }: { name: string }) => …`) or give both
   * (`MyRequest.middleware<{ name: string }, MyRequest>(…)`).
   *
   * @example
   * ```ts
   * const poweredBy = Request.middleware<{ name: string }>(async (req, app, { name }) => {
   *   const res = await req.getResponse(app);
   *   res.headers.set('X-Powered-By', name);
   *   return res;
   * });
   * const wrapped = poweredBy(site, { name: 'tsgi' });
   * ```
   */
  static middleware<Options extends object = {}, R extends Request = Request>(
    this: new (environ: Environ) => R,
    fn: MiddlewareHandler<Options, R>,
  ): Middleware<Options>;
  /**
   * Turns two hooks, `before(req, options)` and `after(req, res, options)`, into a middleware
   * `(app, options?) => App` (Flask's `before_request`/`after_request`, Fastify's
   * `onRequest`/`onSend`): see {@link MiddlewareHooks}. Hooks that answer synchronously cost no
   * promise, so a stack of such layers over a synchronous handler runs in one call.
   *
   * @example
   * ```ts
   * const poweredBy = Request.middleware<{ name: string }>({
   *   after(req, res, { name }) {
   *     res.headers.set('X-Powered-By', name);
   *   },
   * });
   * ```
   * @throws TypeError when `hooks` has a key other than `before` and `after`, or a hook is not
   *   a function.
   */
  static middleware<Options extends object = {}, R extends Request = Request>(
    this: new (environ: Environ) => R,
    hooks: MiddlewareHooks<Options, R>,
  ): Middleware<Options>;
  /**
   * Either form, for a value that may be a handler or hooks. Also the signature strict
   * TypeScript reports a mistake against (it names the last overload's error): a handler that
   * forgets to return is told `Type 'void' is not assignable to type 'HandlerResult'`, not that
   * it `has no properties in common with type 'MiddlewareHooks'`.
   */
  static middleware<Options extends object = {}, R extends Request = Request>(
    this: new (environ: Environ) => R,
    fn: MiddlewareHandler<Options, R> | MiddlewareHooks<Options, R>,
  ): Middleware<Options>;
  static middleware<Options extends object = {}, R extends Request = Request>(
    this: new (environ: Environ) => R,
    fn: MiddlewareHandler<Options, R> | MiddlewareHooks<Options, R>,
  ): Middleware<Options> {
    return typeof fn === 'function' ? handlerMiddleware(this, fn) : hooksMiddleware(this, fn);
  }

  /**
   * Turns a handler `(req) => Response` into a gateway app (WebOb's `wsgify`, Werkzeug's
   * `Request.application`). Each call builds the request as an instance of the class
   * `application` is called on (Werkzeug's `cls(environ)`): `MyRequest.application` gives the
   * handler a `MyRequest`. The handler may return a `Response`, an `HTTPException`, a string
   * (sent as `text/plain`), another app, or a promise (or thenable) of one; a thrown or
   * rejected `HTTPException` becomes its response, as a returned one does (negotiated by the request's `Accept`;
   * either logged first when it is a 5xx with a `cause` — to the nearest `errors`, else `tsgi.errors` — a failure below it such as
   * a proxied upstream that broke off while the handler read its body), any
   * other error propagates to the server or the error middleware. A HEAD request gets the
   * headers without the body. Errors thrown by a returned app propagate, as in WebOb's `wsgify`.
   *
   * The outermost `Request.application` on an environ also ends the request: when the
   * handler parsed a form, the temporary files of its uploads are removed before a body held
   * in memory is returned, after a streamed body has been sent, has failed or was closed, and
   * before an error propagates.
   *
   * @example
   * ```ts
   * export const app = Request.application(async (req) => {
   *   if (req.method !== 'GET') throw new HTTPMethodNotAllowed(['GET']);
   *   return new Response(`Hello ${req.query.get('name') ?? 'world'}`);
   * });
   * ```
   */
  static application<R extends Request>(this: new (environ: Environ) => R, handler: Handler<R>): App {
    return handlerApp(this, handler);
  }
}

installParts(Request, [RequestUrl, RequestHeaderFields, RequestConditions, RequestBody, RequestCopy, RequestApplication]);
