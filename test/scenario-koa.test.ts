/**
 * Scenario: a Koa service ported to tsgi as docs/express.md ("Coming from Koa") says. The Koa
 * original (koa, @koa/router, @koa/bodyparser) runs beside the port: JSON CRUD routes with
 * params, an error-handling middleware that answers `{ error }` for `ctx.throw(404/415/422)`,
 * a signed cookie (`app.keys`, `ctx.cookies.set(…, { signed: true })`), `ctx.back()` after a
 * login, a download with `ctx.attachment()`, `ctx.request.ip` behind `app.proxy = true`, a
 * timing middleware that sets `X-Response-Time` after `await next()`, and a form POST. Both
 * are asked the same requests over real sockets; where the answers differ, the test says how,
 * and the docs say why.
 */
import net, { type AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HTTPNotFound,
  HTTPUnprocessableContent,
  HTTPUnsupportedMediaType,
  Response,
  type ServerHandle,
  compose,
  defineEnvironKey,
  defineMiddleware,
  redirect,
  serve,
} from 'tsgi';
import { CookieSessions, errorPages, errors, proxyFix, sessionOf } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { type ClientResponse, errorLog, parseRaw, rawExchange, rawGet, request } from './node-helpers.ts';

const SECRET = 'a-koa-app-key-of-at-least-32-bytes!';
const DOWNLOAD_NAME = 'Übersicht März.csv';

interface Item {
  id: number;
  name: string;
}

function store(): { items: Map<number, Item>; add(name: string): Item } {
  const items = new Map<number, Item>([[1, { id: 1, name: 'one' }]]);
  let next = 2;
  return {
    items,
    add(name) {
      const item = { id: next++, name };
      items.set(item.id, item);
      return item;
    },
  };
}

/** Koa's `ctx.back()` (docs/express.md): the `Referer` when it is a URL of this site, else `/`. */
function back(referer: string | null, hostUrl: string): string {
  if (referer === null || !URL.canParse(referer, hostUrl)) return '/';
  const url = new URL(referer, hostUrl);
  return url.origin === new URL(hostUrl).origin ? url.href : '/';
}

// ---- The Koa original ----------------------------------------------------------------------

function koaService(): Koa {
  const db = store();
  const app = new Koa({ keys: [SECRET], proxy: true });
  app.use(async (ctx, next) => {
    const start = performance.now();
    try {
      await next();
    } finally {
      ctx.set('X-Response-Time', `${(performance.now() - start).toFixed(1)}ms`);
    }
  });
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const error = err as { status?: number; expose?: boolean; message: string };
      ctx.status = error.status ?? 500;
      ctx.body = { error: error.expose === true ? error.message : 'Internal Server Error' };
    }
  });
  app.use(bodyParser({ enableTypes: ['json', 'form'], jsonLimit: '1kb', formLimit: '1kb' }));
  const router = new Router();
  router.get('/items', (ctx) => {
    ctx.body = [...db.items.values()];
  });
  router.get('/items/:id', (ctx) => {
    const item = db.items.get(Number(ctx.params.id));
    if (!item) ctx.throw(404, 'no such item');
    ctx.body = item;
  });
  router.post('/items', (ctx) => {
    if (!ctx.is('json')) ctx.throw(415, 'send JSON');
    const name = (ctx.request.body as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string' || name === '') return ctx.throw(422, 'name is required');
    ctx.status = 201;
    const item = db.add(name);
    ctx.set('Location', `/items/${item.id}`);
    ctx.body = item;
  });
  router.post('/login', (ctx) => {
    const user = (ctx.request.body as { user?: string } | undefined)?.user ?? 'anon';
    ctx.cookies.set('user', user, { signed: true, httpOnly: true, sameSite: 'lax' });
    ctx.back();
  });
  router.get('/me', (ctx) => {
    ctx.body = { user: ctx.cookies.get('user', { signed: true }) ?? null };
  });
  router.get('/download', (ctx) => {
    ctx.attachment(DOWNLOAD_NAME);
    ctx.body = 'a,b\n1,2\n';
  });
  router.get('/ip', (ctx) => {
    ctx.body = { ip: ctx.request.ip };
  });
  router.get('/boom', () => {
    throw new Error('secret detail');
  });
  app.use(router.routes()).use(router.allowedMethods());
  app.silent = true;
  return app;
}

// ---- The tsgi port ---------------------------------------------------------------------------

const startKey = defineEnvironKey<number>('koa_port.start');

/** The timing middleware: `ctx.state.start` is an environ key, `await next()` the two hooks. */
const responseTime = defineMiddleware({
  before(req) {
    startKey.set(req, performance.now());
  },
  after(req, res) {
    res.headers.set('X-Response-Time', `${(performance.now() - startKey.get(req)!).toFixed(1)}ms`);
  },
});

/** The error-handling middleware: every error page as `{ error }`, the router's 404/405 too. */
const jsonErrors = (app: Parameters<typeof errorPages>[0]) =>
  errorPages(app, { render: (error) => Response.json({ error: error.detail ?? error.title }) });

function tsgiService() {
  const db = store();
  const routes = new RouteMap({
    items: { path: '/items', methods: ['GET', 'POST'] },
    item: '/items/<int:id>',
    login: { path: '/login', methods: ['POST'] },
    me: '/me',
    download: '/download',
    ip: '/ip',
    boom: '/boom',
  });
  const site = routes.app({
    items: async (req) => {
      if (req.method !== 'POST') return Response.json([...db.items.values()]);
      if (req.contentType !== 'application/json') throw new HTTPUnsupportedMediaType('send JSON');
      const body = (await req.json({ maxBodySize: 1024 })) as { name?: unknown } | null;
      const name = body?.name;
      if (typeof name !== 'string' || name === '') throw new HTTPUnprocessableContent('name is required');
      const item = db.add(name);
      const res = Response.json(item, { status: 201 });
      res.location = `/items/${item.id}`;
      return res;
    },
    item: (_req, { id }) => {
      const item = db.items.get(id);
      if (!item) throw new HTTPNotFound('no such item');
      return Response.json(item);
    },
    login: async (req) => {
      const form = await req.form({ maxBodySize: 1024 });
      sessionOf(req).set('user', form.get('user') ?? 'anon');
      return redirect(back(req.referer, req.hostUrl), 302);
    },
    me: (req) => Response.json({ user: sessionOf(req).get<string>('user') ?? null }),
    download: () => {
      const res = new Response('a,b\n1,2\n', { contentType: 'text/csv' });
      res.attachment(DOWNLOAD_NAME);
      return res;
    },
    ip: (req) => Response.json({ ip: req.remoteAddr }),
    boom: () => {
      throw new Error('secret detail');
    },
  });
  const sessions = new CookieSessions({ secret: SECRET, cookieName: 'user' });
  return compose((app) => proxyFix(app, { xFor: 1, xProto: 1 }), responseTime, jsonErrors, errors, sessions.middleware)(site);
}

// ---- Side by side ----------------------------------------------------------------------------

const log = errorLog();
let koaServer: Server;
let tsgiServer: ServerHandle;
let koa: string;
let port: number;
let tsgi: string;

beforeAll(async () => {
  koaServer = koaService().listen(0, '127.0.0.1');
  await new Promise((resolve) => koaServer.once('listening', resolve));
  koa = `http://127.0.0.1:${(koaServer.address() as AddressInfo).port}`;
  tsgiServer = await serve(tsgiService(), { host: '127.0.0.1', port: 0, log });
  tsgi = tsgiServer.url;
  port = tsgiServer.port;
});

afterAll(async () => {
  await tsgiServer.close();
  await new Promise((resolve) => koaServer.close(resolve));
});

type Init = Parameters<typeof request>[1];
const both = (path: string, init?: Init): Promise<[ClientResponse, ClientResponse]> =>
  Promise.all([request(koa + path, init), request(tsgi + path, init)]);
const json = (res: ClientResponse): unknown => JSON.parse(res.body.toString('utf8'));
const post = (body: string, type = 'application/json', headers: Record<string, string> = {}): Init => ({
  method: 'POST',
  headers: { 'content-type': type, ...headers },
  body,
});

describe('a Koa JSON service ported to tsgi', () => {
  it('answers the CRUD routes as Koa does, JSON without its charset parameter', async () => {
    const [kList, tList] = await both('/items');
    expect(json(tList)).toEqual(json(kList));
    expect(kList.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(tList.headers['content-type']).toBe('application/json');

    const [kMade, tMade] = await both('/items', post('{"name":"two"}'));
    expect([kMade.status, tMade.status]).toEqual([201, 201]);
    expect(json(tMade)).toEqual(json(kMade));
    expect(tMade.headers.location).toBe('/items/2'); // res.location is sent as given, as ctx.set does

    const [kOne, tOne] = await both('/items/2');
    expect(json(tOne)).toEqual({ id: 2, name: 'two' });
    expect(json(kOne)).toEqual(json(tOne));
  });

  it('answers ctx.throw-style errors as { error }, with the reason for bad input', async () => {
    const [kMissing, tMissing] = await both('/items/99');
    expect([kMissing.status, tMissing.status]).toEqual([404, 404]);
    expect(json(tMissing)).toEqual({ error: 'no such item' });
    expect(json(kMissing)).toEqual(json(tMissing));

    const [kType, tType] = await both('/items', post('{"name":"x"}', 'text/plain'));
    expect([kType.status, tType.status]).toEqual([415, 415]);
    expect(json(tType)).toEqual({ error: 'send JSON' });

    const [kName, tName] = await both('/items', post('{}'));
    expect([kName.status, tName.status]).toEqual([422, 422]);
    expect(json(tName)).toEqual(json(kName));

    // Bad JSON: both 400; tsgi says why, where koa-bodyparser's error is not exposed.
    const [kBad, tBad] = await both('/items', post('{"name":'));
    expect([kBad.status, tBad.status]).toEqual([400, 400]);
    expect(json(tBad)).toEqual({ error: expect.stringMatching(/^The body is not valid JSON: /) });

    // Past the limit: 413, named in the answer, for a declared length and for a chunked body.
    const big = JSON.stringify({ name: 'a'.repeat(3000) });
    const [kBig, tBig] = await both('/items', post(big));
    expect([kBig.status, tBig.status]).toEqual([413, 413]);
    expect(json(tBig)).toEqual({ error: 'maxBodySize exceeded: the request body is larger than 1024 bytes' });
    const chunked = await request(`${tsgi}/items`, post(big, 'application/json', { 'transfer-encoding': 'chunked' }));
    expect(chunked.status).toBe(413);

    // A top-level null is valid JSON here (koa-bodyparser's strict mode: 400): the handler's check answers.
    const tNull = await request(`${tsgi}/items`, post('null'));
    expect(tNull.status).toBe(422);
  });

  it('renders the router\'s 404 and 405 through the same JSON errors, with Allow', async () => {
    // Koa's unknown route never reaches the error middleware: its own plain "Not Found".
    const [kUnknown, tUnknown] = await both('/nope');
    expect([kUnknown.status, tUnknown.status]).toEqual([404, 404]);
    expect(kUnknown.body.toString()).toBe('Not Found');
    expect(json(tUnknown)).toEqual({ error: 'Not Found' });

    // @koa/router takes /items/abc to the handler; <int:id> answers the 404 before it.
    expect((await request(`${tsgi}/items/abc`)).status).toBe(404);

    const [kPut, tPut] = await both('/items/1', { method: 'PUT' });
    expect([kPut.status, tPut.status]).toEqual([405, 405]);
    expect(kPut.headers.allow).toBe('HEAD, GET');
    expect(tPut.headers.allow).toBe('GET, HEAD, OPTIONS');
    expect(json(tPut)).toEqual({ error: 'Method Not Allowed' });

    const [kOptions, tOptions] = await both('/items', { method: 'OPTIONS' });
    expect([kOptions.status, tOptions.status]).toEqual([200, 204]);
    expect(tOptions.headers.allow).toBe('GET, HEAD, OPTIONS, POST');

    // Koa's router is not strict about a trailing slash; a RouteMap rule is, unless strictSlashes: false.
    const [kSlash, tSlash] = await both('/items/');
    expect([kSlash.status, tSlash.status]).toEqual([200, 404]);
  });

  it('answers HEAD with the GET head and no body', async () => {
    const [kHead, tHead] = await both('/items/1', { method: 'HEAD' });
    const tGet = await request(`${tsgi}/items/1`);
    expect([kHead.status, tHead.status]).toEqual([200, 200]);
    expect(tHead.body.length).toBe(0);
    expect(tHead.headers['content-length']).toBe(String(tGet.body.length));
    expect(tHead.headers['x-response-time']).toMatch(/^\d+\.\dms$/);
  });

  it('sets X-Response-Time on every answer, errors and the 500 included, as the Koa finally does', async () => {
    for (const [path, init] of [
      ['/items/1', undefined],
      ['/items/99', undefined],
      ['/nope', undefined],
      ['/items/1', { method: 'PUT' }],
      ['/items', post('{"name":')],
      ['/boom', undefined],
    ] as Array<[string, Init]>) {
      const [kRes, tRes] = await both(path, init);
      expect(tRes.status, path).toBe(kRes.status);
      expect(kRes.headers['x-response-time'], path).toMatch(/^\d+\.\dms$/);
      expect(tRes.headers['x-response-time'], path).toMatch(/^\d+\.\dms$/);
    }
    const boom = await request(`${tsgi}/boom`);
    expect(json(boom)).toEqual({ error: 'Internal Server Error' });
    expect(log.text).toContain('Error: secret detail');
    expect(boom.body.toString()).not.toContain('secret');
  });

  it('keeps the signed login cookie as one HttpOnly, SameSite=Lax cookie, Secure behind an https proxy', async () => {
    const form = post('user=ada', 'application/x-www-form-urlencoded');
    const [kLogin, tLogin] = await both('/login', form);
    expect([kLogin.status, tLogin.status]).toEqual([302, 302]);
    // Koa: the value in clear and its signature in a second cookie, user.sig.
    expect(kLogin.headers['set-cookie']).toHaveLength(2);
    expect(kLogin.headers['set-cookie']![1]).toMatch(/^user\.sig=/);
    const [cookie] = tLogin.headers['set-cookie']!;
    expect(tLogin.headers['set-cookie']).toHaveLength(1);
    expect(cookie).toMatch(/^user=[\w-]+\.[\w-]+; Max-Age=2678400; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
    const pair = cookie!.split(';')[0]!;
    expect(json(await request(`${tsgi}/me`, { headers: { cookie: pair } }))).toEqual({ user: 'ada' });

    // A changed value or signature is no login, as a Koa cookie whose .sig does not match.
    const forged = `${pair.slice(0, -2)}${pair.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(json(await request(`${tsgi}/me`, { headers: { cookie: forged } }))).toEqual({ user: null });
    expect(json(await request(`${koa}/me`, { headers: { cookie: 'user=root; user.sig=forged' } }))).toEqual({ user: null });

    // Behind a TLS proxy (proxyFix xProto) the cookie is Secure with nothing said.
    const secure = await request(`${tsgi}/login`, post('user=ada', 'application/x-www-form-urlencoded', { 'x-forwarded-proto': 'https' }));
    expect(secure.headers['set-cookie']![0]).toMatch(/; HttpOnly; Secure; SameSite=Lax$/);
    expect(secure.headers.location).toBe(`https://127.0.0.1:${port}/`);
  });

  it('redirects back to a Referer on this host only, with an absolute Location', async () => {
    const form = (referer: string) => post('user=ada', 'application/x-www-form-urlencoded', { referer });
    const here = `${tsgi}/items?page=2`;
    expect((await request(`${tsgi}/login`, form(here))).headers.location).toBe(here);
    expect((await request(`${tsgi}/login`, form('http://evil.example/x'))).headers.location).toBe(`${tsgi}/`);
    expect((await request(`${koa}/login`, form('http://evil.example/x'))).headers.location).toBe('/');
    for (const elsewhere of ['//evil.example/x', 'https://127.0.0.1/x', 'javascript:alert(1)', 'http://[']) {
      expect((await request(`${tsgi}/login`, form(elsewhere))).headers.location, elsewhere).toBe(`${tsgi}/`);
    }
  });

  it('names a non-ASCII download with filename* and an ASCII fallback', async () => {
    const [kFile, tFile] = await both('/download');
    // Koa's content-disposition puts a Latin-1 name in filename alone, no filename*: the name is lost on the way.
    expect(kFile.headers['content-disposition']).toMatch(/^attachment; filename="[^"]*bersicht M[^"]*rz\.csv"$/);
    expect(kFile.headers['content-disposition']).not.toContain(DOWNLOAD_NAME);
    expect(tFile.headers['content-disposition']).toBe(
      `attachment; filename="Ubersicht Marz.csv"; filename*=UTF-8''%C3%9Cbersicht%20M%C3%A4rz.csv`,
    );
    expect(tFile.headers['content-type']).toBe('text/csv; charset=utf-8');
  });

  it('takes the client address one trusted hop from the right, where Koa takes the leftmost', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' };
    const [kIp, tIp] = await both('/ip', { headers });
    expect(json(kIp)).toEqual({ ip: '203.0.113.9' });
    expect(json(tIp)).toEqual({ ip: '198.51.100.7' });
  });

  it('refuses malformed input with a short 400, and survives a client that hangs up mid-body', async () => {
    const escape = parseRaw((await rawExchange(port, rawGet('/items/%zz'))).raw);
    expect(escape.status).toBe(400);
    expect(escape.rest).toContain('malformed percent-escape');

    // A client that sends half its body and leaves: no answer to give, nothing logged.
    const logged = log.messages.length;
    await new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write('POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":', () =>
          socket.destroy(),
        );
      });
      socket.on('close', () => resolve());
    });
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => request(`${tsgi}/items`, post(`{"name":"c${i}"}`))));
    expect(created.map((res) => res.status)).toEqual(Array(20).fill(201));
    expect(new Set(created.map((res) => (json(res) as Item).id)).size).toBe(20);
    expect(log.messages.slice(logged)).toEqual([]);
  });
});
