/**
 * A filtering and rewriting service in front of an old site: new pages served here, everything
 * else proxied to the old site (examples/legacy-site/server.ts, a separate process), its pages
 * re-themed on the fly — a stylesheet injected into `<head>`, a banner after `<body>`, links to
 * the old host name and absolute paths fixed to the public prefix, redirects and cookies mapped.
 *
 * | Path | Served by |
 * | --- | --- |
 * | `/new/` | this service: a new page |
 * | `/theme.css` | this service: the stylesheet injected into the old pages |
 * | anything else | the old site, through `proxy` and the response filters |
 *
 * The stack on the proxied part, outermost first: `compress` (the client's coding) →
 * `rewriteLocation` (Location, Refresh, Set-Cookie) → `rewriteHtml` (theme, banner, links) →
 * `decodeContent` (in case the old site compresses) → `proxy`.
 *
 * ```sh
 * node --conditions=tsgi-source src/cli/main.ts serve examples/legacy-proxy.ts:app   # starts the old site too
 * curl -s http://127.0.0.1:8000/ | grep -i -e theme.css -e banner   # the stylesheet and the banner
 * curl -s http://127.0.0.1:8000/about.html | grep -i 'href="http'   # old.example.com links made public
 * curl -si http://127.0.0.1:8000/old-about | grep -i location      # the redirect mapped to the public URL
 * curl -s -d name=Ada http://127.0.0.1:8000/guestbook | grep '<H1>' # the form POSTs through
 * curl -s http://127.0.0.1:8000/latin1.html | iconv -f latin1      # an ISO-8859-1 page, still ISO-8859-1
 * curl -s http://127.0.0.1:8000/files/large.bin | wc -c            # 67108864, streamed
 * ```
 *
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type App, HTTPNotFound, Request, Response, compose } from 'tsgi';
import { escapeHtml } from 'tsgi/http';
import { compress, mount } from 'tsgi/middleware';
import { decodeContent, proxy, rewriteHtml, rewriteLocation } from 'tsgi/proxy';

/** The host name the old pages use for themselves in absolute links. */
export const OLD_HOST_URL = 'http://old.example.com';

/** The stylesheet injected into every old page. */
export const THEME_CSS = `body { font-family: system-ui, sans-serif; color: #222; background: #fafafa !important; max-width: 48rem; margin: 0 auto; }
h1 { color: #0b5394; }
.tsgi-banner { background: #0b5394; color: white; padding: .5rem 1rem; margin: 0 0 1rem; }
.tsgi-banner a { color: white; }
`;

/**
 * The front service for the old site at `oldSite` (its URL, or a function answering a promise
 * of it, called at each request to the old site: see {@link startOldSite}).
 */
export function createLegacyProxy(oldSite: string | (() => Promise<string>)): App {
  const upstream = typeof oldSite === 'string' ? Promise.resolve(oldSite) : undefined;
  const url = () => upstream ?? (oldSite as () => Promise<string>)();
  // The proxy stack is built once the old site's URL is known.
  let stack: Promise<App> | undefined;
  const build = async (): Promise<App> => {
    const oldUrl = await url();
    const names = [oldUrl, OLD_HOST_URL];
    return compose(
      compress,
      (app) => rewriteLocation(app, { upstream: names }),
      (app) => rewriteHtml(app, {
        upstream: names,
        elements: {
          head: (el, req) => el.append(`<link rel="stylesheet" href="${escapeHtml(`${req.applicationUrl}/theme.css`)}">`, { html: true }),
          body: (el, req) =>
            el.prepend(`<div class="tsgi-banner">You are viewing the old site, re-themed by tsgi. <a href="${escapeHtml(`${req.applicationUrl}/new/`)}">See the new pages</a>.</div>`, { html: true }),
        },
      }),
      decodeContent,
    )(proxy(oldUrl));
  };
  const old: App = async (environ, startResponse) => {
    const app = await (stack ??= build());
    return app(environ, startResponse);
  };
  const newPage = Request.application((req) => {
    if (req.pathInfo !== '/') return new HTTPNotFound();
    return new Response(
      `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>New pages</title>` +
        '<link rel="stylesheet" href="../theme.css"></head>\n' +
        '<body><h1>The new site</h1><p>Served by tsgi itself. The <a href="../">old pages</a> ' +
        'are proxied and re-themed.</p></body></html>\n',
      { contentType: 'text/html' },
    );
  });
  const theme = new Response(THEME_CSS, { contentType: 'text/css' });
  return mount({ '/': old, '/new': newPage, '/theme.css': theme });
}

/** A started old site: its URL once it listens, and how to stop it. */
export interface OldSite {
  url(): Promise<string>;
  stop(): void;
}

/**
 * The old site (examples/legacy-site/server.ts) as a child process, started at the first call
 * of `url()` and stopped by `stop()`, when this process exits, or by itself when this process
 * goes away (its IPC channel closes).
 */
export function startOldSite(): OldSite {
  let child: ChildProcess | undefined;
  let started: Promise<string> | undefined;
  const stop = () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill();
  };
  return {
    url: () =>
      (started ??= new Promise<string>((resolve, reject) => {
        child = fork(fileURLToPath(new URL('./legacy-site/server.ts', import.meta.url)), [], {
          execArgv: ['--conditions=tsgi-source'],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          env: { ...process.env, PORT: '0' },
        });
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`the old site exited (code ${code})`)));
        child.once('message', (message) => {
          const { url } = message as { url: string };
          console.log(`Old site (examples/legacy-site) on ${url}`);
          resolve(url);
        });
        process.once('exit', stop);
      })),
    stop,
  };
}

/** The old site this module starts for {@link app}, at its first request. */
export const oldSite: OldSite = startOldSite();

/** The legacy proxy with its own old site: `tsgi serve examples/legacy-proxy.ts:app`, and `/legacy/` of the demo. */
export const app: App = createLegacyProxy(oldSite.url);
