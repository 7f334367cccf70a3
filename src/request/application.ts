/**
 * Running apps with a `Request`: `req.getResponse(app)` (WebOb's `get_response`) and the
 * engines of `Request.application` (WebOb's `wsgify`) and `Request.middleware` (WebOb's
 * `wsgify.middleware`), both in charge of the request's end.
 *
 * The engines take the request class as a parameter (`Request` or a subclass, which they
 * build for each call), so this module needs no import of `request.ts`.
 *
 * @module
 */
import { type App, type AppLike, type Body, type Environ, type Middleware, type StartResponse, toApp } from '../gateway/types.ts';
import { describe, isThenable } from '../gateway/body.ts';
import { hasNoContent } from '../gateway/status.ts';
import { HTTPException, isHTTPException } from '../exceptions/base.ts';
import { answeringException } from '../exceptions/body-failure.ts';
import { COPY, Response } from '../response/response.ts';
import { CLOSE_CALLS, serveWithoutCalls } from '../response/serve.ts';
import { READ_HOOK } from '../response/body.ts';
import { type CloseCalls, runCloseCalls, withCloseCalls } from '../gateway/close-calls.ts';
import { callApplication } from './call.ts';
import { claimCleanup, endWithBody, finishRequest, hasRequestEnd, releaseCleanup } from './cleanup.ts';
import { keepInnerResponse } from './inner-responses.ts';
import { logFailureAnswered } from './failure-log.ts';
import { setBodyKeepingLength } from './stream-body.ts';
import { closeOnlyEarly } from './close-early.ts';

/**
 * What a `Request.application` handler may return: a `Response`, an `HTTPException`, a string
 * (sent as `200 text/plain; charset=utf-8`), or another gateway app (a function or an object
 * with `respond`) that then answers the same environ. Anything else (`undefined` from a
 * forgotten `return`…) is a `TypeError` at run time.
 */
export type HandlerResult = Response | HTTPException | string | AppLike;

/** A class of request wrappers, built on an environ: `Request` or a subclass of it. */
type RequestClass<R> = new (environ: Environ) => R;

/** What the engines need of a request: its environ. */
interface EnvironView {
  readonly environ: Environ;
}

/** Running a gateway app on a `Request` (installed on it; see `descriptors.ts`). */
export abstract class RequestApplication {
  declare readonly environ: Environ;

  /**
   * Runs a gateway app on this request and returns its answer as a {@link Response}
   * (WebOb `get_response`). The body is not buffered: a streamed body stays streamed.
   * Errors thrown by the app propagate.
   *
   * Called outside any `Request.application` (in a test, a script), it takes charge of the
   * request's end: uploads the app parsed are cleaned up once the response body is read to
   * its end or closed, or at once when the body came back in memory (with `callOnClose` work,
   * once that work is done: they stay until then, as when a server sends it). The answer's
   * `callOnClose` work runs once it is served (after it is sent), or else once it is read or
   * converted (`bytes()`, `text()`, `json()`, `toFetch()`; a stream: read to its end or
   * closed): once, never lost to a read.
   *
   * Called inside one (in a handler, a `Request.middleware`), a streamed response it answers
   * lives as long as the request: when the outermost layer's body has been sent or closed, or
   * its handler failed, the stream is closed (`return()` of an iterator, `cancel()` of a web
   * `ReadableStream`, PEP 3333's `close()`) unless it was taken: returned up the chain (the
   * response, or a copy of it the layer above got), sent (`respond`, `toApp`), read
   * (`bytes()`, `text()`, `json()`) or converted (`toFetch()`); so is a stream a new body set
   * on the response replaced (`res.body = 'redacted'`), a no-op for one read to its end through
   * the new body. So a middleware may throw, answer something else or replace the body after
   * `getResponse` without leaking the app's file, socket or cursor. Its errors are logged to
   * `tsgi.errors`.
   */
  getResponse(app: AppLike): Promise<Response> {
    const environ = this.environ;
    const owner = claimCleanup(environ);
    if (!owner) {
      // Inside a `Request.application`: the outermost layer ends the request; answer at once.
      try {
        const res = responseOf(environ, toApp(app), true);
        return res instanceof Response ? Promise.resolve(res) : res;
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return ownedResponse(environ, app);
  }
}

/** `getResponse` outside any `Request.application`: it takes charge of the request's end. */
async function ownedResponse(environ: Environ, app: AppLike): Promise<Response> {
  let res: Response;
  try {
    res = await responseOf(environ, toApp(app), false);
  } catch (error) {
    return fail(error, environ, true);
  }
  const endsWithWork = handOnCalls(environ, res);
  if (!res.isStreamed()) {
    if (!endsWithWork) await finishRequest(environ);
  } else {
    const body = res.body as Body;
    const ended = await endWithBody(body, environ);
    if (ended !== body) setBodyKeepingLength(res, ended);
  }
  return res;
}

/**
 * The `callOnClose` work of `res`, which `getResponse` answers outside any
 * `Request.application` (no request's end is left to run it if nobody serves it), goes with
 * what the caller does with it: serving it runs the work once it is sent, as always; reading it
 * instead runs it once read, as WebOb and Werkzeug run an app's `close()` once they have read
 * its body. A streamed body takes the work (it runs once the body is read to its end, closed,
 * or served, before the request's end, so uploads stay until it is done); a body in memory runs
 * it at its first read or conversion (`bytes()`, `text()`, `json()`, `toFetch()`), unless it
 * was served first, and then ends the request (its uploads stay until the work is done). Run
 * once either way. Answers true when the request's end was so handed to the work of a body in
 * memory (the caller must not end it now).
 */
function handOnCalls(environ: Environ, res: Response): boolean {
  const calls = res[CLOSE_CALLS];
  if (calls === undefined || calls.served) return false;
  if (res.isStreamed()) {
    res[CLOSE_CALLS] = undefined;
    setBodyKeepingLength(res, withCloseCalls(res.body as Body, calls.fns.slice(), environ));
    return false;
  }
  // The request's end comes last, once the work is done (`finishRequest` waits for the work
  // running: the uploads stay until then), whether the response is read or served.
  const own: CloseCalls = { fns: [...calls.fns, () => void finishRequest(environ)], served: false };
  res[CLOSE_CALLS] = own;
  res[READ_HOOK] = () => {
    res[READ_HOOK] = undefined;
    if (own.served || res[CLOSE_CALLS] !== own) return;
    // Taken off: serving the response after reading it does not run the work again.
    res[CLOSE_CALLS] = undefined;
    own.served = true;
    void runCloseCalls(own.fns.slice(), environ);
  };
  return true;
}

/**
 * What answered a result, named in the TypeError for one that is no answer (see
 * {@link noAnswer}): a `Request.application` handler, a `defineMiddleware` (`Request.middleware`)
 * handler, a `before` hook (which may also answer nothing), or an `after` hook (a `Response`
 * or nothing).
 */
export type AnswerSource = 'handler' | 'middleware' | 'before' | 'after';

/** The handler behind an app made by {@link handlerApp}, kept on the app under {@link HANDLER}. */
interface HandlerInfo {
  RequestClass: RequestClass<EnvironView>;
  handler: (req: EnvironView) => HandlerResult | PromiseLike<HandlerResult>;
  source: AnswerSource;
}

/** Where a {@link handlerApp} keeps its {@link HandlerInfo}. */
const HANDLER: unique symbol = Symbol('tsgi.handler');

/** Where {@link requestFor} keeps the request the layers over an environ share. */
const SHARED_REQUEST: unique symbol = Symbol('tsgi.request');

/**
 * Takes back the request {@link requestFor} kept on `environ` when `saved`, the same environ
 * as it was before an app ran, had none: `cascade` putting the environ back for its next app,
 * which must not get the skipped app's request nor what its layers set on it. (`saved`'s own
 * request, when it had one, is put back with the rest of `saved`.)
 */
export function forgetSharedRequest(environ: Environ, saved: Environ): void {
  // Set, not deleted: a `delete` would turn the environ into a slow dictionary object.
  if (!Object.hasOwn(saved, SHARED_REQUEST) && Object.hasOwn(environ, SHARED_REQUEST)) {
    (environ as { [SHARED_REQUEST]?: EnvironView })[SHARED_REQUEST] = undefined;
  }
}

/**
 * The request of class `RequestClass` the layers over `environ` shared ({@link requestFor}),
 * with what they set on it (`req.user`), for a hook outside them (`errors`' `onError`): the
 * one kept, else the one of that class a layer of another class below replaced
 * (`errors(login(MyRequest.application(…)))` gets the `Request` `login` set `req.user` on); a
 * new one, not kept, when they made none of that class.
 */
export function sharedRequestOf<R extends EnvironView>(RequestClass: RequestClass<R>, environ: Environ): R {
  return keptRequest(RequestClass, environ, true) ?? new RequestClass(environ);
}

/**
 * The request of another class each kept request replaced on its environ (made by a layer
 * above it), for {@link sharedRequestOf}. Only a request made where one of another class was
 * kept is a key: layers of one class add nothing.
 */
const replaced = new WeakMap<EnvironView, EnvironView>();

/**
 * The request a `Request.application` or `defineMiddleware` layer hands its handler for
 * `environ`: the one an outer layer of the same class made over the same environ, else a new
 * one, kept on the environ for the layers below. So a property a layer sets on `req`
 * (`req.user = user`, Express's and Fastify's habit) is there for the handler below, as WebOb
 * keeps a request's ad-hoc attributes in its environ (`webob.adhoc_attrs`). Only the same
 * class: a subclass's overrides (a `pathInfo` of its own) must not reach a layer written for
 * `Request`. A copy of the environ (`{ ...environ }`) gets a request of its own.
 */
function requestFor<R extends EnvironView>(RequestClass: RequestClass<R>, environ: Environ): R {
  const kept = keptRequest(RequestClass, environ);
  if (kept !== undefined) return kept;
  const req = new RequestClass(environ);
  const previous = (environ as { [SHARED_REQUEST]?: EnvironView })[SHARED_REQUEST];
  // One of another class made above stays findable for the hooks outside (`sharedRequestOf`).
  if (previous !== undefined && previous.environ === environ) replaced.set(req, previous);
  (environ as { [SHARED_REQUEST]?: EnvironView })[SHARED_REQUEST] = req;
  return req;
}

/**
 * The request of exactly `RequestClass` kept on `environ` itself (not on the environ it was
 * copied from), if any; with `replacedToo`, else the latest of that class one of another class
 * replaced there (see {@link replaced}).
 */
function keptRequest<R extends EnvironView>(RequestClass: RequestClass<R>, environ: Environ, replacedToo = false): R | undefined {
  let shared = (environ as { [SHARED_REQUEST]?: EnvironView })[SHARED_REQUEST];
  while (shared !== undefined && shared.environ === environ) {
    if (shared.constructor === RequestClass) return shared as R;
    shared = replacedToo ? replaced.get(shared) : undefined;
  }
  return undefined;
}

/**
 * The answer of `app` on `environ` as a `Response`. An app made by `Request.application` or
 * `Request.middleware` is asked for its handler's result directly: a `Response` it answers is
 * copied, not serialised into `startResponse` and an iterable and parsed back, so a stack of
 * such layers builds one response that only the outermost serialises (see {@link handedUp}
 * for the answers that are served and read back as before). Any other app is called through
 * the gateway interface (`callApplication`).
 *
 * With `keep` (`getResponse` inside a `Request.application`), a streamed answer is kept to be
 * closed at the request's end if nobody takes it (see inner-responses.ts).
 *
 * @throws (rejects with) what the app or handler throws, an `HTTPException` excepted (it is the
 *   answer), and TypeError for a handler result that is no answer.
 */
export function responseOf(environ: Environ, app: App, keep: boolean): Response | Promise<Response> {
  const info = (app as App & { [HANDLER]?: HandlerInfo })[HANDLER];
  if (info === undefined) return callApplication(environ, app, keep);
  const req = requestFor(info.RequestClass, environ);
  let result: HandlerResult | PromiseLike<HandlerResult>;
  try {
    result = info.handler(req);
  } catch (error) {
    return answerError(environ, req, error, keep);
  }
  if (isThenable(result)) {
    return Promise.resolve(result).then(
      (value) => answerOf(environ, req, value, keep, info.source),
      (error: unknown) => answerError(environ, req, error, keep),
    );
  }
  return answerOf(environ, req, result, keep, info.source);
}

/**
 * A handler's result as a `Response` (see {@link responseOf}); a 5xx `HTTPException` with a
 * `cause` is logged as a thrown one is (`logFailureAnswered`).
 * @param source what answered `result`, named in the TypeError for a result that is no answer.
 */
export function answerOf(
  environ: Environ,
  req: EnvironView,
  result: HandlerResult,
  keep: boolean,
  source: AnswerSource = 'handler',
): Response | Promise<Response> {
  if (result instanceof Response) return handedUp(environ, result, true, keep);
  if (typeof result === 'string') return handedUp(environ, new Response(result), false, keep);
  if (result instanceof HTTPException) {
    logFailureAnswered(environ, result);
    return handedUp(environ, result.getResponse(req), false, keep);
  }
  if (typeof result === 'function') return responseOf(environ, result, keep);
  if (result && typeof result === 'object' && typeof result.respond === 'function') {
    // Also another copy of tsgi's Response or HTTPException: served through its own `respond`.
    if (isHTTPException(result)) logFailureAnswered(environ, result);
    return callApplication(environ, toApp(result), keep);
  }
  throw noAnswer(result, source);
}

/**
 * A thrown `HTTPException` is the answer (logged when a failure is behind it, see `answerOf`),
 * as is the 4xx of a failed body read that a thrown error wraps (`bodyFailureBehind`: a sink's
 * `TypeError: fetch failed` whose `cause` is the part's 413); anything else propagates.
 */
export function answerError(environ: Environ, req: EnvironView, error: unknown, keep: boolean): Response | Promise<Response> {
  const exception = answeringException(environ, error);
  if (exception === null) throw error;
  return answerOf(environ, req, exception, keep);
}

/**
 * A handler's `Response` as the layer above sees it: as it is (a copy when the handler may
 * keep it: `shared`) when serving it would not change it, else served and read back, as any
 * app's answer: a HEAD request (the body dropped), a conditional response (304, 206… decided
 * now), a status that carries no content (1xx, 204, 304, 205: its body and `Content-Type`
 * dropped). The copy takes the
 * stream (`res` counts as sent); with `keep`, a streamed answer is kept (see {@link responseOf}).
 */
function handedUp(environ: Environ, res: Response, shared: boolean, keep: boolean): Response | Promise<Response> {
  if (environ.REQUEST_METHOD === 'HEAD' || res.conditionalResponse || hasNoContent(res.statusCode)) {
    // Served now and read back: its `callOnClose` work goes with what is read back, to run
    // once that is sent, not as it is read here.
    const calls = res[CLOSE_CALLS];
    if (calls === undefined) return callApplication(environ, (e, start) => res.respond(e, start), keep);
    return callApplication(environ, (e, start) => serveWithoutCalls(res, e, start)).then((up) => {
      up[CLOSE_CALLS] = { fns: calls.fns.slice(), served: false };
      calls.served = true;
      return keep ? keepInnerResponse(environ, up) : up;
    });
  }
  const up = shared ? res[COPY]() : res;
  if (!keep) return up;
  closeOnlyEarly(up);
  return keepInnerResponse(environ, up);
}

/** How each {@link AnswerSource} is named in the TypeError of {@link noAnswer}. */
const SOURCE_NAMES: Record<AnswerSource, string> = {
  handler: 'Request.application handler',
  middleware: 'defineMiddleware handler',
  before: 'defineMiddleware before hook',
  after: 'defineMiddleware after hook',
};

/** What each {@link AnswerSource} may answer, in the TypeError of {@link noAnswer}. */
const EXPECTED: Record<AnswerSource, string> = {
  handler: 'a Response, HTTPException, string or app',
  middleware: 'a Response, HTTPException, string or app',
  before: 'nothing, or a Response, HTTPException, string or app',
  after: 'a Response or nothing',
};

/**
 * The error for a result that `source` may not answer (none of {@link HandlerResult}; for an
 * `after` hook, anything but a `Response` or nothing), with the likely mistake behind it and
 * what to write instead. Only built on that error path.
 */
export function noAnswer(result: unknown, source: AnswerSource): TypeError {
  const fetchResponse = typeof globalThis.Response === 'function' && result instanceof globalThis.Response;
  const kind = fetchResponse
    ? 'a fetch Response'
    : isHTTPException(result)
      ? 'an HTTPException'
      : result instanceof Uint8Array
        ? `a ${describe(result)}`
        : result === null
          ? 'null'
          : typeof result;
  return new TypeError(`${SOURCE_NAMES[source]} returned ${kind}: expected ${EXPECTED[source]}${noAnswerHint(kind, source)}`);
}

/** The likely mistake behind a result of `kind` that is no answer (see {@link noAnswer}). */
function noAnswerHint(kind: string, source: AnswerSource): string {
  // Hono's `c.text()`, `fetch()`'s answer: the web's Response, not tsgi's.
  if (kind === 'a fetch Response') return " (tsgi's Response is another class: return Response.fromFetch(response) to convert it)";
  // An `after` hook answers an HTTPException by throwing it (a handler may return one).
  if (kind === 'an HTTPException') return ' (throw it to answer it)';
  // Express's `res.send(buffer)`: bytes are a body, not JSON.
  if (kind.startsWith('a ')) return ' (for bytes, return new Response(bytes))';
  // A plain object or a number: most likely data meant as JSON (Flask's dict, Express's res.json).
  if (kind === 'object' || kind === 'number' || kind === 'boolean') return ' (for JSON, return Response.json(value))';
  if (kind !== 'undefined' || source === 'before') return '';
  if (source === 'middleware') return ' (a missing return? A middleware answers `return res` after `const res = await req.getResponse(app)`)';
  return ' (a missing return?)';
}

/**
 * The gateway app of `Request.application(handler)` (see there): builds a `RequestClass` on
 * each environ and answers what `handler` returns.
 */
export function handlerApp<R extends EnvironView>(
  RequestClass: RequestClass<R>,
  handler: (req: R) => HandlerResult | PromiseLike<HandlerResult>,
  source: AnswerSource = 'handler',
): App {
  const app: App & { [HANDLER]?: HandlerInfo } = (environ, startResponse) => {
    const req = requestFor(RequestClass, environ);
    const owner = claimCleanup(environ);
    let result: HandlerResult | PromiseLike<HandlerResult>;
    try {
      result = handler(req);
    } catch (error) {
      return serveError(error, req, owner, startResponse, source);
    }
    if (isThenable(result)) return serveSettled(result, req, owner, startResponse, source);
    return serve(result, req, owner, startResponse, source);
  };
  app[HANDLER] = { RequestClass, handler, source } as unknown as HandlerInfo;
  return app;
}

/**
 * The middleware of `Request.middleware(fn)` (see there): `(app, options?) =>` the
 * {@link handlerApp} of `RequestClass` calling `fn(req, app, options)`.
 */
export function handlerMiddleware<R extends EnvironView, Options extends object>(
  RequestClass: RequestClass<R>,
  fn: (req: R, app: App, options: Options) => HandlerResult | PromiseLike<HandlerResult>,
): Middleware<Options> {
  return ((app: AppLike, options?: Options): App => {
    const inner = toApp(app);
    const opts = (options ?? {}) as Options;
    return handlerApp(RequestClass, (req) => fn(req, inner, opts), 'middleware');
  }) as Middleware<Options>;
}

// The steps of `handlerApp`, written as plain functions so the synchronous path allocates no
// closures. `owner` is true when this app has charge of the request's cleanup (see cleanup.ts).
// The callbacks of a promise are made in functions of their own ({@link serveSettled},
// {@link endSettled}): V8 allocates the context of a function whose variables a closure
// captures as the function starts, whether or not that closure is made.

/** Answers with what the handler's promise settles with. */
function serveSettled(
  result: PromiseLike<HandlerResult>,
  req: EnvironView,
  owner: boolean,
  startResponse: StartResponse,
  source: AnswerSource,
): Promise<Body> {
  return Promise.resolve(result).then(
    (value) => serve(value, req, owner, startResponse, source),
    (error: unknown) => serveError(error, req, owner, startResponse, source),
  );
}

/** The owner's end of the request once the body promised settles (see {@link serve}). */
function endSettled(body: PromiseLike<Body>, environ: Environ, owner: boolean): Promise<Body> {
  return Promise.resolve(body).then(
    (value) => endWithBody(value, environ),
    (error: unknown) => fail(error, environ, owner),
  );
}

/** Answers with what the handler returned (`source` names it if that is no answer). */
function serve(result: HandlerResult, req: EnvironView, owner: boolean, startResponse: StartResponse, source: AnswerSource): Body | Promise<Body> {
  try {
    const body = respondWith(result, req, startResponse, source);
    if (!owner) return body;
    const environ = req.environ;
    if (isThenable(body)) return endSettled(body, environ, owner);
    return endWithBody(body, environ);
  } catch (error) {
    return fail(error, req.environ, owner);
  }
}

/**
 * A thrown `HTTPException` is the answer (logged when a failure is behind it), as is the body
 * failure a thrown error wraps (see {@link answerError}); anything else propagates.
 */
function serveError(error: unknown, req: EnvironView, owner: boolean, startResponse: StartResponse, source: AnswerSource): Body | Promise<Body> {
  const exception = answeringException(req.environ, error);
  return exception !== null ? serve(exception, req, owner, startResponse, source) : fail(error, req.environ, owner);
}

/**
 * Propagates `error`, after the owner has finished the request (closed the inner responses
 * nobody sent, removed the uploads the handler parsed).
 */
function fail(error: unknown, environ: Environ, owner: boolean): Promise<never> {
  if (owner && hasRequestEnd(environ)) return finishRequest(environ).then(() => Promise.reject(error));
  if (owner) releaseCleanup(environ);
  throw error;
}

function respondWith(result: HandlerResult, req: EnvironView, startResponse: StartResponse, source: AnswerSource): Body | Promise<Body> {
  if (result instanceof Response) return result.respond(req.environ, startResponse);
  if (typeof result === 'string') return new Response(result).respond(req.environ, startResponse);
  if (isHTTPException(result)) {
    logFailureAnswered(req.environ, result);
    return result.getResponse(req).respond(req.environ, startResponse);
  }
  if (typeof result === 'function') return result(req.environ, startResponse);
  if (result && typeof result === 'object' && typeof result.respond === 'function') {
    return result.respond(req.environ, startResponse);
  }
  throw noAnswer(result, source);
}
