/**
 * Asking an app again for the whole of what it answered with a part: the request a middleware
 * that changes bodies (`compress`, the response filters of `tsgi/proxy`) makes when a 206 or a
 * 416 cannot be sent as it is. A 200 is a valid answer to a range request (RFC 9110 §14.2).
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';

/** `SCRIPT_NAME` and `PATH_INFO`: where a request is routed to. */
export type Route = readonly [scriptName: string, pathInfo: string];

/**
 * Where `environ` is routed to now: read it before the app runs, since a `mount` below moves
 * its prefix into `SCRIPT_NAME` while it calls its own app.
 */
export function routeOf(environ: Environ): Route {
  return [environ.SCRIPT_NAME, environ.PATH_INFO];
}

/**
 * Runs `call` on `environ` itself, routed from `route` (where the first call started), with
 * `HTTP_RANGE` and `HTTP_IF_RANGE` removed; both are put back once `call` settles (a field
 * absent before stays absent), so `call` should settle once the app's status is known.
 *
 * Not on a copy (docs/spec.md §8): what the call leaves for the request's end (a form it
 * parsed under `tsgi.form`, the streams `getResponse` handed it under `tsgi.inner_responses`,
 * see request/cleanup.ts) must reach the layer that ends the request, or its temporary files
 * would stay on disk and its streams open. The caller closes the answer it replaces first.
 *
 * @param call - the second call of the app, e.g. `() => callApp(app, environ)`.
 * @returns what `call` answers; rejects as it does.
 */
export function withoutRange<T>(environ: Environ, route: Route, call: () => Promise<T>): Promise<T> {
  return withoutFields(environ, route, RANGE_FIELDS, call);
}

/** The fields {@link withoutRange} removes. */
const RANGE_FIELDS = ['HTTP_RANGE', 'HTTP_IF_RANGE'] as const;

/**
 * As {@link withoutRange}, with the environ keys `keys` removed (the preconditions too, for
 * `etag`, whose app judged the request without the tag `etag` adds); each is put back once
 * `call` settles, a key absent before staying absent.
 */
export async function withoutFields<T>(environ: Environ, route: Route, keys: readonly string[], call: () => Promise<T>): Promise<T> {
  [environ.SCRIPT_NAME, environ.PATH_INFO] = route;
  const saved = keys.map((key) => environ[key] as unknown);
  // `delete`, not `undefined` (an `HTTP_*` key holds a string when present); only on this rare path.
  for (const key of keys) delete environ[key];
  try {
    return await call();
  } finally {
    keys.forEach((key, i) => {
      if (saved[i] !== undefined) environ[key] = saved[i];
    });
  }
}
