/**
 * Middleware written as two hooks, `before(req)` and `after(req, res)` (Flask's
 * `before_request` and `after_request`, Fastify's `onRequest` and `onSend`, Django's
 * `process_request` and `process_response`): the engine of `defineMiddleware({ before, after })`
 * and `Request.middleware({ … })`.
 *
 * A layer written with `await req.getResponse(app)` costs a promise and two turns of the
 * microtask queue whatever it does. Hooks that answer synchronously over apps that do (a
 * stack of them over a `Request.application` handler that returns its `Response`) run the
 * whole stack in one synchronous call; a hook or app that answers a promise makes only the
 * steps after it wait.
 *
 * @module
 */
import { type App, type AppLike, type Environ, type Middleware, toApp } from '../gateway/types.ts';
import { isThenable } from '../gateway/body.ts';
import { Response, isForeignResponse } from '../response/response.ts';
import { type HandlerResult, answerError, answerOf, handlerApp, noAnswer, responseOf } from './application.ts';

/** What the hooks need of a request: its environ. */
interface EnvironView {
  readonly environ: Environ;
}

/**
 * The hooks of one layer, on a request class `R`: `MiddlewareHooks` (request.ts) is this on a
 * `Request`, where it is documented.
 */
export interface LayerHooks<Options, R extends EnvironView> {
  /**
   * Runs before the app: answers `undefined` to call it, or the answer to send instead.
   * @throws an `HTTPException` to answer it (`after` still runs on it).
   */
  before?: ((req: R, options: Options) => HandlerResult | undefined | void | PromiseLike<HandlerResult | undefined | void>) | undefined;
  /**
   * Runs on the response on its way up: changes `res` and answers `undefined`, or answers the
   * `Response` to send instead.
   * @throws an `HTTPException` to answer it instead.
   */
  after?: ((req: R, res: Response, options: Options) => Response | undefined | void | PromiseLike<Response | undefined | void>) | undefined;
}

/** One layer's hooks and options, for the steps below. */
interface Layer {
  readonly inner: App;
  /** The object holding the hooks: their `this`, as for any method call. */
  readonly hooks: object;
  readonly before: ((req: EnvironView, options: object) => unknown) | undefined;
  readonly after: ((req: EnvironView, res: Response, options: object) => unknown) | undefined;
  readonly options: object;
}

/**
 * The middleware of `Request.middleware(hooks)` (see `MiddlewareHooks`): `(app,
 * options?) =>` a `Request.application` app of `RequestClass` running the hooks around `app`,
 * each called on `hooks` (its `this`), as `hooks.before(req, options)` would be.
 *
 * @throws TypeError when `hooks` is not an object, a hook is not a function, or it has a key
 *   other than `before` and `after` (a typo would otherwise be a hook that never runs).
 */
export function hooksMiddleware<R extends EnvironView, Options extends object>(
  RequestClass: new (environ: Environ) => R,
  hooks: LayerHooks<Options, R>,
): Middleware<Options> {
  checkHooks(hooks);
  const before = hooks.before as Layer['before'];
  const after = hooks.after as Layer['after'];
  return ((app: AppLike, options?: Options): App => {
    const layer: Layer = { inner: toApp(app), hooks, before, after, options: options ?? {} };
    return handlerApp(RequestClass, (req) => runLayer(req, layer));
  }) as Middleware<Options>;
}

/** Refuses what is not a {@link MiddlewareHooks}. */
function checkHooks(hooks: unknown): void {
  if (hooks === null || typeof hooks !== 'object') throw new TypeError('defineMiddleware expects a function or an object of hooks');
  for (const [key, value] of Object.entries(hooks)) {
    if (key !== 'before' && key !== 'after') {
      throw new TypeError(`defineMiddleware hooks: unknown key ${JSON.stringify(key)} (expected before, after)`);
    }
    if (value !== undefined && typeof value !== 'function') throw new TypeError(`defineMiddleware hooks: ${key} must be a function`);
  }
}

// The steps are plain functions, so a layer whose hooks and app answer synchronously allocates
// no promise and no closure.

/** `before`, then the app (unless `before` answered), then `after`. */
function runLayer(req: EnvironView, layer: Layer): Response | Promise<Response> {
  if (layer.before === undefined) return down(req, layer);
  let early: unknown;
  try {
    early = layer.before.call(layer.hooks, req, layer.options);
  } catch (error) {
    return up(req, answerError(req.environ, req, error, true), layer);
  }
  if (isThenable(early)) {
    return Promise.resolve(early).then(
      (value) => afterBefore(req, value, layer),
      (error: unknown) => up(req, answerError(req.environ, req, error, true), layer),
    );
  }
  return afterBefore(req, early, layer);
}

/** Goes on down the chain when `before` answered nothing, else answers what it answered. */
function afterBefore(req: EnvironView, early: unknown, layer: Layer): Response | Promise<Response> {
  if (early === undefined) return down(req, layer);
  return up(req, answerOf(req.environ, req, early as HandlerResult, true, 'before'), layer);
}

/** The app's answer, an `HTTPException` it throws included, through `after`. */
function down(req: EnvironView, layer: Layer): Response | Promise<Response> {
  let res: Response | Promise<Response>;
  try {
    res = responseOf(req.environ, layer.inner, true);
  } catch (error) {
    res = answerError(req.environ, req, error, true);
  }
  if (layer.after === undefined) return res;
  if (isThenable(res)) {
    return res.then(
      (value) => runAfter(req, value, layer),
      (error: unknown) => up(req, answerError(req.environ, req, error, true), layer),
    );
  }
  return runAfter(req, res, layer);
}

/** `after` on an answer that may still be coming. */
function up(req: EnvironView, res: Response | Promise<Response>, layer: Layer): Response | Promise<Response> {
  if (layer.after === undefined) return res;
  return isThenable(res) ? res.then((value) => runAfter(req, value, layer)) : runAfter(req, res, layer);
}

/** Runs `after` on `res`: its replacement, or `res`; its `HTTPException` is the answer. */
function runAfter(req: EnvironView, res: Response, layer: Layer): Response | Promise<Response> {
  let out: unknown;
  try {
    out = (layer.after as NonNullable<Layer['after']>).call(layer.hooks, req, res, layer.options);
  } catch (error) {
    return answerError(req.environ, req, error, true);
  }
  if (isThenable(out)) {
    return Promise.resolve(out).then(
      (value) => replacement(value, res, req.environ),
      (error: unknown) => answerError(req.environ, req, error, true),
    );
  }
  return replacement(out, res, req.environ);
}

/**
 * What `after` answered: nothing keeps `res`, a `Response` replaces it (one of another copy of
 * tsgi is served and read back as this copy's).
 * @throws TypeError for anything else, naming it and the likely fix as a handler's is named
 *   (`noAnswer`): a fetch `Response` (`Response.fromFetch`), an `HTTPException` (thrown, not
 *   returned, from `after`).
 */
function replacement(out: unknown, res: Response, environ: Environ): Response | Promise<Response> {
  if (out === undefined) return res;
  if (out instanceof Response) return out;
  if (isForeignResponse(out)) return responseOf(environ, toApp(out as AppLike), true);
  throw noAnswer(out, 'after');
}
