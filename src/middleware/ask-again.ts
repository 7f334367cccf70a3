/**
 * Asking an app a second time for the same request with some of its fields left out, for a
 * layer that must see the answer to a plainer request: the whole of a part (`bodyFilter`), the
 * 200 a 304 stands for (`compress`).
 *
 * @module
 */
import { type Environ } from '../gateway/types.ts';

/** `SCRIPT_NAME` and `PATH_INFO`: where a request is routed to. */
export type Route = readonly [scriptName: string, pathInfo: string];

/** Where `environ` is routed to now; taken before the first call (a `mount` below moves its prefix). */
export function routeOf(environ: Environ): Route {
  return [environ.SCRIPT_NAME, environ.PATH_INFO];
}

/**
 * Runs `ask` (a second call of the app) on `environ` itself, routed from `route` (where the
 * first call started), with the keys `without` (`HTTP_*` request fields) removed, and puts
 * back those that were present once `ask` settles (a layer should call the app until its
 * status is known: `callApp`).
 *
 * Not on a copy (docs/spec.md §8): what the call leaves for the request's end (a form it
 * parsed under `tsgi.form`, the streams `getResponse` handed it under `tsgi.inner_responses`,
 * see request/cleanup.ts) must reach the layer that ends the request, or its temporary files
 * would stay on disk and its streams open.
 *
 * @throws (rejects with) what `ask` rejects with, the fields put back first.
 */
export async function askWithout<T>(environ: Environ, route: Route, without: readonly string[], ask: () => Promise<T>): Promise<T> {
  [environ.SCRIPT_NAME, environ.PATH_INFO] = route;
  const kept = without.map((key) => environ[key]);
  // `delete`, not `undefined` (an `HTTP_*` key holds a string when present); only on rare paths.
  for (const key of without) delete environ[key];
  try {
    return await ask();
  } finally {
    without.forEach((key, i) => {
      if (kept[i] !== undefined) environ[key] = kept[i];
    });
  }
}
