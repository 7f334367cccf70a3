/**
 * Writing middleware in a few lines: {@link defineMiddleware}
 * (WebOb's `wsgify.middleware`), which is `Request.middleware` on the base class.
 *
 * @module
 */
import type { Middleware } from '../gateway/types.ts';
import { Request, type MiddlewareHandler } from './request.ts';

export type { MiddlewareHandler } from './request.ts';

/**
 * Turns `fn(req, app, options)` into a {@link Middleware} `(app, options?) => App` (WebOb's
 * `wsgify.middleware`): exactly `Request.middleware(fn)`, `fn` getting a plain `Request`
 * (call `MyRequest.middleware(fn)` for a subclass). Everything `Request.application` does
 * applies: a thrown `HTTPException` becomes its response, other errors propagate to the
 * server or to the `errors` middleware.
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
  return Request.middleware(fn);
}
