/**
 * The time server with `Request.application`: a handler from request to response.
 *
 * TypeScript rendering of the fourth WSGI listing of chapter 10 of *Foundations of Python
 * Network Programming* (`timeapp_werkz.py`, Werkzeug's `@Request.application`).
 * `Request.application(handler)` turns `(req) => Response` into a gateway app; the handler
 * may also throw or return an HTTP exception, which becomes its own response (plain text,
 * HTML or JSON by the request's `Accept`):
 *
 * - `req.method` other than `GET` → `throw new HTTPNotImplemented()` (501);
 * - `req.hostname` other than `127.0.0.1`, or `req.pathInfo` other than `/` →
 *   `return new HTTPNotFound()` (404);
 * - otherwise a `Response` with the local time (`Date.prototype.toString()`), `text/plain`.
 *
 * Like examples/time-request.ts it tests `pathInfo`, not the full path, so it works mounted.
 *
 * ```sh
 * node --conditions=tsgi-source src/cli/main.ts serve examples/time-application.ts:app
 * curl http://127.0.0.1:8000/
 * ```
 *
 * @module
 */
import { HTTPNotFound, HTTPNotImplemented, Request, Response } from 'tsgi';

/** The time app as a `Request.application` handler: 501 for non-GET, 404 unless `127.0.0.1` and `/`. */
export const app = Request.application((req) => {
  if (req.method !== 'GET') throw new HTTPNotImplemented();
  if (req.hostname !== '127.0.0.1' || req.pathInfo !== '/') return new HTTPNotFound();
  return new Response(new Date().toString());
});
