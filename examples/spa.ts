/**
 * A built single-page app (Vite's `dist/`: `index.html`, hashed files under `assets/`, their
 * `.br`/`.gz` copies) and its JSON API, from one server, as `express.static` plus a history
 * fallback, or nginx's `try_files $uri /index.html`, would serve them.
 *
 * | Path | Answer |
 * | --- | --- |
 * | `/api/health` | `{"status":"ok"}`; any other `/api/…` is a 404, never the page |
 * | `/assets/app-3f2a9c.css` | the file, `Cache-Control: public, max-age=31536000, immutable`; its precompressed copy when there is one (`precompressed: true`); a missing one is a 404 |
 * | `/`, `/index.html`, `/favicon.ico`… | the files of `dist/`, `Cache-Control: no-cache` (revalidated: a cheap 304) |
 * | `/settings/profile` | `index.html` (200, `no-cache`): the client-side router takes it from there |
 * | `/robots.txt`, `/old-chunk.js` (missing) | 404: a path whose last segment has a dot names a file, not a page |
 *
 * ```sh
 * SPA_DIST=path/to/dist npx tsgi serve examples/spa.ts:app
 * ```
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { type App, HTTPNotFound, Request, Response } from 'tsgi';
import { cascade, compress, directoryApp, errors, fileApp, mount } from 'tsgi/middleware';

/**
 * `index.html` (the `index` app) for a URL the client-side router owns (`/settings/profile`);
 * 404 for a path whose last segment has a dot (`/robots.txt`, `/old-chunk.js`): a missing
 * file answered with the page would reach a `<script>` or a crawler as HTML, with a 200.
 */
export function historyFallback(index: App): App {
  return (environ, startResponse) => {
    const path = environ.PATH_INFO;
    if (path.slice(path.lastIndexOf('/') + 1).includes('.')) return new HTTPNotFound().respond(environ, startResponse);
    return index(environ, startResponse);
  };
}

/** The server of the single-page app built in `dist`, with `api` at `/api`. */
export function spaApp(dist: string, api: App): App {
  // Hashed names change with their content: cached for a year, never revalidated.
  const immutable = { headers: { 'Cache-Control': 'public, max-age=31536000, immutable' } };
  // The other files keep their name across deploys: revalidated on every use (the default
  // without `maxAge`: `Cache-Control: no-cache`).
  return mount({
    '/api': api,
    // `precompressed: true`: the `.br`/`.gz` copies the build left are sent in their file's place.
    '/assets': directoryApp(`${dist}/assets`, { ...immutable, precompressed: true }),
    // Files first, then the page for any other GET; neither reads a request body, so a POST's
    // is never read (cascade records only what an app it skips reads) before its 405.
    // `catch: [404]`: a POST to a file of the build gets that file's 405, not the page's 404.
    '/': cascade([directoryApp(dist, { precompressed: true }), historyFallback(fileApp(`${dist}/index.html`))], { catch: [404] }),
  });
}

/** The JSON API: its 404 is its own (JSON for a `fetch` that accepts it), never the page. */
export const api = Request.application((req) => {
  if (req.pathInfo === '/health') return Response.json({ status: 'ok' });
  throw new HTTPNotFound();
});

/** The build served: `$SPA_DIST`, default the small one next to this file. */
export const DIST = process.env.SPA_DIST ?? fileURLToPath(new URL('./spa-dist', import.meta.url));

export const app = errors(compress(spaApp(DIST, api)));
