/**
 * examples/from-express.ts, an Express 5 app ported to tsgi, over a real socket (serve() on
 * 127.0.0.1, port 0) with fetch: every route and middleware its module comment claims, and the
 * bad input an Express app answers with its body parsers and error handler (malformed JSON 400,
 * too large 413, another type 415, unknown route 404, wrong method 405, a crash 500), here
 * `{"error": …}` under /api as the Express error handler made it. One test drives it in-process
 * with TestClient, as supertest would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, serve } from 'tsgi';
import { TestClient } from 'tsgi/testing';
import { type FromExpressOptions, type Item, createApp } from '../examples/from-express.ts';
import { errorLog } from './node-helpers.ts';

const SECRET = 'a test secret of more than thirty-two bytes';
const FRONT_END = 'http://localhost:5173';
let uploads: string;
const servers: ServerHandle[] = [];

beforeAll(() => {
  uploads = mkdtempSync(path.join(tmpdir(), 'from-express-test-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
afterAll(() => rmSync(uploads, { recursive: true, force: true }));

/** Serves a fresh app; answers a `fetch` that keeps the session's cookies, as a browser would. */
async function start(options: FromExpressOptions = {}) {
  const server = await serve(createApp({ secret: SECRET, uploads, ...options }), { host: '127.0.0.1', port: 0, log: errorLog() });
  servers.push(server);
  const jar = new Map<string, string>();
  const call = async (url: string, init: RequestInit & { keepCookies?: boolean } = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size > 0 && !headers.has('cookie')) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(new URL(url, server.url), { redirect: 'manual', ...init, headers, signal: AbortSignal.timeout(5000) });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const [name, value] = pair!.split('=') as [string, string];
      if (attributes.some((a) => /^\s*max-age=0$/i.test(a))) jar.delete(name.trim());
      else jar.set(name.trim(), value);
    }
    return res;
  };
  return { server, call, jar, base: server.url.replace(/\/$/, '') };
}

/** Signed in as `user`: the session cookie (and `theme`) in the jar. */
async function signedIn(user = 'ada', options: FromExpressOptions = {}) {
  const started = await start(options);
  const res = await started.call('/login', { method: 'POST', body: new URLSearchParams({ user, theme: 'dark' }) });
  expect(res.status).toBe(303);
  return started;
}

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('examples/from-express.ts: the site', () => {
  it('GET / greets a stranger with helmet\'s headers and no CSP', async () => {
    const { call } = await start();
    const res = await call('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toContain('<h1>Hello, stranger</h1>');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBeNull();
  });

  it('POST /login: the user in the session (res.locals), a theme cookie for 30 days in seconds, 303 to /; logout clears both', async () => {
    const { call, jar, base } = await start();
    const login = await call('/login', { method: 'POST', body: new URLSearchParams({ user: 'Ada <3', theme: 'dark' }) });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe(`${base}/`);
    const theme = login.headers.getSetCookie().find((c) => c.startsWith('theme='));
    expect(theme).toMatch(/^theme=dark; Max-Age=2592000; .*SameSite=Lax/i);
    expect(jar.has('session')).toBe(true);
    const page = await (await call('/')).text();
    expect(page).toContain('<h1>Hello, Ada &lt;3</h1>');
    expect(page).toContain('<html class="dark">');
    const logout = await call('/logout', { method: 'POST' });
    expect(logout.status).toBe(303);
    expect(logout.headers.getSetCookie().find((c) => c.startsWith('theme='))).toMatch(/Max-Age=0/);
    expect(jar.size).toBe(0);
    expect(await (await call('/')).text()).toContain('<h1>Hello, stranger</h1>');
  });

  it('POST /login refuses a missing user (400), an oversized form (413) and a cross-site post (403)', async () => {
    const { call } = await start();
    expect((await call('/login', { method: 'POST', body: new URLSearchParams({ theme: 'dark' }) })).status).toBe(400);
    expect((await call('/login', { method: 'POST', body: new URLSearchParams({ user: 'x'.repeat(101 * 1024) }) })).status).toBe(413);
    // Within the body limit, but too long for the session cookie (4096 bytes): a 422, not a 500.
    const long = await call('/login', { method: 'POST', body: new URLSearchParams({ user: 'x'.repeat(5000) }) });
    expect(long.status).toBe(422);
    expect(await long.text()).toContain('The user name is longer than 100 characters.');
    const forged = await call('/login', { method: 'POST', body: new URLSearchParams({ user: 'eve' }), headers: { 'sec-fetch-site': 'cross-site' } });
    expect(forged.status).toBe(403);
    expect((await call('/login')).status).toBe(405);
    expect((await call('/nowhere')).status).toBe(404);
  });

  it('serves examples/public under /static for an hour, and 404s what is not there', async () => {
    const { call } = await start();
    const css = await call('/static/style.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('public, max-age=3600');
    expect((await call('/static/missing.css')).status).toBe(404);
    expect((await call('/static/../from-express.ts')).status).toBe(404);
  });

  it('logs each request in the combined format when given a log (morgan)', async () => {
    const log = errorLog();
    const { call } = await start({ accessLog: log });
    await (await call('/static/style.css', { headers: { 'user-agent': 'test-agent' } })).text();
    await expect.poll(() => log.text).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/static\/style\.css HTTP\/1\.1" 200 \d+ "-" "test-agent"\n$/);
  });
});

describe('examples/from-express.ts: the API', () => {
  it('creates, lists, shows and deletes items; 201 with a Location under /api', async () => {
    const { call, base } = await signedIn();
    const created = await call('/api/items', json({ name: ' mug ', price: 9.5 }));
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${base}/api/items/1`);
    expect(await created.json()).toEqual({ id: 1, name: 'mug', price: 9.5 });
    expect(await (await call('/api/items')).json()).toEqual([{ id: 1, name: 'mug', price: 9.5 }]);
    expect(await (await call('/api/items/1')).json()).toEqual({ id: 1, name: 'mug', price: 9.5 });
    expect((await call('/api/items/1', { method: 'DELETE' })).status).toBe(204);
    const gone = await call('/api/items/1');
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ error: 'There is no item 1.' });
  });

  it('answers every error as {"error"}: unknown route 404, a non-integer id 404, wrong method 405 with Allow', async () => {
    const { call } = await start();
    const unknown = await call('/api/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/json');
    expect(await unknown.json()).toEqual({ error: 'Not Found' });
    expect((await call('/api/items/abc')).status).toBe(404);
    const patch = await call('/api/items/1', { method: 'PATCH' });
    expect(patch.status).toBe(405);
    expect(patch.headers.get('allow')).toBe('DELETE, GET, HEAD, OPTIONS');
    expect(await patch.json()).toEqual({ error: 'Method Not Allowed' });
  });

  it('refuses bad bodies: 403 signed out, 400 malformed JSON, 413 past 100 KiB, 415 another type, 422 invalid', async () => {
    const signedOut = await start();
    const anonymous = await signedOut.call('/api/items', json({ name: 'mug', price: 1 }));
    expect(anonymous.status).toBe(403);
    expect(await anonymous.json()).toEqual({ error: 'Sign in first.' });
    const { call } = await signedIn();
    const malformed = await call('/api/items', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    expect(malformed.status).toBe(400);
    expect((await malformed.json() as { error: string }).error).toMatch(/not valid JSON/);
    const large = await call('/api/items', json({ name: 'x'.repeat(100 * 1024), price: 1 }));
    expect(large.status).toBe(413);
    expect((await large.json() as { error: string }).error).toMatch(/102400/);
    const text = await call('/api/items', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'mug' });
    expect(text.status).toBe(415);
    expect(await text.json()).toEqual({ error: 'Send application/json.' });
    const invalid = await call('/api/items', json({ name: '', price: -1 }));
    expect(invalid.status).toBe(422);
    expect(await invalid.json()).toEqual({ error: 'name must be a non-empty string.' });
    expect(await (await call('/api/items')).json()).toEqual([]);
  });

  it('takes a photo upload (multer), serves it (sendFile: ETag, ranges) and as a download; 413, 415 and 422 for bad ones', async () => {
    const items = new Map<number, Item>([[1, { id: 1, name: 'mug', price: 9 }]]);
    const { call } = await start({ items });
    expect((await call('/api/items/1/photo')).status).toBe(404);
    const png = new Uint8Array(2048).map((_, i) => i % 251);
    const form = new FormData();
    form.set('photo', new Blob([png], { type: 'image/png' }), '../../mug.png');
    expect((await call('/api/items/1/photo', { method: 'POST', body: form })).status).toBe(204);
    expect(items.get(1)!.photo!.path.startsWith(uploads)).toBe(true);
    const photo = await call('/api/items/1/photo');
    expect(photo.status).toBe(200);
    expect(photo.headers.get('content-type')).toBe('image/png');
    expect(photo.headers.get('etag')).toMatch(/^"/);
    expect(new Uint8Array(await photo.arrayBuffer())).toEqual(png);
    const range = await call('/api/items/1/photo', { headers: { range: 'bytes=0-9' } });
    expect(range.status).toBe(206);
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(png.slice(0, 10));
    const download = await call('/api/items/1/photo?download');
    expect(download.headers.get('content-disposition')).toBe('attachment; filename=mug.png');
    await download.arrayBuffer();

    const big = new FormData();
    big.set('photo', new Blob([new Uint8Array(1024 * 1024 + 1)], { type: 'image/png' }), 'big.png');
    const tooLarge = await call('/api/items/1/photo', { method: 'POST', body: big });
    expect(tooLarge.status).toBe(413);
    expect((await tooLarge.json() as { error: string }).error).toMatch(/maxFileSize/);
    const notImage = new FormData();
    notImage.set('photo', new Blob(['#!/bin/sh'], { type: 'text/x-sh' }), 'run.sh');
    expect((await call('/api/items/1/photo', { method: 'POST', body: notImage })).status).toBe(415);
    const none = new FormData();
    none.set('note', 'no file');
    expect((await call('/api/items/1/photo', { method: 'POST', body: none })).status).toBe(422);
    expect((await call('/api/items/2/photo', { method: 'POST', body: form })).status).toBe(404);
  });

  it("tags each answer in memory and answers 304 to the tag, as res.send did (the 'etag' setting)", async () => {
    const items = new Map<number, Item>([[1, { id: 1, name: 'mug', price: 9 }]]);
    const { call } = await start({ items });
    for (const url of ['/api/items', '/api/items/1', '/api/items.csv', '/']) {
      const first = await call(url);
      const tag = first.headers.get('etag');
      expect(tag, url).toMatch(/^"[^"]+"$/);
      const again = await call(url, { headers: { 'if-none-match': tag! } });
      expect(again.status, url).toBe(304);
      expect(await again.text(), url).toBe('');
    }
    // A write is not: its answer is made after it.
    expect((await call('/api/items', { ...json({ name: 'cup', price: 2 }), headers: { 'content-type': 'application/json', 'if-none-match': '*' } })).headers.get('etag')).toBeNull();
  });

  it('sends the items as a CSV attachment (res.attachment)', async () => {
    const items = new Map<number, Item>([[1, { id: 1, name: 'mug, "large"', price: 9 }]]);
    const { call } = await start({ items });
    const csv = await call('/api/items.csv');
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename=items.csv');
    expect(await csv.text()).toBe('id,name,price\r\n1,"mug, ""large""",9\r\n');
  });

  it('reads req.ip and req.protocol from one trusted proxy (trust proxy 1)', async () => {
    const { call } = await start();
    expect(await (await call('/api/whoami')).json()).toEqual({ ip: '127.0.0.1', protocol: 'http', hostname: '127.0.0.1', secure: false });
    const proxied = await call('/api/whoami', { headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example' } });
    expect(await proxied.json()).toEqual({ ip: '203.0.113.7', protocol: 'https', hostname: 'shop.example', secure: true });
  });

  it('answers CORS preflights for the front end, with credentials, and nothing for another origin', async () => {
    const { call } = await start();
    const preflight = await call('/api/items', { method: 'OPTIONS', headers: { origin: FRONT_END, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(FRONT_END);
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    const list = await call('/api/items', { headers: { origin: FRONT_END } });
    expect(list.headers.get('access-control-allow-origin')).toBe(FRONT_END);
    expect(list.headers.get('access-control-expose-headers')).toBe('Location');
    const other = await call('/api/items', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('logs a crash with its stack and answers {"error": "Internal Server Error"} (the error-handling middleware)', async () => {
    const captured = errorLog();
    const broken = new Map<number, Item>();
    broken.values = () => { throw new Error('the database is down'); };
    const { call } = await start({ items: broken, errorLog: captured });
    const res = await call('/api/items');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'Internal Server Error' });
    expect(captured.text).toContain('Error: the database is down');
  });
});

describe('examples/from-express.ts in-process (supertest → TestClient)', () => {
  it('signs in through the page\'s form and creates an item', async () => {
    const client = new TestClient(createApp({ secret: SECRET, uploads }));
    const page = await client.get('/');
    const home = await page.form().set('user', 'ada').submit({ followRedirects: 1 });
    expect(home.textBody).toContain('Hello, ada');
    const created = await client.post('/api/items', { json: { name: 'mug', price: 1 } });
    expect(created.statusCode).toBe(201);
    expect((await client.get('/api/items/2', { status: 404 })).statusCode).toBe(404);
  });
});
