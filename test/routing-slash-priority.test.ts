/**
 * tsgi/routing: a path that a static segment's strict rule answers with a trailing slash is
 * redirected there before a placeholder rule may take it, as Werkzeug does: with `/settings/`
 * and `/<username>`, `/settings` is a 308 to `/settings/`, not the profile of "settings".
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { RouteMap } from 'tsgi/routing';
import { parseRaw, rawExchange, start } from './node-helpers.ts';

const routes = new RouteMap({
  settings: '/settings/',
  about: { path: '/about/', strictSlashes: false },
  user: '/<username>',
  post: '/<username>/<int:id>',
  docs: '/docs/<path:page>/',
  section: '/<section>/<path:rest>',
  upload: { path: '/upload/', methods: ['POST'] },
});
const app = routes.app({
  settings: () => 'settings',
  about: () => 'about',
  user: (_req, { username }) => `user ${username}`,
  post: (_req, { username, id }) => `post ${username} ${id}`,
  docs: (_req, { page }) => `docs ${page}`,
  section: (_req, { section, rest }) => `section ${section} ${rest}`,
  upload: () => 'uploaded',
});

let port: number;
// node-helpers closes the servers it started after each test.
beforeEach(async () => {
  port = (await start(app)).port;
});
const request = async (method: string, path: string) => parseRaw((await rawExchange(port, `${method} ${path} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`)).raw);

describe('a static segment with a strict trailing-slash rule', () => {
  it('redirects to its slash before a placeholder rule matches the path (Werkzeug)', async () => {
    const moved = await request('GET', '/settings?tab=2');
    expect(moved.status).toBe(308);
    expect(moved.header('location')).toBe('http://example.com/settings/?tab=2');
    expect(routes.lookup('GET', '/settings')).toEqual({ kind: 'slash' });
    expect((await request('GET', '/settings/')).rest).toBe('settings');
    expect((await request('GET', '/alice')).rest).toBe('user alice');
  });

  it('redirects a path placeholder that needs its slash before a less specific rule matches', async () => {
    const moved = await request('GET', '/docs/a/b');
    expect(moved.status).toBe(308);
    expect(moved.header('location')).toBe('http://example.com/docs/a/b/');
    expect((await request('GET', '/docs/a/b/')).rest).toBe('docs a/b');
    expect((await request('GET', '/guide/a/b')).rest).toBe('section guide a/b');
  });

  it('answers a rule without strict slashes there at once', async () => {
    expect((await request('GET', '/about')).rest).toBe('about');
    expect(routes.lookup('GET', '/about')).toMatchObject({ kind: 'match', rule: { endpoint: 'about' } });
  });

  it('leaves a method the slash rule lacks to the other rules', async () => {
    // /upload/ answers POST only: GET /upload is the profile of "upload", as in Werkzeug.
    expect((await request('GET', '/upload')).rest).toBe('user upload');
    expect((await request('POST', '/upload')).status).toBe(308);
    const refused = await request('POST', '/settings');
    expect(refused.status).toBe(405);
    expect(refused.header('allow')).toBe('GET, HEAD, OPTIONS');
  });
});
