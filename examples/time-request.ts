/**
 * The time server with the `Request` and `Response` wrappers.
 *
 * TypeScript rendering of the third WSGI listing of chapter 10 of *Foundations of Python
 * Network Programming* (`timeapp_webob.py`). The app is still a raw {@link App}, but it wraps
 * the environ in a {@link Request} to read it and builds a {@link Response}, which it then
 * serves with `response.respond(environ, startResponse)` (WebOb's
 * `response(environ, start_response)`):
 *
 * - `req.method` other than `GET` → `501 Not Implemented`;
 * - `req.hostname` (the Host header without its port, or `SERVER_NAME` when there is no Host)
 *   other than `127.0.0.1`, or `req.pathInfo` other than `/` → `404 Not Found`;
 * - otherwise `200 OK` with the local time (`Date.prototype.toString()`), `text/plain`.
 *
 * It tests `req.pathInfo` rather than `req.path` (which the listing uses) so that it also
 * works when mounted, as in examples/demo.ts: `req.path` includes the mount point.
 *
 * ```sh
 * node --conditions=tsgi-source src/cli/main.ts serve examples/time-request.ts:app
 * curl http://127.0.0.1:8000/
 * ```
 *
 * @module
 */
import { type App, Request, Response } from 'tsgi';

/** The time app on `Request`/`Response`: 501 for non-GET, 404 unless `127.0.0.1` and `/`. */
export const app: App = (environ, startResponse) => {
  const req = new Request(environ);
  let res: Response;
  if (req.method !== 'GET') {
    res = new Response('501 Not Implemented', { status: 501 });
  } else if (req.hostname !== '127.0.0.1' || req.pathInfo !== '/') {
    res = new Response('404 Not Found', { status: 404 });
  } else {
    res = new Response(new Date().toString());
  }
  return res.respond(environ, startResponse);
};
