/**
 * Writing middleware in a few lines ({@link defineMiddleware}, WebOb's `wsgify.middleware`)
 * and stacking several ({@link compose}).
 *
 * @module
 */
import { type App, type AppLike, toApp } from '../gateway.ts';
import { type HandlerResult, Request } from '../request.ts';

/**
 * The function behind a middleware made with {@link defineMiddleware}: it gets the request,
 * the wrapped app and the options, and answers like a `Request.application` handler (a
 * `Response`, an `HTTPException` thrown or returned, a string, or another app). It calls
 * `await req.getResponse(app)` to go down the chain, and may change the request before and
 * the response after.
 */
export type MiddlewareHandler<Options> = (
  req: Request,
  app: App,
  options: Options,
) => HandlerResult | Promise<HandlerResult>;

/**
 * A middleware built by {@link defineMiddleware}: `(app, options?) => App`. The options
 * argument is required only when `Options` has required keys; when left out, the handler
 * gets `{}`.
 */
export type DefinedMiddleware<Options> = (
  app: AppLike,
  ...options: {} extends Options ? [options?: Options] : [options: Options]
) => App;

/**
 * Turns `fn(req, app, options)` into a middleware `(app, options?) => App` (WebOb's
 * `wsgify.middleware`, exposed as `Request.middleware`). Everything `Request.application`
 * does applies: a thrown `HTTPException` becomes its response, other errors propagate to
 * the server or to the `errors` middleware.
 *
 * @example
 * ```ts
 * // Adds a header to every response, and refuses requests without a token.
 * const stamp = defineMiddleware<{ name: string }>(async (req, app, { name }) => {
 *   if (!req.headers.get('x-token')) throw new HTTPForbidden('No token.');
 *   const res = await req.getResponse(app);
 *   res.headers.set('X-Served-By', name);
 *   return res;
 * });
 * const wrapped = stamp(app, { name: 'tsgi' });
 * ```
 */
export function defineMiddleware<Options extends object = {}>(fn: MiddlewareHandler<Options>): DefinedMiddleware<Options> {
  return ((app: AppLike, options?: Options): App => {
    const inner = toApp(app);
    const opts = (options ?? {}) as Options;
    return Request.application((req) => fn(req, inner, opts));
  }) as DefinedMiddleware<Options>;
}

/** One layer for {@link compose}: wraps an app (bind options with an arrow function). */
export type AppWrapper = (app: App) => App;

/**
 * Stacks middleware in reading order: `compose(a, b, c)(app)` is `a(b(c(app)))`, so the first
 * is the outermost layer (it sees the request first and the response last). With no layers
 * it answers the app itself.
 *
 * @example
 * ```ts
 * const stack = compose(
 *   (app) => accessLog(app, { format: 'combined' }),
 *   (app) => errors(app, { debug: process.env.NODE_ENV === 'development' }),
 *   lint,
 * );
 * export const app = stack(mount({ '/': home, '/blog': blog }));
 * ```
 * @throws TypeError when a layer is not a function or does not answer a function.
 */
export function compose(...layers: AppWrapper[]): (app: AppLike) => App {
  for (const layer of layers) {
    if (typeof layer !== 'function') throw new TypeError('compose() takes middleware functions (app) => App');
  }
  return (app) => {
    let wrapped = toApp(app);
    for (let i = layers.length - 1; i >= 0; i--) {
      wrapped = layers[i]!(wrapped);
      if (typeof wrapped !== 'function') throw new TypeError(`middleware #${i + 1} of compose() did not return an app`);
    }
    return wrapped;
  };
}
