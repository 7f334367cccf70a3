/**
 * Scenario: a production Express 5 app that adopts tsgi piece by piece, following
 * docs/express.md ("Inside an existing Express app") and the pages it links. Express stays in
 * front with its usual stack (a logger, `trust proxy`, a body parser on some routes, an error
 * handler); tsgi apps are mounted under it with `toNodeHandler`: a `Request.application` API, a
 * `RouteMap`, `directoryApp`, a `proxy`, a streamed answer, an upload, an app that throws. Every
 * request goes over a real socket, and where it matters the same tsgi site is asked through
 * `serve()` alone, so the answers can be compared. What differs from a plain Express handler is
 * said where it is checked.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, Response, type ServerHandle, defineEnvironKey, defineMiddleware, redirect, serve } from 'tsgi';
import { directoryApp, mount, proxyFix } from 'tsgi/middleware';
import { toNodeHandler } from 'tsgi/node';
import { quotePath } from 'tsgi/http';
import { proxy, rewriteLocation } from 'tsgi/proxy';
import { RouteMap } from 'tsgi/routing';
import { type ErrorLog, errorLog, sleep, until } from './node-helpers.ts';

const encoder = new TextEncoder();
/** What the tsgi apps saw or did, in order (a generator's `finally`, an answer after the client left). */
const events: string[] = [];
/** Express's logging middleware: `METHOD url status` at `finish`, `CLOSED url` when the connection closed first. */
const expressLog: string[] = [];
/** What Express's `(err, req, res, next)` handler was given. */
const expressErrors: string[] = [];

/** `res.locals.tenant`, carried into the app as docs/server.md shows (AsyncLocalStorage and a typed key). */
const tenantKey = defineEnvironKey<string>('scenario.tenant');
const expressRequest = new AsyncLocalStorage<express.Request>();
const fromExpress = defineMiddleware({
  before(req) {
    const tenant = (expressRequest.getStore()?.res?.locals as { tenant?: string } | undefined)?.tenant;
    if (tenant !== undefined) tenantKey.set(req, tenant);
  },
});

const api = Request.application(async (req) => {
  if (req.method === 'POST') return Response.json({ got: await req.json() });
  await sleep(Number(req.query.get('wait') ?? 0));
  return Response.json({
    scriptName: req.scriptName,
    pathInfo: req.pathInfo,
    url: req.url,
    applicationUrl: req.applicationUrl,
    remoteAddr: req.remoteAddr,
    tenant: tenantKey.get(req) ?? null,
  });
});

const routes = new RouteMap({ index: '/', item: '/items/<int:id>', go: '/go', name: '/name/<name>' });
const routed = routes.app({
  index: (_req, _values, urls) => `index, see ${urls.build('item', { id: 3 })}`,
  item: (_req, { id }, urls) => Response.json({ id, self: urls.build('item', { id }) }),
  go: (_req, _values, urls) => redirect(urls.build('item', { id: 9 }), 302),
  name: (_req, { name }) => `name=${name}`,
});

const ticker = Request.application(
  (req) =>
    new Response(
      (async function* () {
        try {
          for (let i = 0; i < 200; i++) {
            yield encoder.encode(`tick ${i}\n`);
            await sleep(10);
          }
        } finally {
          events.push(`ticker finally, signal aborted: ${req.signal.aborted}`);
        }
      })(),
    ),
);

const late = Request.application(async (req) => {
  await sleep(150);
  events.push(`late answers, signal aborted: ${req.signal.aborted}`);
  return 'too late';
});

const upload = Request.application(async (req) => {
  const files = await req.files();
  const form = await req.form();
  const file = files.get('file');
  return `file ${file?.filename} ${file?.size} bytes, note=${form.get('note')}`;
});

const boom = Request.application(() => {
  throw new Error('tsgi kaboom');
});

let dir: string;
let upstream: http.Server;
let web: http.Server;
let alone: ServerHandle;
let base: string;
let log: ErrorLog;

/** The tsgi site, mounted under Express at `/v2` and served alone by `serve()`. */
function site(upstreamUrl: string, root: string) {
  return fromExpress(
    mount({
      '/api': api,
      '/r': routed,
      '/static': directoryApp(root),
      '/up': rewriteLocation(proxy(upstreamUrl), { upstream: upstreamUrl }),
      '/ticker': ticker,
      '/late': late,
      '/upload': upload,
      '/boom': boom,
    }),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-scen-express-'));
  writeFileSync(path.join(dir, 'hello.txt'), 'Hello, static world!\n');
  const old = new Date('2024-01-02T03:04:05Z');
  utimesSync(path.join(dir, 'hello.txt'), old, old);

  upstream = http.createServer((req, res) => {
    if (req.url === '/moved') {
      res.writeHead(302, { location: '/landing' }).end();
      return;
    }
    res.end(`upstream: ${req.url} prefix=${req.headers['x-forwarded-prefix']}`);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  log = errorLog();
  const tsgiSite = site(upstreamUrl, dir);
  const handler = toNodeHandler(tsgiSite, { log });
  const app = express();
  app.set('trust proxy', 1);
  app.use((req, res, next) => {
    res.on('finish', () => expressLog.push(`${req.method} ${req.originalUrl} ${res.statusCode}`));
    res.on('close', () => {
      if (!res.writableFinished) expressLog.push(`CLOSED ${req.originalUrl}`);
    });
    res.locals.tenant = String(req.query.tenant ?? 'none');
    next();
  });
  // Before the mount: the body parser takes JSON bodies of /json-first only.
  app.use('/json-first', express.json(), (req, res) => expressRequest.run(req, () => handler(req, res)));
  app.use('/v2', (req, res) => expressRequest.run(req, () => handler(req, res)));
  app.use('/v2-behind-proxy', toNodeHandler(proxyFix(tsgiSite, { xFor: 1 }), { log }));
  app.get('/v2/legacy', (_req, res) => {
    res.send('never reached: the tsgi mount answers everything under /v2');
  });
  app.get('/express/ip', (req, res) => {
    res.json({ ip: req.ip });
  });
  app.get('/express/boom', () => {
    throw new Error('express kaboom');
  });
  app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    expressErrors.push(err.message);
    res.status(500).send('Express error handler');
  });
  web = await new Promise<http.Server>((resolve) => {
    const server: http.Server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
  base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  alone = await serve(tsgiSite, { port: 0, log: errorLog() });
});

afterAll(async () => {
  web.closeAllConnections();
  await new Promise((resolve) => web.close(resolve));
  await alone.close({ timeout: 100 });
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** GET (or `init`) without following redirects. */
const get = (url: string, init: RequestInit = {}) => fetch(url, { redirect: 'manual', ...init });

/** The JSON object a GET of `url` answers, one of its fields read. */
async function field(url: string, name: string, init: RequestInit = {}): Promise<unknown> {
  return ((await (await get(url, init)).json()) as Record<string, unknown>)[name];
}

describe('the mount prefix: Express’s mount path is SCRIPT_NAME, and what the app builds stays under it', () => {
  it('splits the path as serve() does, with /v2 in front', async () => {
    const under = await (await get(`${base}/v2/api/x/y?q=1`)).json();
    const served = await (await get(`${alone.url}/api/x/y?q=1`)).json();
    expect(under).toMatchObject({ scriptName: '/v2/api', pathInfo: '/x/y', url: `${base}/v2/api/x/y?q=1`, applicationUrl: `${base}/v2/api` });
    expect(served).toMatchObject({ scriptName: '/api', pathInfo: '/x/y', url: `${alone.url}/api/x/y?q=1` });
    // The mount path itself, which Express hands on as `/`, is an empty PATH_INFO, as under mount().
    expect(await (await get(`${base}/v2/api`)).json()).toMatchObject({ scriptName: '/v2/api', pathInfo: '' });
  });

  it('builds URLs and redirects under /v2: urls.build, the slash redirect, a handler’s redirect', async () => {
    expect(await (await get(`${base}/v2/r/`)).text()).toBe('index, see /v2/r/items/3');
    expect(await (await get(`${base}/v2/r/items/3`)).json()).toEqual({ id: 3, self: '/v2/r/items/3' });
    const slash = await get(`${base}/v2/r`);
    expect([slash.status, slash.headers.get('location')]).toEqual([308, `${base}/v2/r/`]);
    const go = await get(`${base}/v2/r/go`);
    expect([go.status, go.headers.get('location')]).toEqual([302, `${base}/v2/r/items/9`]);
    const dirRedirect = await get(`${base}/v2/static`);
    expect(dirRedirect.headers.get('location')).toBe(`${base}/v2/static/`);
  });

  it('decodes escapes as serve() does; an escape of a plain character is a relative 308 to its plain spelling under Express only', async () => {
    expect(await (await get(`${base}/v2/r/name/a%20b%C3%A9`)).text()).toBe('name=a bé');
    expect(await (await get(`${alone.url}/r/name/%61`)).text()).toBe('name=a');
    const plain = await get(`${base}/v2/r/name/%61?x=1`);
    // Express routes on the raw path, so its guards would not see /v2/r/name/a: sent there first (server.md).
    expect([plain.status, plain.headers.get('location')]).toEqual([308, '/v2/r/name/a?x=1']);
    // encodeURIComponent's escapes of sub-delims and `@` take the same round trip; quotePath's spelling does not.
    const email = await get(`${base}/v2/r/name/${encodeURIComponent('ada@example.com')}`);
    expect([email.status, email.headers.get('location')]).toEqual([308, '/v2/r/name/ada@example.com']);
    expect(await (await get(`${base}/v2/r/name/${quotePath('ada@example.com')}`)).text()).toBe('name=ada@example.com');
  });
});

describe('static files under the mount: HEAD, conditional GETs and ranges, as serve() answers them', () => {
  it('answers the same status and validators through Express and alone', async () => {
    for (const url of [`${base}/v2/static/hello.txt`, `${alone.url}/static/hello.txt`]) {
      const full = await get(url);
      expect(await full.text()).toBe('Hello, static world!\n');
      const tag = full.headers.get('etag')!;
      expect(tag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/); // strong, where express.static's is weak
      const head = await get(url, { method: 'HEAD' });
      expect([head.status, head.headers.get('content-length'), head.headers.get('etag')]).toEqual([200, '21', tag]);
      expect((await get(url, { headers: { 'if-none-match': tag } })).status).toBe(304);
      expect((await get(url, { headers: { 'if-modified-since': full.headers.get('last-modified')! } })).status).toBe(304);
      const part = await get(url, { headers: { range: 'bytes=0-4' } });
      expect([part.status, part.headers.get('content-range'), await part.text()]).toEqual([206, 'bytes 0-4/21', 'Hello']);
      const beyond = await get(url, { headers: { range: 'bytes=100-200' } });
      expect([beyond.status, beyond.headers.get('content-range')]).toEqual([416, 'bytes */21']);
    }
  });
});

describe('request bodies', () => {
  it('reads a JSON body and a multipart upload through Express; a malformed one is a 400', async () => {
    const json = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' };
    expect(await (await get(`${base}/v2/api/`, json)).json()).toEqual({ got: { a: 1 } });
    const bad = await get(`${base}/v2/api/`, { ...json, body: '{"a":' });
    expect(bad.status).toBe(400);
    const form = new FormData();
    form.append('note', 'hi');
    form.append('file', new Blob(['hello']), 'h.txt');
    expect(await (await get(`${base}/v2/upload/`, { method: 'POST', body: form })).text()).toBe('file h.txt 5 bytes, note=hi');
  });

  it('fails the app’s read of a body express.json() took with a logged 500 naming it, as docs/express.md says', async () => {
    const res = await get(`${base}/json-first/api/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(res.status).toBe(500);
    expect(log.text).toContain('the request body was read before toNodeHandler');
    // A type the parser leaves alone reaches the app whole.
    const text = await get(`${base}/json-first/api/?wait=0`);
    expect(text.status).toBe(200);
  });
});

describe('errors and paths the app does not know', () => {
  it('answers the app’s throw itself (a logged 500); Express’s error handler never sees it, Express’s logger does', async () => {
    const res = await get(`${base}/v2/boom/`);
    expect([res.status, await res.text()]).toEqual([500, 'Internal Server Error\n']);
    expect(log.text).toContain('[tsgi] GET /v2/boom/ HTTP/1.1: Error: tsgi kaboom');
    expect(expressErrors).toEqual([]);
    expect(expressLog).toContain('GET /v2/boom/ 500');
    // Express's own route still goes to its handler.
    expect(await (await get(`${base}/express/boom`)).text()).toBe('Express error handler');
    expect(expressErrors).toEqual(['express kaboom']);
  });

  it('answers 404 under its mount path itself: an Express route registered after it is never reached', async () => {
    const res = await get(`${base}/v2/legacy`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('never reached');
  });
});

describe('request-scoped data and the client’s address', () => {
  it('gets res.locals per request through AsyncLocalStorage, concurrent requests kept apart', async () => {
    const answers = await Promise.all(
      ['a', 'b', 'c'].map((tenant, i) => field(`${base}/v2/api/?tenant=${tenant}&wait=${30 - i * 10}`, 'tenant')),
    );
    expect(answers).toEqual(['a', 'b', 'c']);
  });

  it('keeps REMOTE_ADDR the peer’s under Express’s trust proxy until the app has proxyFix', async () => {
    const headers = { 'x-forwarded-for': '198.51.100.7, 203.0.113.9' };
    expect(await field(`${base}/express/ip`, 'ip', { headers })).toBe('203.0.113.9');
    expect(await field(`${base}/v2/api/`, 'remoteAddr', { headers })).toBe('127.0.0.1');
    expect(await field(`${base}/v2-behind-proxy/api/`, 'remoteAddr', { headers })).toBe('203.0.113.9');
  });
});

describe('the proxy under the mount', () => {
  it('announces the whole prefix upstream and maps the upstream’s redirect back under it', async () => {
    expect(await (await get(`${base}/v2/up/a/b?x=1`)).text()).toBe('upstream: /a/b?x=1 prefix=/v2/up');
    const moved = await get(`${base}/v2/up/moved`);
    expect([moved.status, moved.headers.get('location')]).toEqual([302, '/v2/up/landing']);
    // An escaped slash: forwarded as sent under serve(); under Express first sent to its plain spelling.
    expect(await (await get(`${alone.url}/up/a%2Fb`)).text()).toBe('upstream: /a%2Fb prefix=/up');
    const escaped = await get(`${base}/v2/up/a%2Fb`);
    expect([escaped.status, escaped.headers.get('location')]).toEqual([308, '/v2/up/a/b']);
  });
});

describe('clients that leave', () => {
  it('closes a stream the client left (its finally runs, its signal aborted), logs no error, and Express sees the close', async () => {
    let received = '';
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${base}/v2/ticker/`, (res) => {
        res.on('data', (chunk: Buffer) => {
          received += chunk.toString();
          if (received.includes('tick 2')) req.destroy();
        });
        res.on('error', () => undefined);
        res.on('close', resolve);
      });
      req.on('error', () => undefined);
      setTimeout(() => reject(new Error('no ticks')), 5000).unref();
    });
    await until(() => events.includes('ticker finally, signal aborted: true'));
    await until(() => expressLog.includes('CLOSED /v2/ticker/'));
    expect(log.text).not.toContain('/v2/ticker/');
  });

  it('drops the answer of an app that answers after the client left', async () => {
    const req = http.get(`${base}/v2/late/`);
    req.on('error', () => undefined);
    await sleep(30);
    req.destroy();
    await until(() => events.includes('late answers, signal aborted: true'));
    await until(() => expressLog.includes('CLOSED /v2/late/'));
    expect(log.text).not.toContain('/v2/late/');
  });
});
