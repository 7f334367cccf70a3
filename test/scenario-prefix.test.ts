/**
 * Scenario: two apps under URL prefixes behind a reverse proxy that adds one more.
 *
 * A backend serves `mount({ '/': root, '/shop': shop, '/blog': blog })` behind `proxyFix`
 * (`X-Forwarded-For`, `-Proto`, `-Host`, `-Prefix`, trusted from 127.0.0.1 only). `shop` is a
 * `RouteMap` with a login that sets a session cookie scoped to the public `/apps/shop` (a cookie
 * `path` is configured, not read from `SCRIPT_NAME`: docs/sessions.md), a form POST answered
 * `303` to a built URL, and static files under `/shop/static/`; `blog` is another map. A front
 * `serve()` mounts `proxy(backend)` at `/apps`. Every link, redirect and cookie the browser sees
 * must carry `/apps/shop` and the public host, as Werkzeug's `DispatcherMiddleware` +
 * `ProxyFix(x_prefix=1)` give links and redirects.
 * Over real sockets on 127.0.0.1 (the client's paths sent as written, no normalisation).
 */
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTPNotFound, Request, Response, type ServerHandle, redirect, serve } from 'tsgi';
import { CookieSessions, directoryApp, mount, proxyFix, sessionOf } from 'tsgi/middleware';
import { type ProxyApp, proxy } from 'tsgi/proxy';
import { RouteMap } from 'tsgi/routing';

const HOST = 'www.example.com';
let dir: string;
let backend: ServerHandle;
let front: ServerHandle;
let upstream: ProxyApp;

function buildSite(staticDir: string) {
  const shopRoutes = new RouteMap({
    index: '/',
    item: '/items/<name>',
    login: { path: '/login', methods: ['POST'] },
    order: { path: '/order', methods: ['POST'] },
    info: '/info',
  });
  const sessions = new CookieSessions({ secret: 's'.repeat(40), path: '/apps/shop' });
  const shopRouted = shopRoutes.app({
    index: (req, _values, urls) =>
      new Response(`<a href="${urls.build('item', { name: 'café' })}">café</a> user=${sessionOf(req).get<string>('user') ?? '-'}`, { contentType: 'text/html' }),
    item: (req, { name }, urls) => Response.json({ name, self: urls.build('item', { name }, { external: true }), url: req.url }),
    login: (req, _values, urls) => {
      sessionOf(req).set('user', 'bob');
      return redirect(urls.build('index', {}), 303);
    },
    order: async (req, _values, urls) => redirect(urls.build('item', { name: (await req.form()).get('item') ?? 'none' }), 303),
    info: (req) => Response.json({ url: req.url, hostUrl: req.hostUrl, applicationUrl: req.applicationUrl, scriptName: req.scriptName, pathInfo: req.pathInfo, remoteAddr: req.remoteAddr }),
  });
  const shop = sessions.middleware(mount({ '/': shopRouted, '/static': directoryApp(staticDir) }));
  const blogRoutes = new RouteMap({ index: '/', post: '/<int:id>' });
  const blog = blogRoutes.app({
    index: (_req, _values, urls) => new Response(`<a href="${urls.build('post', { id: 1 })}">1</a>`, { contentType: 'text/html' }),
    post: (req, { id }) => Response.json({ id, url: req.url }),
  });
  const root = Request.application((req) => {
    if (req.pathInfo === '/') return new Response('root');
    throw new HTTPNotFound();
  });
  return mount({ '/': root, '/shop': shop, '/blog': blog });
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request, its path sent exactly as written, from `localAddress` (default 127.0.0.1). */
function send(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: false, localAddress: options.localAddress, headers: { host: HOST, ...options.headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const viaFront = (path: string, options?: Parameters<typeof send>[2]) => send(front.port, path, options);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-scenario-prefix-'));
  writeFileSync(join(dir, 'site.css'), 'body{}\n');
  backend = await serve(proxyFix(buildSite(dir), { xFor: 1, xProto: 1, xHost: 1, xPrefix: 1, trust: '127.0.0.1' }), { host: '127.0.0.1', port: 0 });
  upstream = proxy(backend.url);
  front = await serve(mount({ '/apps': upstream }), { host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await front?.close();
  await upstream?.close();
  await backend?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('apps under /shop and /blog behind a proxy at /apps', () => {
  it('gives the request the public URL: host, full prefix, path', async () => {
    const res = await viaFront('/apps/shop/info?q=1', { headers: { 'x-forwarded-prefix': '/evil', 'x-forwarded-host': 'evil.example' } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      url: `http://${HOST}/apps/shop/info?q=1`,
      hostUrl: `http://${HOST}`,
      applicationUrl: `http://${HOST}/apps/shop`,
      scriptName: '/apps/shop',
      pathInfo: '/info',
      remoteAddr: '127.0.0.1',
    });
  });

  it('builds links and redirects under the full prefix', async () => {
    const index = await viaFront('/apps/shop/');
    expect(index.body).toContain('<a href="/apps/shop/items/caf%C3%A9">');
    const item = await viaFront('/apps/shop/items/caf%C3%A9');
    expect(JSON.parse(item.body)).toEqual({ name: 'café', self: `http://${HOST}/apps/shop/items/caf%C3%A9`, url: `http://${HOST}/apps/shop/items/caf%C3%A9` });
    expect((await viaFront('/apps/blog/')).body).toBe('<a href="/apps/blog/1">1</a>');
  });

  it('redirects the bare mount point to its slash, query kept, for GET, HEAD and OPTIONS', async () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS']) {
      const res = await viaFront('/apps/shop?x=%C3%A9', { method });
      expect([method, res.status, res.headers.location]).toEqual([method, 308, `http://${HOST}/apps/shop/?x=%C3%A9`]);
    }
    expect((await viaFront('/apps/blog')).headers.location).toBe(`http://${HOST}/apps/blog/`);
  });

  it('answers the form POST with a 303 to a built URL under the prefix', async () => {
    const res = await viaFront('/apps/shop/order', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'item=caf%C3%A9' });
    expect([res.status, res.headers.location]).toEqual([303, `http://${HOST}/apps/shop/items/caf%C3%A9`]);
  });

  it('scopes the login cookie to the public prefix, where the browser sends it back', async () => {
    const res = await viaFront('/apps/shop/login', { method: 'POST' });
    expect([res.status, res.headers.location]).toEqual([303, `http://${HOST}/apps/shop/`]);
    const cookie = res.headers['set-cookie']?.[0] ?? '';
    expect(cookie).toMatch(/; Path=\/apps\/shop;/);
    const page = await viaFront('/apps/shop/', { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.body).toContain('user=bob');
  });

  it('serves static files under /apps/shop/static/, the directory redirected under the prefix', async () => {
    const file = await viaFront('/apps/shop/static/site.css');
    expect([file.status, file.body]).toEqual([200, 'body{}\n']);
    expect((await viaFront('/apps/shop/static/site.css', { method: 'HEAD' })).headers['content-length']).toBe('7');
    const dirRedirect = await viaFront('/apps/shop/static');
    expect([dirRedirect.status, dirRedirect.headers.location]).toEqual([301, `http://${HOST}/apps/shop/static/`]);
  });

  it('redirects unclean paths to their clean public URL, and never out of the proxy', async () => {
    expect((await viaFront('/apps/shop//info')).headers.location).toBe(`http://${HOST}/apps/shop/info`);
    expect((await viaFront('/apps/shop/x/../info')).headers.location).toBe(`http://${HOST}/apps/shop/info`);
    expect((await viaFront('/apps/shop/static/%2e%2e/%2e%2e/blog/')).headers.location).toBe(`http://${HOST}/apps/blog/`);
  });

  it('answers 404, 405, OPTIONS and bad escapes under the prefix', async () => {
    expect((await viaFront('/apps/shop/nope')).status).toBe(404);
    expect((await viaFront('/apps/shop/items/a%2Fb')).status).toBe(404); // %2F is a `/` before the match
    expect((await viaFront('/apps/shop/items/%E9')).status).toBe(400);
    const denied = await viaFront('/apps/blog/1', { method: 'DELETE' });
    expect([denied.status, denied.headers.allow]).toEqual([405, 'GET, HEAD, OPTIONS']);
    const options = await viaFront('/apps/blog/1', { method: 'OPTIONS' });
    expect([options.status, options.headers.allow]).toEqual([204, 'GET, HEAD, OPTIONS']);
  });

  it('ignores X-Forwarded-* from a client the backend does not trust', async () => {
    const res = await send(backend.port, '/shop/info', { localAddress: '127.0.0.2', headers: { 'x-forwarded-prefix': '/evil', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' } });
    expect(JSON.parse(res.body)).toMatchObject({ url: `http://${HOST}/shop/info`, scriptName: '/shop', remoteAddr: '127.0.0.2' });
  });

  it('takes a trusted prefix with or without its trailing slash, and refuses an unclean one', async () => {
    for (const prefix of ['/apps', '/apps/']) {
      const res = await send(backend.port, '/shop/info', { headers: { 'x-forwarded-prefix': prefix } });
      expect(JSON.parse(res.body)).toMatchObject({ scriptName: '/apps/shop' });
    }
    const unclean = await send(backend.port, '/shop/info', { headers: { 'x-forwarded-prefix': '//evil.example' } });
    expect(JSON.parse(unclean.body)).toMatchObject({ scriptName: '/shop' });
    const encoded = await send(backend.port, '/shop/info', { headers: { 'x-forwarded-prefix': '/caf%C3%A9' } });
    expect(JSON.parse(encoded.body)).toMatchObject({ scriptName: '/café/shop', applicationUrl: `http://${HOST}/caf%C3%A9/shop` });
    // nginx's `proxy_set_header X-Forwarded-Prefix /café;` sends UTF-8 bytes, which no URI holds: ignored (docs/middleware-proxy-fix.md)
    const raw = await send(backend.port, '/shop/info', { headers: { 'x-forwarded-prefix': Buffer.from('/café').toString('latin1') } });
    expect(JSON.parse(raw.body)).toMatchObject({ scriptName: '/shop' });
  });
});
