/**
 * The demo: the chapter-10 apps, an upload form, static files and a password-protected page
 * under one server, mounted with `mount()` and wrapped in the classic middleware stack.
 *
 * | Path              | App                                                     |
 * | ----------------- | ------------------------------------------------------- |
 * | `/`               | an HTML index linking the rest (a one-rule `RouteMap`)  |
 * | `/env/`           | examples/environ.ts                                     |
 * | `/time/raw/`      | examples/time-raw.ts                                    |
 * | `/time/request/`  | examples/time-request.ts                                |
 * | `/time/app/`      | examples/time-application.ts                            |
 * | `/upload/`        | examples/upload.ts (a file upload form)                 |
 * | `/static/`        | examples/public, served by `directoryApp`               |
 * | `/admin/`         | a page behind `basicAuth`, showing `REMOTE_USER`        |
 * | `/boom/`          | an app that throws, to show the `errors` middleware     |
 * | `/legacy/`        | examples/legacy-proxy.ts: an old site behind a re-theming proxy (the old site starts as a child process at the first request) |
 *
 * The stack, outermost first: `requestId` (an `X-Request-Id` on every answer, and in the
 * environ as `tsgi.request_id`: a proxy's own kept, or a new UUID) → `secureHeaders` (the
 * OWASP response headers: `nosniff`, `SAMEORIGIN` framing, a referrer policy, …, and HSTS
 * over `https`; no CSP, which must list what a site loads) → `errors` (an uncaught error
 * becomes a plain 500, logged with its stack to `tsgi.errors`, which is stderr under the CLI)
 * → `compress` (gzip, deflate or br when the client asks) → `mount`. `secureHeaders` and
 * `requestId` sit outside `errors`, so the 500 page carries them too. The access log (Apache
 * combined format, on stdout) is the one `tsgi serve` writes; `createDemo({ log })` adds
 * `accessLog` itself, for other servers, just inside `requestId`.
 *
 * `mount()` moves the matched prefix from `PATH_INFO` to `SCRIPT_NAME`, so `GET /time/app/`
 * reaches the time app with `SCRIPT_NAME` `/time/app` and `PATH_INFO` `/`. A prefix requested
 * without its trailing slash (`/time/app`) would reach the app with an empty `PATH_INFO`;
 * {@link addSlash} answers it with a `308 Permanent Redirect` to the URL with the slash (query
 * kept; 308 keeps the method). Index links are built from `req.applicationUrl`, so they stay
 * right when the demo itself is mounted below another prefix.
 *
 * The `/admin` user is `admin`; its password is `$TSGI_DEMO_PASSWORD`, or a random one
 * generated when this module is loaded. A line on stdout says which, before `Serving on …`.
 * Under `tsgi serve --workers N` each worker loads the module, so set `$TSGI_DEMO_PASSWORD`
 * to have one password for all of them.
 *
 * ```sh
 * npm start     # node --conditions=tsgi-source src/cli/main.ts serve examples/demo.ts:app
 * curl http://127.0.0.1:8000/time/app/                          # the time
 * curl -H 'Host: localhost' http://127.0.0.1:8000/time/app/     # 404 Not Found
 * curl -X POST http://127.0.0.1:8000/time/app/                  # 501 Not Implemented
 * curl -r 0-4 http://127.0.0.1:8000/static/hello.txt            # 206: Hello
 * curl -u admin:PASSWORD http://127.0.0.1:8000/admin/           # Hello, admin
 * ```
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { type App, HTTPNotFound, HTTPPermanentRedirect, Request } from 'tsgi';
import { escapeHtml } from 'tsgi/http';
import { accessLog, basicAuth, compress, directoryApp, errors, mount, requestId, secureHeaders, staticUsers } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { app as environApp } from './environ.ts';
import { app as timeRawApp } from './time-raw.ts';
import { app as timeRequestApp } from './time-request.ts';
import { app as timeApplicationApp } from './time-application.ts';
import { page, app as uploadApp } from './upload.ts';
import { app as legacyApp } from './legacy-proxy.ts';

/** The folder served at `/static`: examples/public. */
export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/** The user name of the `/admin` page. */
export const ADMIN_USER = 'admin';

/** Options of {@link createDemo}. */
export interface DemoOptions {
  /** The password of {@link ADMIN_USER} on `/admin`. */
  password: string;
  /**
   * Where an access log goes, one combined-format line per request; default none (`tsgi
   * serve` writes its own, see `--access-log`).
   */
  log?: { write(line: string): unknown } | undefined;
}

/**
 * Wraps `app` so that a request for its mount point without the trailing slash (an empty
 * `PATH_INFO`) answers `308` to the same URL with `/` added, query kept.
 */
export function addSlash(app: App): App {
  return (environ, startResponse) => {
    if (environ.PATH_INFO !== '') return app(environ, startResponse);
    const req = new Request(environ);
    const query = req.queryString;
    return new HTTPPermanentRedirect(`${req.pathUrl}/${query ? `?${query}` : ''}`).respond(environ, startResponse);
  };
}

/** The `/admin` page: who `basicAuth` let in (`REMOTE_USER`) and how (`AUTH_TYPE`). */
const adminPage = Request.application((req) => {
  if (req.pathInfo !== '/') return new HTTPNotFound();
  const user = escapeHtml(req.remoteUser ?? '(nobody)');
  const authType = escapeHtml(String(req.environ.AUTH_TYPE ?? ''));
  return page(
    'Admin',
    `<p>Hello, <strong>${user}</strong>. You are <code>REMOTE_USER</code>, authenticated by ` +
      `<code>${authType}</code> authentication.</p>`,
  );
});

/** Throws on every request: the `errors` middleware answers 500 and logs the stack. */
const boom: App = () => {
  throw new Error('boom: a deliberate failure, to show the errors middleware');
};

/**
 * Builds the demo app: the routes of the table above, mounted and wrapped in `requestId` →
 * `secureHeaders` → `errors` → `compress`, with `accessLog` just inside `requestId` when
 * `options.log` is given. The exported {@link app} is
 * `createDemo` with the password from `$TSGI_DEMO_PASSWORD` (or a generated one).
 */
export function createDemo(options: DemoOptions): App {
  const routes: ReadonlyArray<readonly [prefix: string, app: App, title: string]> = [
    ['/env', environApp, 'The environ dump (raw interface)'],
    ['/time/raw', timeRawApp, 'The time, raw interface'],
    ['/time/request', timeRequestApp, 'The time, with Request and Response'],
    ['/time/app', timeApplicationApp, 'The time, with Request.application'],
    ['/upload', uploadApp, 'Upload files (multipart forms)'],
    ['/static', directoryApp(PUBLIC_DIR), 'Static files: ETag, 304, byte ranges'],
    [
      '/admin',
      basicAuth(adminPage, { realm: 'tsgi demo admin', verify: staticUsers({ [ADMIN_USER]: options.password }) }),
      `A page behind HTTP Basic authentication (user ${ADMIN_USER})`,
    ],
    ['/boom', boom, 'An uncaught error: a 500, logged'],
    ['/legacy', legacyApp, 'An old site behind a re-theming proxy (tsgi/proxy)'],
  ];

  const indexPage = (req: Request) => {
    const base = req.applicationUrl;
    const items = routes.map(
      ([prefix, , title]) =>
        `<li><a href="${escapeHtml(`${base}${prefix}/`)}">${escapeHtml(prefix)}/</a> — ${escapeHtml(title)}</li>`,
    );
    return page(
      'tsgi demo',
      '<p>The four WSGI listings of <cite>Foundations of Python Network Programming</cite>, chapter 10, ' +
        'in TypeScript, and a tour of the toolkit: forms and uploads, static files with conditional and ' +
        'range requests, Basic authentication and error handling. Every response goes through ' +
        '<code>requestId</code>, <code>secureHeaders</code>, <code>errors</code> and <code>compress</code>, ' +
        'and <code>tsgi serve</code> logs it.</p>\n<ul>\n' +
        items.join('\n') +
        '\n</ul>',
    );
  };
  // A route map of one rule: 404 for other paths, 405 with Allow for other methods, OPTIONS,
  // and a 308 to `/` for the mount point without its slash (an empty PATH_INFO).
  const index = new RouteMap({ index: '/' }).app({ index: indexPage });

  const site = mount([['/', index], ...routes.map(([prefix, app]) => [prefix, addSlash(app)] as const)]);
  const app = secureHeaders(errors(compress(site)));
  return requestId(options.log === undefined ? app : accessLog(app, { log: options.log, format: 'combined' }));
}

const chosen = process.env.TSGI_DEMO_PASSWORD;
const password = chosen || randomBytes(12).toString('base64url');
console.log(
  chosen
    ? `Admin: user ${ADMIN_USER}, password from $TSGI_DEMO_PASSWORD`
    : `Admin: user ${ADMIN_USER}, password ${password}` +
        (cluster.isWorker ? ` (worker ${process.pid} only: set $TSGI_DEMO_PASSWORD to share one)` : ''),
);

/** The demo app served by `npm start`: {@link createDemo} with the password printed above. */
export const app: App = createDemo({ password });
