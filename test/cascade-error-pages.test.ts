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
import { HTTPForbidden, HTTPNotFound, Request, Response, serve } from 'tsgi';
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
