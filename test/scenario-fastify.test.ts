/**
 * A Fastify 5 user's port: a small todo API under `/api/v1` (a Bearer `onRequest` hook answering
 * 401, a request-id hook, JSON validation answering 400, a JSON 404 and error handler, a
 * redirect, a cookie, `trustProxy`), written once in Fastify and once in tsgi from docs/fastify.md,
 * both served on 127.0.0.1 and driven with the same requests over real sockets: the statuses,
 * key header fields and bodies must agree, or differ only where docs/fastify.md says they do.
 * One test drives the tsgi port in-process with TestClient, as `fastify.inject()` would.
 */
import { STATUS_CODES } from 'node:http';
import { request as httpRequest } from 'node:http';
import { parseCookie, stringifySetCookie } from 'cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type App,
  HTTPBadRequest,
  HTTPNotFound,
  HTTPUnauthorized,
  HTTPUnsupportedMediaType,
  Response,
  type ServerHandle,
  compose,
  defineMiddleware,
  redirect,
  serve,
} from 'tsgi';
import { errorPages, errors, mount, proxyFix, requestId, safeCompare } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';

const TOKEN = 'let-me-in';
interface Todo { id: number; title: string; done: boolean }

function validTodo(body: unknown): { title: string; done: boolean } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HTTPBadRequest('body must be object');
  const { title, done } = body as { title?: unknown; done?: unknown };
  if (title === undefined) throw new HTTPBadRequest("body must have required property 'title'");
  if (typeof title !== 'string') throw new HTTPBadRequest('body/title must be string');
  if (title.length < 1) throw new HTTPBadRequest('body/title must NOT have fewer than 1 characters');
  if (done !== undefined && typeof done !== 'boolean') throw new HTTPBadRequest('body/done must be boolean');
  return { title, done: done ?? false };
}

// ---------------------------------------------------------------- Fastify 5
async function buildFastify(): Promise<FastifyInstance> {
  const todos = new Map<number, Todo>();
  let next = 1;
  const fastify = Fastify({ trustProxy: '127.0.0.1', bodyLimit: 1024, requestIdHeader: 'x-request-id' });
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  fastify.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const statusCode = error.statusCode ?? 500;
    const message = statusCode >= 500 ? 'Something broke.' : error.message;
    void reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode], message });
  });
  fastify.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `No route for ${request.method} ${request.url.split('?')[0]}` });
  });
  fastify.get('/old-todos', async (_request, reply) => reply.redirect('/api/v1/todos'));
  fastify.get('/login', async (_request, reply) => {
    // @fastify/cookie's reply.setCookie, with the `cookie` package it wraps.
    void reply.header('set-cookie', stringifySetCookie({ name: 'session', value: 'abc', path: '/', httpOnly: true, maxAge: 3600 }));
    return { ok: true };
  });
  fastify.get('/whoami', async (request) => ({ session: parseCookie(request.headers.cookie ?? '').session ?? null }));
  fastify.get('/client', async (request) => ({ ip: request.ip, hostname: request.hostname, port: request.port, protocol: request.protocol }));
  await fastify.register(async (api) => {
    api.addHook('onRequest', async (request, reply) => {
      const auth = request.headers.authorization ?? '';
      if (auth !== `Bearer ${TOKEN}`) {
        return reply.code(401).header('www-authenticate', 'Bearer realm="api"')
          .send({ statusCode: 401, error: 'Unauthorized', message: 'Missing or bad token.' });
      }
    });
    api.get('/todos', async () => [...todos.values()]);
    api.get('/todos/:id', { schema: { params: { type: 'object', properties: { id: { type: 'integer' } } } } },
      async (request) => {
        const { id } = request.params as { id: number };
        const todo = todos.get(id);
        if (!todo) throw Object.assign(new Error(`Todo ${id} not found`), { statusCode: 404 });
        return todo;
      });
    api.post('/todos', {
      schema: {
        body: {
          type: 'object',
          required: ['title'],
          properties: { title: { type: 'string', minLength: 1 }, done: { type: 'boolean' } },
        },
      },
    }, async (request, reply) => {
      const { title, done = false } = request.body as { title: string; done?: boolean };
      const todo = { id: next++, title, done };
      todos.set(todo.id, todo);
      return reply.code(201).header('location', `/api/v1/todos/${todo.id}`).send(todo);
    });
    api.delete('/todos/:id', async (request, reply) => {
      const id = Number((request.params as { id: string }).id);
      if (!todos.delete(id)) throw Object.assign(new Error(`Todo ${id} not found`), { statusCode: 404 });
      return reply.code(204).send();
    });
    api.get('/boom', async () => { throw new Error('database on fire'); });
  }, { prefix: '/api/v1' });
  return fastify;
}

// ---------------------------------------------------------------- tsgi
function buildTsgi(errorLog?: { write(text: string): void }): App {
  const todos = new Map<number, Todo>();
  let next = 1;
  const routes = new RouteMap({
    todos: { path: '/todos', methods: ['GET', 'POST'] },
    todo: { path: '/todos/<int:id>', methods: ['GET', 'DELETE'] },
    boom: '/boom',
  });
  const api = routes.app({
    todos: async (req) => {
      if (req.method !== 'POST') return Response.json([...todos.values()]);
      if (req.contentType !== 'application/json') throw new HTTPUnsupportedMediaType(`Unsupported Media Type: ${req.contentType}`);
      const { title, done } = validTodo(await req.json({ maxBodySize: 1024 }));
      const todo = { id: next++, title, done };
      todos.set(todo.id, todo);
      const res = Response.json(todo, { status: 201 });
      res.location = `/api/v1/todos/${todo.id}`;
      return res;
    },
    todo: (req, { id }) => {
      const todo = todos.get(id);
      if (!todo) throw new HTTPNotFound(`Todo ${id} not found`);
      if (req.method === 'DELETE') {
        todos.delete(id);
        return new Response(null, { status: 204 });
      }
      return Response.json(todo);
    },
    boom: () => { throw new Error('database on fire'); },
  });
  const requireToken = defineMiddleware({
    before(req) {
      const auth = req.headers.get('authorization') ?? '';
      if (!safeCompare(auth, `Bearer ${TOKEN}`)) {
        throw new HTTPUnauthorized('Missing or bad token.', { wwwAuthenticate: 'Bearer realm="api"' });
      }
    },
  });
  const site = new RouteMap({ old: '/old-todos', login: '/login', whoami: '/whoami', client: '/client' }).app({
    old: () => redirect('/api/v1/todos', 302),
    login: () => {
      const res = Response.json({ ok: true });
      res.setCookie('session', 'abc', { httpOnly: true, maxAge: 3600 });
      return res;
    },
    whoami: (req) => Response.json({ session: req.cookies.session ?? null }),
    client: (req) => Response.json({ ip: req.remoteAddr, hostname: req.hostname, port: req.port, protocol: req.scheme }),
  });
  const jsonPages = (app: App) => errorPages(app, {
    render: (error, req) => Response.json({
      statusCode: error.code,
      error: error.title,
      message: error.code === 404 && error.detail === undefined ? `No route for ${req.method} ${req.scriptName}${req.pathInfo}`
        : error.code >= 500 ? 'Something broke.' : error.detail ?? error.description,
    }),
  });
  return compose(
    (app) => proxyFix(app, { xFor: 1, xProto: 1, xHost: 1, trust: ['127.0.0.1'] }),
    requestId,
    jsonPages,
    (app) => errors(app, { log: errorLog }),
  )(mount({ '/api/v1': requireToken(api), '': site }));
}

// ---------------------------------------------------------------- driving both
interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function send(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

let fastify: FastifyInstance;
let server: ServerHandle;
let fBase: string;
let tBase: string;

beforeAll(async () => {
  fastify = await buildFastify();
  fBase = await fastify.listen({ host: '127.0.0.1', port: 0 });
  server = await serve(buildTsgi({ write() {} }), { host: '127.0.0.1', port: 0, });
  tBase = server.url;
});
afterAll(async () => {
  await fastify.close();
  await server.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };
const json = { ...auth, 'content-type': 'application/json' };

// Each case: the request, and where tsgi answers otherwise, the difference docs/fastify.md
// states (asserted on tsgi's answer instead of equality).
type Differs = (t: Answer, f: Answer) => void;
type Case = [name: string, method: string, path: string, headers?: Record<string, string>, body?: string, differs?: Differs];
const statusIs = (fs: number, ts: number): Differs => (t, f) => {
  expect(f.status).toBe(fs);
  expect(t.status).toBe(ts);
};
const cases: Case[] = [
  ['list empty', 'GET', '/api/v1/todos', auth],
  ['no token', 'GET', '/api/v1/todos'],
  ['bad token', 'GET', '/api/v1/todos', { authorization: 'Bearer nope' }],
  ['basic scheme', 'GET', '/api/v1/todos', { authorization: 'Basic Zm9vOmJhcg==' }],
  ['create', 'POST', '/api/v1/todos', json, '{"title":"milk"}'],
  ['create done', 'POST', '/api/v1/todos', json, '{"title":"eggs","done":true}'],
  ['create charset', 'POST', '/api/v1/todos', { ...auth, 'content-type': 'application/json; charset=utf-8' }, '{"title":"tea"}'],
  ['create BOM', 'POST', '/api/v1/todos', json, '\ufeff{"title":"bom"}'],
  ['create upper-case type', 'POST', '/api/v1/todos', { ...auth, 'content-type': 'Application/JSON' }, '{"title":"up"}'],
  ['list', 'GET', '/api/v1/todos', auth],
  ['get 1', 'GET', '/api/v1/todos/1', auth],
  ['get 99', 'GET', '/api/v1/todos/99', auth],
  ['missing title', 'POST', '/api/v1/todos', json, '{}'],
  ['empty title', 'POST', '/api/v1/todos', json, '{"title":""}'],
  // Ajv's coerceTypes turns 5 into "5" in a body too; tsgi coerces nothing.
  ['title a number', 'POST', '/api/v1/todos', json, '{"title":5}', (t, f) => {
    expect(f.status).toBe(201);
    expect(JSON.parse(f.body)).toMatchObject({ title: '5' });
    expect(t.status).toBe(400);
    expect(JSON.parse(t.body)).toMatchObject({ message: 'body/title must be string' });
  }],
  ['done a string', 'POST', '/api/v1/todos', json, '{"title":"x","done":"yes"}'],
  ['array body', 'POST', '/api/v1/todos', json, '[]'],
  ['null body', 'POST', '/api/v1/todos', json, 'null'],
  ['malformed JSON', 'POST', '/api/v1/todos', json, '{"title":', (t, f) => {
    expect([f.status, t.status]).toEqual([400, 400]);
    expect(JSON.parse(t.body)).toMatchObject({ error: 'Bad Request', message: expect.stringMatching(/^The body is not valid JSON: /) });
  }],
  ['empty JSON body', 'POST', '/api/v1/todos', json, '', (t, f) => {
    expect([f.status, t.status]).toEqual([400, 400]);
    expect(JSON.parse(t.body)).toMatchObject({ message: 'The body is empty: a JSON value was expected.' });
  }],
  // Fastify parses text/plain as a string, which the schema refuses; the port refuses the type.
  ['text body', 'POST', '/api/v1/todos', { ...auth, 'content-type': 'text/plain' }, 'milk', statusIs(400, 415)],
  ['no Content-Type', 'POST', '/api/v1/todos', auth, '{"title":"x"}', statusIs(415, 415)],
  ['vnd+json type', 'POST', '/api/v1/todos', { ...auth, 'content-type': 'application/vnd.api+json' }, '{"title":"v"}', statusIs(415, 415)],
  // RFC 9110 §15.5.14 names 413 Content Too Large; Node's STATUS_CODES still says Payload Too Large.
  ['too large', 'POST', '/api/v1/todos', json, JSON.stringify({ title: 'x'.repeat(2000) }), (t, f) => {
    expect(JSON.parse(f.body)).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    expect(JSON.parse(t.body)).toMatchObject({ statusCode: 413, error: 'Content Too Large' });
  }],
  ['post without token', 'POST', '/api/v1/todos', { 'content-type': 'application/json' }, '{"title":"x"}'],
  ['delete 2', 'DELETE', '/api/v1/todos/2', auth],
  ['delete 2 again', 'DELETE', '/api/v1/todos/2', auth],
  ['get deleted', 'GET', '/api/v1/todos/2', auth],
  ['crash', 'GET', '/api/v1/boom', auth],
  ['unknown API path', 'GET', '/api/v1/nope', auth],
  // The hook wraps the whole prefix: it answers before the router's 404.
  ['unknown API path without token', 'GET', '/api/v1/nope', {}, undefined, (t, f) => {
    expect(f.status).toBe(404);
    expect(t.status).toBe(401);
    expect(t.headers['www-authenticate']).toBe('Bearer realm="api"');
  }],
  ['unknown site path', 'GET', '/nope'],
  ['unknown path with query', 'GET', '/nope?x=1'],
  ['prefix alone', 'GET', '/api/v1', auth],
  ['HEAD list', 'HEAD', '/api/v1/todos', auth],
  ['HEAD unknown', 'HEAD', '/nope'],
  ['HEAD without token', 'HEAD', '/api/v1/todos'],
  ['request id kept', 'GET', '/api/v1/todos/1', { ...auth, 'x-request-id': 'req-42' }],
  ['encoded path', 'GET', '/api/v1/%74odos/1', auth],
  // The redirect: Fastify sends the Location as given, with no body; redirect() makes it absolute.
  ['redirect', 'GET', '/old-todos', {}, undefined, (t, f) => {
    expect([f.status, t.status]).toEqual([302, 302]);
    expect(f.headers.location).toBe('/api/v1/todos');
    expect(t.headers.location).toBe(`${tBase}/api/v1/todos`);
  }],
  // @fastify/cookie writes Max-Age alone; tsgi adds the Expires old clients read.
  ['set a cookie', 'GET', '/login', {}, undefined, (t, f) => {
    expect(f.headers['set-cookie']).toEqual(['session=abc; Max-Age=3600; Path=/; HttpOnly']);
    expect(t.headers['set-cookie']).toEqual([expect.stringMatching(/^session=abc; Max-Age=3600; Path=\/; Expires=[^;]+ GMT; HttpOnly$/)]);
  }],
  ['read a cookie', 'GET', '/whoami', { cookie: 'session=abc' }],
  ['no cookie', 'GET', '/whoami'],
  ['undecodable cookie', 'GET', '/whoami', { cookie: 'session=%zz; other' }],
  ['client, direct', 'GET', '/client'],
  ['client, proxied', 'GET', '/client', { 'x-forwarded-for': '6.6.6.6, 203.0.113.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'todo.example:8443' }],
  ['client, IPv6 Host', 'GET', '/client', { host: '[::1]:3000' }],
  // A Host without a port: req.port is the scheme's default, request.port null.
  ['client, Host without a port', 'GET', '/client', { host: 'todo.example' }, undefined, (t, f) => {
    expect(JSON.parse(f.body)).toMatchObject({ hostname: 'todo.example', port: null });
    expect(JSON.parse(t.body)).toMatchObject({ hostname: 'todo.example', port: 80 });
  }],
  // A scheme is case-insensitive (RFC 3986 §3.1): req.scheme lower-cases it, Fastify passes it on.
  ['client, upper-case proto', 'GET', '/client', { 'x-forwarded-proto': 'HTTPS' }, undefined, (t, f) => {
    expect(JSON.parse(f.body)).toMatchObject({ protocol: 'HTTPS' });
    expect(JSON.parse(t.body)).toMatchObject({ protocol: 'https' });
  }],
  ['id not an integer', 'GET', '/api/v1/todos/abc', auth, undefined, statusIs(400, 404)],
  ['trailing slash', 'GET', '/api/v1/todos/', auth, undefined, statusIs(400, 404)],
  ['another method', 'PUT', '/api/v1/todos/1', json, '{"title":"x"}', (t, f) => {
    expect([f.status, t.status]).toEqual([404, 405]);
    expect(t.headers.allow).toBe('DELETE, GET, HEAD, OPTIONS');
    expect(JSON.parse(t.body)).toMatchObject({ statusCode: 405, error: 'Method Not Allowed' });
  }],
  ['OPTIONS', 'OPTIONS', '/api/v1/todos', auth, undefined, (t, f) => {
    expect([f.status, t.status]).toEqual([404, 204]);
    expect(t.headers.allow).toBe('GET, HEAD, OPTIONS, POST');
  }],
  ['double slash', 'GET', '//api/v1/todos', auth, undefined, (t, f) => {
    expect([f.status, t.status]).toEqual([404, 308]);
    expect(t.headers.location).toBe(`${tBase}/api/v1/todos`);
  }],
  // Refused by the server before any app or hook: neither error handler renders it.
  ['bad percent-escape', 'GET', '/api/v1/todos/%zz', auth, undefined, (t, f) => {
    expect([f.status, t.status]).toEqual([400, 400]);
    expect(t.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(t.headers['x-request-id']).toBeUndefined();
  }],
];

// What a client of the service sees, the request id's value aside (made up on each side).
function seen(a: Answer, sentId: boolean, base: string) {
  const fields: Record<string, unknown> = {};
  for (const name of ['location', 'www-authenticate', 'allow', 'set-cookie']) fields[name] = a.headers[name];
  // RFC 8259 §11 defines no charset for application/json: Fastify adds one, tsgi does not.
  fields['content-type'] = (a.headers['content-type'] as string | undefined)?.replace(/^application\/json; charset=utf-8$/, 'application/json');
  fields['x-request-id'] = sentId ? a.headers['x-request-id'] : a.headers['x-request-id'] !== undefined;
  // Each server's own port, the one thing the two always answer differently.
  return { status: a.status, fields, body: a.body.replace(`"port":${new URL(base).port}`, '"port":"own"') };
}

describe('the same todo API in Fastify 5 and in tsgi, over sockets', () => {
  it('answers the same ~50 requests alike, or as docs/fastify.md says', async () => {
    for (const [name, method, path, headers = {}, body, differs] of cases) {
      const f = await send(fBase, method, path, headers, body);
      const t = await send(tBase, method, path, headers, body);
      if (differs) {
        differs(t, f);
        expect(t.status, name).toBeLessThan(500);
      } else {
        expect(seen(t, 'x-request-id' in headers, tBase), name).toEqual(seen(f, 'x-request-id' in headers, fBase));
      }
    }
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });

  it("answers a body declared past serve()'s maxBodySize with the server's plain 413, where Fastify's bodyLimit goes through its error handler", async () => {
    const limited = await serve(buildTsgi({ write() {} }), { host: '127.0.0.1', port: 0, maxBodySize: 1024 });
    try {
      const body = JSON.stringify({ title: 'x'.repeat(2000) });
      const f = await send(fBase, 'POST', '/api/v1/todos', json, body);
      const t = await send(limited.url, 'POST', '/api/v1/todos', json, body);
      expect([f.status, t.status]).toEqual([413, 413]);
      expect(JSON.parse(f.body)).toMatchObject({ statusCode: 413 });
      expect(t.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(t.headers['x-request-id']).toBeUndefined();
      expect(t.body).toMatch(/larger than 1024 bytes/);
    } finally {
      await limited.close();
    }
  });

  it('drives the port in-process as fastify.inject() would', async () => {
    const client = new TestClient(buildTsgi(), { headers: auth });
    const created = await client.post('/api/v1/todos', { json: { title: 'milk' } });
    expect(created.statusCode).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/todos/1');
    expect(await created.json()).toEqual({ id: 1, title: 'milk', done: false });
    const invalid = await client.post('/api/v1/todos', { json: { title: '' }, status: 400 });
    expect(await invalid.json()).toEqual({ statusCode: 400, error: 'Bad Request', message: 'body/title must NOT have fewer than 1 characters' });
    const missing = await client.get('/api/v1/todos/9', { status: 404 });
    expect(await missing.json()).toMatchObject({ message: 'Todo 9 not found' });
    const refused = await client.get('/api/v1/todos', { headers: { authorization: 'Bearer nope' }, status: 401 });
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    await client.get('/login');
    expect(client.cookies.get('session')).toBe('abc');
    expect(await (await client.get('/whoami')).json()).toEqual({ session: 'abc' });
    const crash = await client.get('/api/v1/boom', { status: 500, allowErrors: true });
    expect(await crash.json()).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'Something broke.' });
    expect(crash.errors).toContain('database on fire');
  });
});
