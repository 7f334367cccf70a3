/**
 * The demo: the four chapter-10 apps under one server, behind a prefix dispatcher.
 *
 * | Path              | App                            |
 * | ----------------- | ------------------------------ |
 * | `/`               | an HTML index linking the rest |
 * | `/env/`           | examples/environ.ts            |
 * | `/time/raw/`      | examples/time-raw.ts           |
 * | `/time/request/`  | examples/time-request.ts       |
 * | `/time/app/`      | examples/time-application.ts   |
 *
 * The dispatcher ({@link dispatch}) is written here, in a few lines, to show what mounting
 * means in TSGI: for a request under a prefix it moves the prefix from the front of
 * `PATH_INFO` to the end of `SCRIPT_NAME` and calls the mounted app, so
 * `GET /time/app/` reaches the time app with `SCRIPT_NAME` `/time/app` and `PATH_INFO` `/`.
 * Prefixes match whole path segments only (`/env` matches `/env` and `/env/x`, never
 * `/envelope`); the longest prefix wins; a path no prefix matches goes to the index app,
 * which answers 404 for anything but `/`.
 *
 * A path equal to a prefix, such as `/time/app` without the trailing slash, would give the
 * mounted app an empty `PATH_INFO`; the dispatcher answers it with a `308 Permanent Redirect`
 * to the same URL with the slash added (query kept; 308 keeps the method, so a POST is
 * redirected as a POST). The index does the same when the demo itself is mounted and called
 * without the slash. Index links are built from `req.applicationUrl`, so they stay right when
 * the demo is mounted below another prefix.
 *
 * ```sh
 * npm start     # node --conditions=tsgi-source src/cli/main.ts serve examples/demo.ts:app
 * curl http://127.0.0.1:8000/time/app/                          # the time
 * curl -H 'Host: localhost' http://127.0.0.1:8000/time/app/     # 404 Not Found
 * curl -X POST http://127.0.0.1:8000/time/app/                  # 501 Not Implemented
 * ```
 *
 * @module
 */
import {
  type App,
  HTTPMethodNotAllowed,
  HTTPNotFound,
  HTTPPermanentRedirect,
  type HTTPRedirection,
  Request,
  Response,
  escapeHtml,
} from 'tsgi';
import { app as environApp } from './environ.ts';
import { app as timeRawApp } from './time-raw.ts';
import { app as timeRequestApp } from './time-request.ts';
import { app as timeApplicationApp } from './time-application.ts';

/** A mount point: a prefix (`/time/app`: starts with `/`, no trailing `/`), its app, a title. */
export interface Mount {
  readonly prefix: string;
  readonly app: App;
  readonly title: string;
}

const MOUNTS: readonly Mount[] = [
  { prefix: '/env', app: environApp, title: 'The environ dump (raw interface)' },
  { prefix: '/time/raw', app: timeRawApp, title: 'The time, raw interface' },
  { prefix: '/time/request', app: timeRequestApp, title: 'The time, with Request and Response' },
  { prefix: '/time/app', app: timeApplicationApp, title: 'The time, with Request.application' },
];

/** Answers a 308 to the request's URL with a `/` added to the path, keeping the query. */
function addSlash(req: Request): HTTPRedirection {
  const query = req.queryString;
  return new HTTPPermanentRedirect(`${req.pathUrl}/${query ? `?${query}` : ''}`);
}

/**
 * A prefix dispatcher: calls the app of the longest mount whose prefix is the start of
 * `PATH_INFO` on a segment boundary, after moving that prefix to the end of `SCRIPT_NAME`;
 * answers 308 to add the slash when `PATH_INFO` equals a prefix; calls `fallback` otherwise.
 */
export function dispatch(mounts: readonly Mount[], fallback: App): App {
  const sorted = [...mounts].sort((a, b) => b.prefix.length - a.prefix.length);
  return (environ, startResponse) => {
    const path = environ.PATH_INFO;
    for (const { prefix, app } of sorted) {
      if (path === prefix) {
        const req = new Request(environ);
        return addSlash(req).getResponse(req).respond(environ, startResponse);
      }
      if (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47 /* / */) {
        environ.SCRIPT_NAME += prefix;
        environ.PATH_INFO = path.slice(prefix.length);
        return app(environ, startResponse);
      }
    }
    return fallback(environ, startResponse);
  };
}

/** The HTML index at `/`: one link per mount, built from `req.applicationUrl`. */
const index = Request.application((req) => {
  if (req.pathInfo === '') return addSlash(req);
  if (req.pathInfo !== '/') return new HTTPNotFound();
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HTTPMethodNotAllowed(['GET', 'HEAD']);
  const base = req.applicationUrl;
  const items = MOUNTS.map(
    ({ prefix, title }) =>
      `<li><a href="${escapeHtml(`${base}${prefix}/`)}">${escapeHtml(prefix)}/</a> — ${escapeHtml(title)}</li>`,
  );
  const html =
    '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>tsgi demo</title></head>\n' +
    '<body>\n<h1>tsgi demo</h1>\n<p>The four WSGI listings of <cite>Foundations of Python Network ' +
    'Programming</cite>, chapter 10, in TypeScript.</p>\n<ul>\n' +
    items.join('\n') +
    '\n</ul>\n</body>\n</html>\n';
  return new Response(html, { contentType: 'text/html' });
});

/** The demo app: the four examples mounted under their prefixes, and the index at `/`. */
export const app: App = dispatch(MOUNTS, index);
