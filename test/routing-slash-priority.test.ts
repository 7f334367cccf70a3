/**
 * tsgi/routing: a path that a static segment's strict rule answers with a trailing slash is
 * redirected there before a placeholder rule may take it, as Werkzeug does: with `/settings/`
 * and `/<username>`, `/settings` is a 308 to `/settings/`, not the profile of "settings".
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { cors } from 'tsgi/middleware';
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

describe('OPTIONS, which every rule answers (Flask), at the path any method is led to', () => {
  it('redirects OPTIONS to the strict slash rule, as GET, not the Allow of a placeholder rule', async () => {
    const moved = await request('OPTIONS', '/settings?tab=2');
    expect(moved.status).toBe(308);
    expect(moved.header('location')).toBe('http://example.com/settings/?tab=2');
    expect(routes.lookup('OPTIONS', '/settings')).toEqual({ kind: 'slash' });
    expect((await request('OPTIONS', '/docs/a/b')).status).toBe(308);
    // /upload/ answers POST only, and OPTIONS too, as every rule: redirected (Flask), where GET is the profile.
    expect((await request('OPTIONS', '/upload')).status).toBe(308);
    const here = await request('OPTIONS', '/settings/');
    expect(here.status).toBe(204);
    expect(here.header('allow')).toBe('GET, HEAD, OPTIONS');
    expect((await request('OPTIONS', '/alice')).header('allow')).toBe('GET, HEAD, OPTIONS');
    expect((await request('OPTIONS', '/about')).status).toBe(204);
  });

  it('leaves OPTIONS of a path its rules answer to a catch-all rule that lists OPTIONS (a hand-written preflight handler)', async () => {
    const withPreflight = new RouteMap({
      settings: '/settings/',
      items: { path: '/api/items', methods: ['GET', 'PUT'] },
      preflight: { path: '/<path:rest>', methods: ['OPTIONS'] },
    });
    port = (await start(withPreflight.app({ settings: () => 'settings', items: () => 'items', preflight: (_req, { rest }) => `preflight ${rest}` }))).port;
    const answered = await request('OPTIONS', '/api/items');
    expect(answered.status).toBe(200);
    expect(answered.rest).toBe('preflight api/items');
    expect(withPreflight.lookup('OPTIONS', '/api/items')).toMatchObject({ kind: 'match', rule: { endpoint: 'preflight' } });
    expect((await request('OPTIONS', '/api/other')).rest).toBe('preflight api/other');
    // A redirect any method gets still comes first.
    expect((await request('OPTIONS', '/settings')).status).toBe(308);
    expect((await request('PATCH', '/api/items')).header('allow')).toBe('GET, HEAD, OPTIONS, PUT');
  });

  it('leaves CORS preflights to cors() in front, which answers them before routing (a redirected preflight fails in browsers)', async () => {
    port = (await start(cors(app, { origin: 'https://app.example' }))).port;
    const preflight = parseRaw((await rawExchange(port, 'OPTIONS /settings HTTP/1.1\r\nHost: example.com\r\nOrigin: https://app.example\r\nAccess-Control-Request-Method: PUT\r\nConnection: close\r\n\r\n')).raw);
    expect(preflight.status).toBe(204);
    expect(preflight.header('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.header('location')).toBeUndefined();
    // Not a preflight (no Access-Control-Request-Method): the app's answer, the redirect.
    expect((await request('OPTIONS', '/settings')).status).toBe(308);
  });

  it('keeps HEAD with GET and the 405 with the rules that answer the path', async () => {
    const head = await request('HEAD', '/settings');
    expect(head.status).toBe(308);
    expect(head.header('location')).toBe('http://example.com/settings/');
    expect((await request('HEAD', '/upload')).status).toBe(200);
    expect(routes.lookup('HEAD', '/upload')).toMatchObject({ kind: 'match', rule: { endpoint: 'user' } });
    expect(routes.lookup('DELETE', '/settings')).toEqual({ kind: 'method', allowed: new Set(['GET', 'HEAD']) });
  });

  it('redirects before a placeholder rule that lists OPTIONS, and answers the rule listing it at its path', async () => {
    const listed = new RouteMap({
      settings: '/settings/',
      user: { path: '/<username>', methods: ['GET', 'OPTIONS'] },
      items: '/items',
      itemsOptions: { path: '/items', methods: ['OPTIONS', 'POST'] },
    });
    port = (await start(listed.app({ settings: () => 'settings', user: (req) => `user ${req.method}`, items: () => 'items', itemsOptions: (req) => `items ${req.method}` }))).port;
    expect((await request('OPTIONS', '/settings')).status).toBe(308);
    expect(listed.lookup('OPTIONS', '/settings')).toEqual({ kind: 'slash' });
    expect((await request('OPTIONS', '/alice')).rest).toBe('user OPTIONS');
    expect((await request('OPTIONS', '/items')).rest).toBe('items OPTIONS');
    const refused = await request('PUT', '/items');
    expect(refused.header('allow')).toBe('GET, HEAD, OPTIONS, POST');
  });
});
