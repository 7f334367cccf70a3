/**
 * What a value given as an app is, when it is none: for the `TypeError` of `toApp` and of the
 * places that take apps (`mount`, `tsgi serve`), so a wrong import (`undefined`), a
 * `RouteMap` given for its app, or a middleware marked by {@link markNotAnApp} (`serve(rewriteHtml)`)
 * is named where the app is built.
 *
 * @module
 */

/** Where {@link markNotAnApp} keeps what a middleware is and how to use it. */
const NOT_AN_APP: unique symbol = Symbol('tsgi.notAnApp');

/**
 * Marks `middleware`, a function taking the app it wraps, as no app: given where an app goes
 * (`serve(rewriteHtml)`, `mount({ '/x': replaceText })`), `toApp` and `mount` refuse it when
 * built, with `what` in the message (`'rewriteHtml, a response filter, not an app: give it the
 * app …, rewriteHtml(app, { … })'`), rather than calling it with an environ at each request.
 * A non-enumerable property of the function; `middleware` is returned.
 */
export function markNotAnApp<F extends (...args: never[]) => unknown>(middleware: F, what: string): F {
  Object.defineProperty(middleware, NOT_AN_APP, { value: what });
  return middleware;
}

/** What a function marked by {@link markNotAnApp} is, as the mark says; `undefined` for any other function (an app). */
export function notAnAppMark(fn: object): string | undefined {
  return (fn as { [NOT_AN_APP]?: string })[NOT_AN_APP];
}

/** True for what looks like a `RouteMap` of tsgi/routing (its `app`, `bind` and `lookup`), given instead of its app. */
export function isRouteMapLike(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const map = value as Record<string, unknown>;
  return typeof map.app === 'function' && typeof map.bind === 'function' && typeof map.lookup === 'function';
}

/**
 * What `value`, which is no app, is: `undefined`, `null`, `an array`, `a RouteMap: give its
 * app, routes.app(handlers)`, a marked middleware's words (see {@link markNotAnApp}), an environ (a middleware called as an app, `serve(errors)`),
 * `an object without respond()`, or `a <type>`.
 */
export function notAnAppKind(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function') return notAnAppMark(value) ?? 'a function';
  if (Array.isArray(value)) return 'an array';
  if (isRouteMapLike(value)) return 'a RouteMap: give its app, routes.app(handlers)';
  // A middleware `(app, options?) => App` served itself gets the environ where its app goes.
  if (typeof (value as { REQUEST_METHOD?: unknown }).REQUEST_METHOD === 'string') {
    return 'an environ: a middleware served as an app? Give it the app it wraps, serve(middleware(app))';
  }
  if (typeof value === 'object') return 'an object without respond()';
  return `a ${typeof value}`;
}
