/**
 * A time limit on an app's answer: Go's `http.TimeoutHandler`, Hono's `timeout()`, Express's
 * `connect-timeout`.
 *
 * @module
 */
import { type App, type AppLike, type Body, toApp } from '../gateway/types.ts';
import { type StartedApp, callAppKeepingHead } from '../gateway/call-app.ts';
import { failureOf, passingFirstStepFailure } from '../gateway/first-step-failure.ts';
import { logRequestError } from '../gateway/log.ts';
import { isAbort } from '../gateway/abort.ts';
import { HTTPGatewayTimeout, HTTPServiceUnavailable } from '../exceptions/server-errors.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';
import { MAX_DELAY } from '../gateway/max-delay.ts';

/** Options of {@link timeout}. */
export interface TimeoutOptions {
  /**
   * How long the app has to start its response, in milliseconds (as every server-side time
   * limit of the toolkit: `proxy`'s `headersTimeout`, `serve()`'s, `setTimeout`'s): from the
   * call until it has given its status and its first chunk of body (or returned a body held in
   * memory). Required: a positive number up to 2147483647 (about 24.8 days, `setTimeout`'s
   * limit).
   */
  ms: number;
  /**
   * The status answered when the time is up: `503` (default, Service Unavailable: this
   * server could not answer, RFC 9110 §15.6.4; Go's `TimeoutHandler`, `connect-timeout` and
   * Heroku's router answer it) or `504` (Gateway Timeout, §15.6.5: for an app that is itself
   * a gateway waiting on a service behind it; Hono's `timeout()` default).
   */
  status?: 503 | 504 | undefined;
}

/** Every option of {@link TimeoutOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const TIMEOUT_OPTIONS = { ms: true, status: true } as const satisfies OptionNames<TimeoutOptions>;

/**
 * Answers the client itself when `app` has not started its response within `options.ms`:
 * a `503 Service Unavailable` (or `504`, see `status`) with a short reason, answered as an
 * `HTTPException` is, so `errorPages` renders it and `accessLog` logs it. The app started in
 * time when it has called `startResponse` and produced its first chunk of body, or returned a
 * body held in memory (an array, what `Response` answers for a string or JSON body); from then
 * on its answer goes out as it is: the limit is on the head, a body that streams for minutes
 * afterwards is not cut (Hono's limit is on the handler too). A stream that stalls is the
 * app's to end, as `proxy`'s `bodyTimeout` ends one from an upstream.
 *
 * The app is told it was given up on: below this middleware, `environ['tsgi.signal']` (and so
 * `req.signal`) is a signal that aborts when the time is up, with a `TimeoutError`
 * `DOMException` as its reason, as well as when the client goes away (the server's own
 * signal, joined with `AbortSignal.any`). Pass it to `fetch`, `proxy` (which takes it
 * itself), a database query, and they stop. The environ's key is replaced for the rest of the
 * request, so layers outside `timeout` that read it afterwards see the same signal
 * (`errors()` and `accessLog` do, when an error reaches them to tell a client gone from a
 * failure: one that comes through `timeout` came before the deadline, so the joined signal
 * aborted, if at all, for the client).
 *
 * An app that answers after the time is up is not sent: its body is closed (its iterator's
 * `return()`, so a generator's `finally` runs: PEP 3333 `close()`) and what it throws then
 * is logged to `environ['tsgi.errors']` as `[tsgi] GET /path HTTP/1.1 (timeout: after the
 * 5000 ms limit): <stack>`, except an `AbortError` or `TimeoutError`, the app stopping as
 * asked. The timer is cleared as soon as the head comes; an app that never settles is never
 * waited for. JavaScript cannot stop synchronous code: an app that blocks the event loop is
 * only timed out once it yields. A body that fails before its first chunk in time, once the
 * app gave its head, is passed on as it came (that head, then the failure), so the server
 * answers it as without `timeout`, keeping the head's fields of no representation
 * (docs/spec.md §7.4).
 *
 * @example
 * ```ts
 * import { Request, Response } from 'tsgi';
 * import { accessLog, errorPages, timeout } from 'tsgi/middleware';
 *
 * const search = Request.application(async (req) => {
 *   const upstream = await fetch(`https://api.example.com/search?${req.queryString}`, { signal: req.signal });
 *   return Response.json(await upstream.json());
 * });
 * // A 503 after 5 s; the fetch is aborted at the same moment.
 * export const app = accessLog(errorPages(timeout(search, { ms: 5000 }), { render }));
 * ```
 *
 * @throws TypeError (at once) when `ms` is not a positive number up to 2147483647, or
 *   `status` is neither 503 nor 504.
 */
export function timeout(app: AppLike, options: TimeoutOptions): App {
  const inner = toApp(app);
  checkOptions('timeout', options, TIMEOUT_OPTIONS);
  const ms = options?.ms;
  if (typeof ms !== 'number' || !(ms > 0) || ms > MAX_DELAY) throw new TypeError(`timeout: ms must be a positive number of milliseconds up to ${MAX_DELAY}, not ${String(ms)}`);
  const status = options.status ?? 503;
  if (status !== 503 && status !== 504) throw new TypeError(`timeout: status must be 503 or 504, not ${String(status)}`);
  const reason = `The application did not answer within ${ms} ms.`;
  const expired = () => (status === 503 ? new HTTPServiceUnavailable(reason) : new HTTPGatewayTimeout(reason));
  return passingFirstStepFailure((environ, startResponse) => {
    const deadline = new AbortController();
    const client = environ['tsgi.signal'];
    environ['tsgi.signal'] = client === undefined ? deadline.signal : AbortSignal.any([client, deadline.signal]);
    return new Promise<Body>((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        deadline.abort(new DOMException(reason, 'TimeoutError'));
        try {
          resolve(expired().respond(environ, startResponse));
        } catch (error) {
          reject(error);
        }
      }, ms);
      const started = (answer: StartedApp) => {
        if (late) return void answer.close();
        clearTimeout(timer);
        try {
          startResponse(answer.status, answer.headers);
        } catch (error) {
          answer.close();
          return reject(error);
        }
        resolve(answer.body);
      };
      const failed = (error: unknown) => {
        if (!late) {
          clearTimeout(timer);
          return reject(error); // a body's first-step failure: answered as without this layer
        }
        const failure = failureOf(error);
        if (!isAbort(failure)) logRequestError(environ['tsgi.errors'], environ, ` (timeout: after the ${ms} ms limit)`, failure);
      };
      callAppKeepingHead(inner, environ).then(started, failed);
    });
  });
}
