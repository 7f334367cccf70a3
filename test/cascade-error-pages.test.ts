/**
 * cascade under errorPages: the error page of an app that is skipped (the 404 of the static
 * files before the site, in `cascade([directoryApp('public'), site])`) is never rendered. Its
 * renderer used to run for every such answer nobody sees, with its side effects on the one
 * sent: a Flask-style layout reading the session (the user in the nav, flash messages) made a
 * public page of the site `Cache-Control: private` and `Vary: Cookie`. Over a real socket.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type App,
  HTTPForbidden,
  HTTPMethodNotAllowed,
  HTTPNotFound,
  Request,
  Response,
  serve,
} from 'tsgi';
import { CookieSessions, cascade, directoryApp, errorPages, sessionOf } from 'tsgi/middleware';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-cascade-pages-'));
  writeFileSync(path.join(dir, 'app.css'), 'body{}');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sessions = new CookieSessions({ secret: 'a'.repeat(32) });

const site = Request.application((req) => {
  if (req.pathInfo === '/login') {
    sessionOf(req).set('user', 'bob');
    return 'signed in';
  }
  if (req.pathInfo === '/staff') throw new HTTPForbidden('Staff only.');
  if (req.pathInfo !== '/about') throw new HTTPNotFound();
  const res = new Response('about us');
  res.cacheControl.public = true;
  res.cacheControl.maxAge = 600;
  return res;
});

async function withServer(fn: (url: string, rendered: number[]) => Promise<void>): Promise<void> {
  const rendered: number[] = [];
  // The layout of every page shows the user, as a Flask base template shows g.user.
  const app = errorPages(sessions.middleware(cascade([directoryApp(dir), site])), {
    render: (error, req) => {
      rendered.push(error.code);
      return `<nav>${sessionOf(req).get<string>('user') ?? 'guest'}</nav><h1>${error.code}</h1>`;
    },
  });
  const server = await serve(app, { host: '127.0.0.1', port: 0 });
  try {
    await fn(server.url, rendered);
  } finally {
    await server.close();
  }
}

describe('cascade under errorPages', () => {
  it('renders no page for a skipped answer: a public page of the site stays public for a signed-in user', async () => {
    await withServer(async (url, rendered) => {
      const login = await fetch(`${url}/login`);
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      rendered.length = 0;
      const res = await fetch(`${url}/about`, { headers: { cookie } });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('about us');
      expect(rendered).toEqual([]);
      expect(res.headers.get('cache-control')).toBe('public, max-age=600');
      expect(res.headers.get('vary')).toBeNull();
    });
  });

  it('still renders the page of the answer sent: the last app\'s 404, an earlier app\'s uncaught 403', async () => {
    await withServer(async (url, rendered) => {
      const missing = await fetch(`${url}/missing.css`);
      expect(missing.status).toBe(404);
      expect(await missing.text()).toBe('<nav>guest</nav><h1>404</h1>');
      const staff = await fetch(`${url}/staff`);
      expect(staff.status).toBe(403);
      expect(await staff.text()).toBe('<nav>guest</nav><h1>403</h1>');
      expect(rendered).toEqual([404, 403]);
      const css = await fetch(`${url}/app.css`);
      expect(await css.text()).toBe('body{}');
    });
  });
});

/**
 * errorPages inside a cascade app: `cascade([errorPages(directoryApp('public'), { render }),
 * site])`, or a section whose own `errorPages` renders its 404. The cascade tells the apps
 * before the last which statuses it skips, so their renderer runs only for a page that is sent
 * (the last app's, a status not caught), nested cascades included.
 */
describe('errorPages inside a cascade', () => {
  const rendered: string[] = [];
  /** An `errorPages` named `name` whose layout reads the session, as a Flask base template. */
  const paged = (name: string, app: Parameters<typeof errorPages>[0]) =>
    errorPages(app, {
      render: (error, req) => {
        rendered.push(`${name} ${error.code}`);
        const user = sessionOf(req).get<string>('user') ?? 'guest';
        return `<nav>${user}</nav><h1>${name} ${error.code}</h1>`;
      },
    });
  /** A section answering `/<name>` and raising `code` for any other path. */
  const section = (name: string, code: 404 | 405) =>
    Request.application((req) => {
      if (req.pathInfo === `/${name}`) return `${name} page`;
      throw code === 404 ? new HTTPNotFound() : new HTTPMethodNotAllowed(['GET']);
    });

  async function withApp(
    app: App,
    fn: (url: string, cookie: string) => Promise<void>,
  ): Promise<void> {
    // Signing in is the site's, whatever the cascade tried first.
    const signingIn: App = (environ, startResponse) =>
      (environ.PATH_INFO === '/login' ? site : app)(environ, startResponse);
    const server = await serve(sessions.middleware(signingIn), { host: '127.0.0.1', port: 0 });
    try {
      const login = await fetch(`${server.url}/login`);
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      rendered.length = 0;
      await fn(server.url, cookie);
    } finally {
      await server.close();
    }
  }

  it('renders no page for a skipped answer: the site\'s public page gets no Vary', async () => {
    const blog = paged('blog', section('blog', 404));
    const app = cascade([paged('static', directoryApp(dir)), blog, site]);
    await withApp(app, async (url, cookie) => {
      const res = await fetch(`${url}/about`, { headers: { cookie } });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('about us');
      expect(rendered).toEqual([]);
      expect(res.headers.get('cache-control')).toBe('public, max-age=600');
      expect(res.headers.get('vary')).toBeNull();
      const css = await fetch(`${url}/app.css`, { headers: { cookie } });
      expect(await css.text()).toBe('body{}');
      expect(rendered).toEqual([]);
    });
  });

  it('renders the page of the last app, and of an earlier app\'s status not caught', async () => {
    const app = cascade([paged('static', directoryApp(dir)), paged('site', site)]);
    await withApp(app, async (url, cookie) => {
      const missing = await fetch(`${url}/missing`, { headers: { cookie } });
      expect(missing.status).toBe(404);
      expect(await missing.text()).toBe('<nav>bob</nav><h1>site 404</h1>');
      expect(missing.headers.get('vary')).toContain('Cookie');
      expect(rendered).toEqual(['site 404']);
    });
    rendered.length = 0;
    const blogFirst = cascade([paged('blog', section('blog', 405)), site], { catch: [404] });
    await withApp(blogFirst, async (url) => {
      const res = await fetch(`${url}/missing`);
      expect(res.status).toBe(405);
      expect(await res.text()).toBe('<nav>guest</nav><h1>blog 405</h1>');
      expect(rendered).toEqual(['blog 405']);
    });
  });

  it('nested: each app is told what the cascades above it skip', async () => {
    // The inner cascades catch 404 only, the outer ones 405 only: the inner's 404 is skipped
    // by it, its last app's 405 by the outer one, and so is its first app's 405, its answer.
    for (const apps of [
      [paged('a', section('a', 404)), paged('b', section('b', 405))],
      [paged('a', section('a', 405)), paged('b', section('b', 404))],
    ]) {
      const app = cascade([cascade(apps, { catch: [404] }), paged('site', site)], { catch: [405] });
      await withApp(app, async (url, cookie) => {
        const res = await fetch(`${url}/about`, { headers: { cookie } });
        expect(await res.text()).toBe('about us');
        expect(res.headers.get('vary')).toBeNull();
        expect(rendered).toEqual([]);
      });
    }
    rendered.length = 0;
    const then404 = [paged('a', section('a', 405)), paged('b', section('b', 404))];
    const inner404 = cascade(then404, { catch: [405] });
    await withApp(cascade([inner404, site], { catch: [405] }), async (url) => {
      const res = await fetch(`${url}/missing`);
      expect(res.status).toBe(404);
      expect(await res.text()).toBe('<nav>guest</nav><h1>b 404</h1>');
      expect(rendered).toEqual(['b 404']);
    });
    rendered.length = 0;
    // As the last app of the outer cascade, the inner one's last app renders its 405.
    const twice405 = [paged('a', section('a', 405)), paged('b', section('b', 405))];
    const last = cascade([section('x', 404), cascade(twice405, { catch: [405] })]);
    await withApp(last, async (url) => {
      const res = await fetch(`${url}/missing`);
      expect(res.status).toBe(405);
      expect(await res.text()).toBe('<nav>guest</nav><h1>b 405</h1>');
      expect(rendered).toEqual(['b 405']);
    });
  });
});
