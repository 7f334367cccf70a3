/**
 * docs/flask.md, blueprints under `mount`: in a part mounted at `/auth`, `req.applicationUrl`
 * ends with `/auth` (Flask's `request.url_root` is the site's root), so the page's recipe for
 * `url_for('static', …)` and for links between parts keeps the site's root outside `mount`.
 * The recipe as the page writes it, over a real socket.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defineEnvironKey, defineMiddleware, redirect, serve } from 'tsgi';
import { mount } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';

const flask = readFileSync(fileURLToPath(new URL('../docs/flask.md', import.meta.url)), 'utf8');

// The recipe of docs/flask.md's blueprints row.
const siteUrl = defineEnvironKey<string>('app.site_url');
const keepSiteUrl = defineMiddleware({
  before(req) {
    siteUrl.set(req, req.applicationUrl);
  },
});
const authRoutes = new RouteMap({ login: '/login' });
const blogRoutes = new RouteMap({ index: '/' });
const auth = authRoutes.app({
  login: (req) => `${req.applicationUrl}/static/app.css ${siteUrl.get(req)}/static/app.css`,
});
const blog = blogRoutes.app({ index: (req) => redirect(`${siteUrl.get(req)}/auth${authRoutes.build('login')}`, 302) });

describe('docs/flask.md: blueprints under mount', () => {
  it('says where the site\'s root is in a blueprint, and the recipe gives it (socket)', async () => {
    expect(flask).toContain("defineMiddleware({ before(req) { siteUrl.set(req, req.applicationUrl); } })");
    expect(flask).toContain('`${siteUrl.get(req)}/static/app.css`');
    expect(flask).toContain("`${siteUrl.get(req)}/auth${authRoutes.build('login')}`");
    const server = await serve(keepSiteUrl(mount({ '/auth': auth, '/': blog })), { host: '127.0.0.1', port: 0 });
    try {
      const page = await fetch(`${server.url}/auth/login`);
      // req.applicationUrl is the part's root; the kept siteUrl is the site's.
      expect(await page.text()).toBe(`${server.url}/auth/static/app.css ${server.url}/static/app.css`);
      const index = await fetch(`${server.url}/`, { redirect: 'manual' });
      expect(index.status).toBe(302);
      expect(index.headers.get('location')).toBe(`${server.url}/auth/login`);
    } finally {
      await server.close();
    }
  });
});
