/**
 * Writing middleware in a few lines: {@link defineMiddleware}
 * (WebOb's `wsgify.middleware`).
 *
 * @module
 */
import { type App, type AppLike, type Middleware, toApp } from '../gateway/types.ts';
import { type HandlerResult, Request } from './request.ts';

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
 * The former name of the {@link Middleware} type that {@link defineMiddleware} answers.
 *
 * @deprecated Use `Middleware<Options>`. Kept only while `Request.middleware` in
 *   `src/request/request.ts` (under rewrite elsewhere) still names it; removed once that
 *   lands. Not exported from the package.
 */
export type DefinedMiddleware<Options extends object> = Middleware<Options>;

/**
 * Turns `fn(req, app, options)` into a {@link Middleware} `(app, options?) => App` (WebOb's
 * `wsgify.middleware`, exposed as `Request.middleware`). The options argument is required
 * only when `Options` has required keys; when left out, `fn` gets `{}`. Everything `Request.application`
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
export function defineMiddleware<Options extends object = {}>(fn: MiddlewareHandler<Options>): Middleware<Options> {
  return ((app: AppLike, options?: Options): App => {
    const inner = toApp(app);
    const opts = (options ?? {}) as Options;
    return Request.application((req) => fn(req, inner, opts));
  }) as Middleware<Options>;
}
