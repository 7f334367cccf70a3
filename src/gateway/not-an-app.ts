/**
 * What a value given as an app is, when it is none: for the `TypeError` of `toApp` and of the
 * places that take apps (`mount`, `tsgi serve`), so a wrong import (`undefined`) or a
 * `RouteMap` given for its app is named where the app is built.
 *
 * @module
 */

/** True for what looks like a `RouteMap` of tsgi/routing (its `app`, `bind` and `lookup`), given instead of its app. */
export function isRouteMapLike(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const map = value as Record<string, unknown>;
  return typeof map.app === 'function' && typeof map.bind === 'function' && typeof map.lookup === 'function';
}

/**
 * What `value`, which is no app, is: `undefined`, `null`, `an array`, `a RouteMap: give its
 * app, routes.app(handlers)`, an environ (a middleware called as an app, `serve(errors)`),
 * `an object without respond()`, or `a <type>`.
 */
export function notAnAppKind(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (isRouteMapLike(value)) return 'a RouteMap: give its app, routes.app(handlers)';
  // A middleware `(app, options?) => App` served itself gets the environ where its app goes.
  if (typeof (value as { REQUEST_METHOD?: unknown }).REQUEST_METHOD === 'string') {
    return 'an environ: a middleware served as an app? Give it the app it wraps, serve(middleware(app))';
  }
  if (typeof value === 'object') return 'an object without respond()';
  return `a ${typeof value}`;
}
