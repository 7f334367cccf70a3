/**
 * Custom error pages, site-wide: Flask's `@app.errorhandler(404)`, Hono's `app.notFound()` and
 * `app.onError()`, Express's last error handler.
 *
 * @module
 */
import { type App, type AppLike, type Environ, toApp } from '../gateway/types.ts';
import { describe, isThenable } from '../gateway/body.ts';
import { logRequestError } from '../gateway/log.ts';
import { HTTPException, isHTTPException } from '../exceptions/base.ts';
import { statusExceptions } from '../exceptions/abort.ts';
import { ERROR_PAGES_KEY, type ErrorDescription, type ErrorPageHook } from '../response/error-body.ts';
import { COPY, Response, adoptForeignResponse, isForeignResponse } from '../response/response.ts';
import { Request } from '../request/request.ts';
import { sharedRequestOf } from '../request/application.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';

/**
 * Renders the page of an HTTP error (a 4xx or 5xx) for a request, **synchronously**: it is
 * called from `HTTPException.getResponse`, which is synchronous. It answers:
 *
 * - a `Response`: sent with the error's status line, and the error's own header fields
 *   (`Allow`, `WWW-Authenticate`, `Retry-After`, `Content-Range`…) in place of any of the same
 *   name, but `Content-Type` and `Content-Length`, which are the page's, `Vary`, which is
 *   merged, and `Set-Cookie`, whose fields are all sent (the page's, then the error's, as
 *   `AuthTickets.forget` adds to an exception: each sets a cookie of its own, RFC 6265 §3).
 *   A copy is sent: a page made once at startup, its body in memory, can be answered to every
 *   request; a streamed body (a file stream) can be read once only, so such a page is made in
 *   each call (from the second request on, a shared one is a failed render: the default page
 *   and a log line). It is never served conditionally (`conditionalResponse` is off: RFC 9110
 *   §13.2.1).
 * - a string: an HTML page, sent as `text/html; charset=utf-8` with the error's fields.
 * - `undefined` or `null`: the toolkit's default page (plain text, HTML or JSON on `Accept`),
 *   so a renderer can brand only some statuses, or only HTML clients (`req.accept`).
 *
 * Either page is sent with `Vary: Accept`, as the default one: which page a client gets may
 * depend on its `Accept`. A promise (an `async` renderer) is refused, as anything else: see
 * {@link errorPages}.
 *
 * @param error - the error being answered: its `code`, `title`, `description`, `detail` (the
 *   message given to `abort` or the constructor: user text, escape it in HTML) and `headers`.
 *   The 500 of `errors()` is an `HTTPInternalServerError` whose `cause` is what was thrown:
 *   it is logged already, never show it to clients.
 * @param req - the request (the handler's own `Request` when the error came from
 *   `Request.application`; else the one the `Request.application` and `defineMiddleware`
 *   layers shared, so a `req.user` they set is there, or a new one when they made none).
 */
export type ErrorPageRenderer = (error: HTTPException, req: Request) => Response | string | null | undefined;

/** Options of {@link errorPages}. */
export interface ErrorPagesOptions {
  /** Makes the page of each error: see {@link ErrorPageRenderer}. Required. */
  render: ErrorPageRenderer;
}

/** Every option of {@link ErrorPagesOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const ERROR_PAGES_OPTIONS = { render: true } as const satisfies OptionNames<ErrorPagesOptions>;

/**
 * Brands every error page generated for a request that goes through it: the answer of an
 * `HTTPException` without a `body` of its own (thrown or returned by a handler, `abort(403)`,
 * the router's 404 and 405, `directoryApp`'s and `mount`'s 404, an auth middleware's 401), the
 * 412 and 416 of conditional serving, and the 500 of `errors()`, whichever is outside the
 * other. `render` is asked first (see {@link ErrorPageRenderer}); redirects (3xx) and
 * responses without content (304, 204) are never rendered, and a `Response` the app built
 * itself, whatever its status, is not an error page: it is sent as it is.
 *
 * The middleware stores its hook in the environ under `tsgi.error_pages`, so the layers below
 * and above it (`errors()`, the server answering an `HTTPException` that escaped) find it;
 * under nested `errorPages`, the innermost one a request went through is asked first, and the
 * pages it leaves to the default (`undefined`, or a render that failed) go to the next one
 * out, as a Flask blueprint's error handlers fall back to the app's.
 * Inside a `cascade` (above it or below), a page of a status the cascade skips (the `404` of
 * `directoryApp('public')` before the site) is not rendered: its default body is closed
 * unread, and the renderer runs only for the pages sent (see `skippedByCascade`).
 * Without `errorPages`, a generated error body costs one environ read more, and a response
 * that is no error nothing.
 *
 * A renderer that throws, returns a promise or something else never turns an error page into
 * a crash or a loop: the default page is sent (an outer `errorPages`' page, if there is one)
 * and the failure is logged, once, to `environ['tsgi.errors']` as
 * `[tsgi] GET /path HTTP/1.1 404 (errorPages: …): <stack>`. An error page the renderer itself
 * asks for (`new HTTPNotFound().getResponse(req)` inside `render`) is never its own: the
 * default page, or an outer `errorPages`' page.
 *
 * @param options - `render`, see {@link ErrorPageRenderer}.
 * @throws TypeError when `options.render` is not a function.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { Response } from 'tsgi';
 * import { escapeHtml } from 'tsgi/http';
 * import { errorPages, errors } from 'tsgi/middleware';
 *
 * const notFound = new Response(readFileSync('public/404.html'), { contentType: 'text/html' });
 *
 * export const app = errorPages(errors(site), {
 *   render(error, req) {
 *     // API clients keep the default JSON body.
 *     if (req.accept.bestMatch(['text/html', 'application/json'], 'text/html') !== 'text/html') return undefined;
 *     if (error.code === 404) return notFound;
 *     return layout(`${error.code} ${error.title}`, `<p>${escapeHtml(error.description)}</p>`);
 *   },
 * });
 * ```
 */
export function errorPages(app: AppLike, options: ErrorPagesOptions): App {
  const inner = toApp(app);
  checkOptions('errorPages', options, ERROR_PAGES_OPTIONS);
  const render = (options as Partial<ErrorPagesOptions> | undefined)?.render;
  if (typeof render !== 'function') throw new TypeError(`errorPages needs a render function, not ${describe(render)}`);
  const hook = renderingHook(render);
  return (environ, startResponse) => {
    // Inside another errorPages (a mounted section with pages of its own): what this one
    // leaves to the default page, the outer one is asked for, as a Flask blueprint's missing
    // handler falls back to the app's.
    const outer = environ[ERROR_PAGES_KEY] as ErrorPageHook | undefined;
    environ[ERROR_PAGES_KEY] = outer === undefined || outer === hook ? hook : fallingBack(hook, outer);
    return inner(environ, startResponse);
  };
}

/** `hook`, then `outer` for the pages `hook` leaves to the default. */
function fallingBack(hook: ErrorPageHook, outer: ErrorPageHook): ErrorPageHook {
  return (description, environ, req, fields) => hook(description, environ, req, fields) ?? outer(description, environ, req, fields);
}

/** The {@link ErrorPageHook} that asks `render`, one per `errorPages`. */
function renderingHook(render: ErrorPageRenderer): ErrorPageHook {
  // Set while `render` runs (it is synchronous): an error page it asks for is the default one.
  let rendering = false;
  return (description, environ, req, fields) => {
    if (description.code < 400 || rendering) return undefined;
    const error = isHTTPException(description) ? description : exceptionOf(description, fields);
    rendering = true;
    try {
      return pageOf(render(error, req instanceof Request ? req : sharedRequestOf(Request, environ)), error);
    } catch (failure) {
      logFailure(environ, error, failure);
      return undefined;
    } finally {
      rendering = false;
    }
  };
}

/** The exception of an answer `response/` built without one (a 412, a 416), with its fields. */
function exceptionOf(description: ErrorDescription, fields: ReadonlyArray<[string, string]> | undefined): HTTPException {
  const Class = (statusExceptions.get(description.code) ?? HTTPException) as unknown as typeof HTTPException;
  return new Class(undefined, { headers: fields === undefined ? undefined : [...fields] });
}

/**
 * The page `render` answered, as sent (see {@link ErrorPageRenderer}), or `undefined` for the
 * default page.
 *
 * @throws TypeError for a promise or another value.
 */
function pageOf(result: unknown, error: HTTPException): Response | undefined {
  if (result === undefined || result === null) return undefined;
  if (typeof result === 'string') {
    return new Response(result, { status: error.status, headers: error.headers, contentType: 'text/html' }).addVary('Accept');
  }
  if (result instanceof Response || isForeignResponse(result)) {
    // Another copy of tsgi's Response (npm link, two versions) is made this copy's.
    const page = result instanceof Response ? result[COPY]() : adoptForeignResponse(result);
    page.status = error.status;
    // Preconditions and ranges apply to a 2xx only (RFC 9110 §13.2.1): never to an error page.
    page.conditionalResponse = false;
    for (const name of error.headers.keys()) {
      const lower = name.toLowerCase();
      if (lower === 'content-type' || lower === 'content-length') continue;
      const values = error.headers.getAll(name);
      if (lower === 'vary') page.addVary(...values);
      else {
        // Each Set-Cookie sets a cookie of its own (RFC 6265 §3): the page's stay.
        if (lower !== 'set-cookie') page.headers.delete(name);
        for (const value of values) page.headers.add(name, value);
      }
    }
    return page.addVary('Accept');
  }
  if (isThenable(result)) {
    // Never an unhandled rejection: the promise is refused, its outcome ignored.
    result.then(undefined, () => {});
    throw new TypeError('errorPages: render returned a promise; it must answer synchronously (a Response, a string, or undefined)');
  }
  throw new TypeError(`errorPages: render must answer a Response, a string, null or undefined, not ${describe(result)}`);
}

/** Logs a failed render once, to `tsgi.errors`. */
function logFailure(environ: Environ, error: HTTPException, failure: unknown): void {
  const note = ` ${error.code} (errorPages: render failed, the default page was sent)`;
  logRequestError(environ['tsgi.errors'], environ, note, failure);
}
