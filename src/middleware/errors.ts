/**
 * Turning uncaught errors into a logged 500: Werkzeug's `InternalServerError` handling,
 * Paste's `ErrorMiddleware`, with an opt-in debug page like Werkzeug's debugger (no console).
 *
 * @module
 */
import { type App, type AppLike, type Environ, type LogStream, toApp } from '../gateway/types.ts';
import { assertHeader } from '../gateway/fields.ts';
import { checkChunk, describe } from '../gateway/body.ts';
import { hasNoContent } from '../gateway/status.ts';
import { appDeclaredLength, checkDeclaredLength, fieldRole, finalStatus } from '../gateway/head-rules.ts';
import { type HTTPException, isHTTPException } from '../exceptions/base.ts';
import { escapedAnswer } from '../exceptions/escaped.ts';
import { isBodyFailure } from '../exceptions/body-failure.ts';
import { HTTPInternalServerError } from '../exceptions/server-errors.ts';
import { logRequestError, markLogged, wasLogged } from '../gateway/log.ts';
import { failureReportKey } from '../gateway/failure-report.ts';
import { stoppedWithClient } from '../request/input.ts';
import { isBrokenOff } from '../gateway/readable-input.ts';
import { isReadTimeout } from '../gateway/read-timeout.ts';
import { Request } from '../request/request.ts';
import { sharedRequestOf } from '../request/application.ts';
import type { Response } from '../response/response.ts';
import { type StartedApp, callAppKeepingHead, passHead } from '../gateway/call-app.ts';
import { FirstStepFailure, failureOf } from '../gateway/first-step-failure.ts';
import { heldFields, withHeldFields } from '../gateway/held-fields.ts';
import { wrapBody } from '../gateway/body-watch.ts';
import { afterHeadSettled, serverStatusKey } from '../gateway/server-status.ts';
import { debugResponse, warnIfProduction } from './traceback.ts';
import { type OptionNames, booleanOption, checkOptions } from '../gateway/option-names.ts';
import { readableThrow } from '../gateway/unreadable-throw.ts';

/** Options of {@link errors}. */
export interface ErrorsOptions {
  /**
   * Where errors are logged, a `{ write(message) }` stream; default `environ['tsgi.errors']`
   * (the server's `log`, standard error by default).
   */
  log?: LogStream | undefined;
  /**
   * Called with each error and the request, after logging (e.g. to notify an error tracker).
   * `req` is the `Request` the `Request.application` and `defineMiddleware` layers inside
   * shared, so what they set on it (`req.user`) is there; a new one when they made none.
   * Not awaited; what it throws or rejects with is logged and goes no further.
   */
  onError?: ((error: unknown, req: Request) => unknown) | undefined;
  /**
   * Answer with a traceback page (source lines, request headers, environ) instead of the
   * plain 500. Default `false`; never turn it on in production: under `NODE_ENV=production`
   * it emits a process warning (`TSGI_DEBUG_IN_PRODUCTION`, once per process).
   */
  debug?: boolean | undefined;
}

/** Every option of {@link ErrorsOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const ERRORS_OPTIONS = { log: true, onError: true, debug: true } as const satisfies OptionNames<ErrorsOptions>;

/**
 * Catches what the app throws or rejects with, while it is called and while its body is
 * iterated, so a bug never reaches the client as anything but a clean failure.
 *
 * - **Before the headers are out** (the app failed, or had called `startResponse` but not
 *   produced a first body chunk): the status is held until that first chunk, so the answer
 *   can still change into a 500 whose body is negotiated on `Accept` (plain text, HTML or
 *   JSON, never the error's text; sent with `Vary: Accept`), or, under `errorPages`, the page
 *   its renderer makes of an `HTTPInternalServerError` whose `cause` is the error. When the
 *   app had given its head, that answer keeps the head's fields that are no representation's,
 *   as the server's own does (`X-Request-Id` of a `requestId` below, `Access-Control-*`…;
 *   docs/spec.md §7.4). An invalid
 *   status line (a 1xx too), header (a `Content-Length` that is not one decimal number, or
 *   that an array body belies) or first chunk from the app counts as an error too.
 * - **After the headers are out**: the error is logged and re-thrown from the body, so the
 *   server aborts the connection: a truncated body never looks complete. A failure at the step
 *   after the first chunk, which the server takes before it sends the head, gets the server's
 *   plain 500 instead (an `HTTPException`'s own answer: a proxy's 502), and is logged with that
 *   status once the server answered it; but a 4xx or a redirect answered as itself there is an
 *   answer, as before the first chunk: neither logged nor passed to `onError`. That answer keeps the held head's fields that are no
 *   representation's (what `requestId`, `cors`, `secureHeaders` added; not `Content-*`,
 *   `ETag`, `Cache-Control`, `Set-Cookie`…: docs/spec.md §7.4).
 *
 * Each error is logged once (under nested `errors` layers, a mounted app's own inside the
 * site's, by the innermost), as `[tsgi] GET /path?q HTTP/1.1 500: <stack>` (the request
 * line, then the status), or `[tsgi] GET /path?q HTTP/1.1 500 request_id=9b2e…: <stack>`
 * under `requestId` (the id of the answer's `X-Request-Id` and of the access log's
 * `request_id`), to `options.log` or `environ['tsgi.errors']`, then
 * `options.onError(error, req)` runs; but an `AbortError` or `TimeoutError` the app throws
 * before its head once `tsgi.signal` has aborted (the client left), or that signal's own
 * reason (`fetch(url, { signal })` rejects with it; `@hono/node-server`'s is a string), is
 * the app stopping as asked (`stoppedWithClient`), and the error of a request body that
 * broke off with the client (a raw app's read of `tsgi.input`: `aborted`, `ECONNRESET`…, see
 * `isInputError`; over HTTP/2 the `Premature
 * close` of a stream reset mid-body, at once) the client's doing: neither is logged nor
 * passed to `onError` (spec §7.5). When the signal aborted because a `timeout` above gave up
 * (its `TimeoutError` reason), the client is still there, and an `ECONNRESET` or the like
 * (an upstream's) is the app's failure, logged. An `HTTPException`
 * thrown by the app (`abort(404)`) answers its own response, as `Request.application` does,
 * and as the server does (`escapedAnswer`): a 4xx or a redirect is not an error and is not
 * logged; a 5xx (a proxied upstream's 502, say) is logged with its status and goes to
 * `onError`. So is an error that wraps the 4xx a failed read of the request body left in
 * `tsgi.input` (`bodyFailureBehind`: a sink's `TypeError: fetch failed` whose `cause` is a
 * `req.parts()` file's 413, or the 400 of a client that hung up): that 4xx is the answer,
 * neither logged nor passed to `onError`.
 *
 * @example
 * ```ts
 * export const app = errors(site, {
 *   onError: (error, req) => tracker.capture(error, { url: req.url }),
 *   debug: process.env.NODE_ENV === 'development',
 * });
 * ```
 *
 * @throws TypeError (at once) when `debug` is not a boolean (`'false'` from an environment
 *   variable would show tracebacks to everyone).
 */
export function errors(app: AppLike, options: ErrorsOptions = {}): App {
  const inner = toApp(app);
  checkOptions('errors', options, ERRORS_OPTIONS);
  // `'false'` from an environment variable would otherwise show tracebacks to every visitor.
  const debug = booleanOption('errors', 'debug', options.debug);
  if (debug) warnIfProduction();
  return async (environ, startResponse) => {
    const report = (error: unknown, status: string): void => {
      const log = options.log ?? environ['tsgi.errors'];
      logRequestError(log, environ, ` ${status}`, error);
      const hook = options.onError;
      if (!hook) return;
      const hookFailed = (failure: unknown) =>
        logRequestError(log, environ, ` ${status} (onError hook failed)`, failure);
      try {
        const result = hook(error, sharedRequestOf(Request, environ));
        if (result instanceof Promise) result.catch(hookFailed);
      } catch (failure) {
        hookFailed(failure);
      }
    };
    const onCloseError = (error: unknown) => report(error, '(while closing the body)');
    /**
     * Hands the failure report back to the `errors` above, if any, once the app has answered
     * (`undefined` when none: a `delete` would turn the environ into a slow dictionary object).
     */
    const restore = () => failureReportKey.set(environ, outer!);

    let started: StartedApp | undefined;
    /** Where this layer's own answer goes: `startResponse`, or it keeping the fields of a head the app gave before it failed. */
    let answerTo = startResponse;
    // A failure the app answers itself (Request.application's 5xx with a cause) is reported here.
    const outer = failureReportKey.get(environ);
    failureReportKey.set(environ, report);
    try {
      started = await callAppKeepingHead(inner, environ, onCloseError);
      checkStart(started, environ);
    } catch (thrown) {
      const readable = readableThrow(thrown);
      // The body failed at its first step after the app gave its head (a `requestId` below passes
      // a thrown error on so): this answer keeps the head's fields of no representation, as the server's.
      const error = failureOf(readable);
      if (readable instanceof FirstStepFailure) {
        const kept = heldFields(readable.headers);
        if (kept.length > 0) answerTo = (status, headers, exc) => startResponse(status, withHeldFields(headers, kept), exc);
      }
      restore();
      started?.close();
      const exception = escapedAnswer(error, (e) => report(e, String((e as HTTPException).code)), environ);
      if (exception !== null) {
        try {
          return exception.getResponse(environ).respond(environ, answerTo);
        } catch (failure) {
          return answer500(failure);
        }
      }
      return answer500(error);
    }
    restore();
    // A head the layer above refuses (a `lint` outside) closes the body it never gets.
    passHead(started, startResponse);
    if (Array.isArray(started.body)) return started.body;
    const status = `${started.status.slice(0, 3)} (failed after the response started; the connection is aborted)`;
    return wrapBody(started.body, {
      error: (error) => {
        // An errors() below (a mounted app's own) logged it already: once per failure. The
        // request body's own failure, bare or wrapped (`isBodyFailure`), is the client's doing: not logged.
        // So is a raw read of `tsgi.input` that waited past the server's `bodyTimeout` (`isReadTimeout`).
        if (wasLogged(environ, error) || isBodyFailure(environ, error) || isReadTimeout(error)) return;
        markLogged(environ, error); // re-thrown so the server cuts the connection; logged here only
        // A failure at the step a server takes before it sends the head (the second, which
        // decides a Content-Length) is answered with the server's 500, not cut: logged with it.
        afterHeadSettled(environ, () => {
          const replaced = serverStatusKey.get(environ);
          // A 4xx or a redirect the server answered as itself is an answer, as before the first chunk.
          if (replaced !== undefined && replaced < 500 && isHTTPException(error) && error.code === replaced) return;
          report(error, replaced === undefined ? status : String(replaced));
        });
      },
      closeError: onCloseError,
    });

    async function answer500(error: unknown) {
      // Once the client left, an app that stopped on `tsgi.signal` (`fetch(url, { signal:
      // req.signal })` rejecting, with an `AbortError` or the signal's own reason) stopped as
      // asked, and a raw app whose read of the body broke off with it lets the client's doing
      // propagate: nobody reads this 500, and the server logs neither (spec §7.5).
      if (!isBrokenOff(error) && !stoppedWithClient(environ['tsgi.signal'], error)) report(error, '500');
      let res: Response | undefined;
      if (debug) {
        try {
          res = await debugResponse(error, environ);
        } catch (failure) {
          report(failure, '500 (while rendering the debug page)');
        }
      }
      // The error is the page's `cause`, for a custom page (`errorPages`); it is never shown.
      res ??= new HTTPInternalServerError(undefined, { cause: error }).getResponse(environ);
      return res.respond(environ, answerTo);
    }
  };
}

/**
 * Validates what the app gave `startResponse` and the chunks pulled before the head (an array's,
 * a stream's first), so the server never has to refuse them: by the rules the adapters apply
 * (`head-rules`: a final status, one decimal `Content-Length`, and for an array body in a
 * response with content, the length it declares, unless the request's signal aborted: `callApp`
 * answers a body it gave up on before its first chunk as empty, which a file's `Content-Length`
 * is not, and nobody gets it).
 */
function checkStart(started: StartedApp, environ: Environ): void {
  if (!Array.isArray(started.headers)) throw new TypeError('startResponse headers must be an array of [name, value] pairs');
  const { code } = finalStatus(started.status, started.headers);
  let declared = -1;
  for (let i = 0; i < started.headers.length; i++) {
    const pair = started.headers[i];
    if (!Array.isArray(pair)) throw new TypeError(`invalid header pair (${describe(pair)})`);
    assertHeader(pair[0], pair[1]);
    if (fieldRole(pair, i) === 'content-length') declared = appDeclaredLength(pair[1], declared);
  }
  if (Array.isArray(started.body)) {
    let length = 0;
    for (const chunk of started.body as unknown[]) length += checkChunk(chunk).byteLength;
    // A 304's Content-Length is the stored answer's, a HEAD answer's the GET body's; a 204's and
    // a 205's the server drops (a 205 is sent with 0, RFC 9110 §15.3.6), as it drops their body.
    // A body given up on (the client left, a `timeout` above gave up) is no error: the signal is
    // read only for a length that is one, as reading it may make it.
    if (!hasNoContent(code)) {
      try {
        checkDeclaredLength(declared, length, environ.REQUEST_METHOD === 'HEAD');
      } catch (error) {
        if (environ['tsgi.signal']?.aborted !== true) throw error;
      }
    }
  } else if (started.first !== undefined) {
    // A stream's first chunk, pulled already: the head still waits for it.
    checkChunk(started.first.value);
  }
}
