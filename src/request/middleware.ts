/**
 * Writing middleware in a few lines: {@link defineMiddleware}
 * (WebOb's `wsgify.middleware`), which is `Request.middleware` on the base class.
 *
 * @module
 */
import type { Middleware } from '../gateway/types.ts';
import { Request, type MiddlewareHandler, type MiddlewareHooks } from './request.ts';
import { hooksMiddleware } from './hooks.ts';
import { handlerMiddleware } from './application.ts';

export type { MiddlewareHandler } from './request.ts';
export type { MiddlewareHooks } from './request.ts';

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
export function defineMiddleware<Options extends object = {}>(fn: MiddlewareHandler<Options>): Middleware<Options>;
/**
 * Turns two hooks into a {@link Middleware} (Flask's `before_request` and `after_request`,
 * Fastify's `onRequest` and `onSend`): exactly `Request.middleware(hooks)`, see
 * {@link MiddlewareHooks}. `before(req, options)` answers nothing to go on down the chain, or
 * the answer to send instead; `after(req, res, options)` changes the response on its way up
 * (or answers another). Hooks that answer synchronously cost no promise: a stack of them over
 * a synchronous handler runs in one call, where each `await req.getResponse(app)` layer costs a
 * promise and two microtask turns.
 *
 * @example
 * ```ts
 * const stamp = defineMiddleware<{ name: string }>({
 *   before(req) {
 *     if (!req.headers.get('x-token')) throw new HTTPForbidden('No token.');
 *   },
 *   after(req, res, { name }) {
 *     res.headers.set('X-Served-By', name);
 *   },
 * });
 * const wrapped = stamp(app, { name: 'tsgi' });
 * ```
 * @throws TypeError when `hooks` has a key other than `before` and `after`, or a hook is not
 *   a function.
 */
export function defineMiddleware<Options extends object = {}>(hooks: MiddlewareHooks<Options, Request>): Middleware<Options>;
/**
 * Either form, for a value that may be a handler or hooks. Also the signature strict TypeScript
 * reports a mistake against (it names the last overload's error): a handler that forgets to
 * return is told `Type 'void' is not assignable to type 'HandlerResult'`, not that it `has no
 * properties in common with type 'MiddlewareHooks'`.
 */
export function defineMiddleware<Options extends object = {}>(fn: MiddlewareHandler<Options> | MiddlewareHooks<Options, Request>): Middleware<Options>;
export function defineMiddleware<Options extends object = {}>(
  fn: MiddlewareHandler<Options> | MiddlewareHooks<Options, Request>,
): Middleware<Options> {
  return typeof fn === 'function' ? handlerMiddleware(Request, fn) : hooksMiddleware(Request, fn);
}
