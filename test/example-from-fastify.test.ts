/**
 * examples/from-fastify.ts, a Fastify 5 service ported to tsgi, over a real socket (serve() on
 * 127.0.0.1, port 0) with fetch: every route and layer its module comment claims, and the bad
 * input Fastify answers with its schemas, parsers and error handler (a schema's 400 naming the
 * field, malformed JSON 400, too large 413, another type 415, no key 401, unknown route 404,
 * too many requests 429, a crash 500), all as Fastify's `{"statusCode","error","message"}`.
 * One test drives it in-process with TestClient, as `fastify.inject()` would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, serve } from 'tsgi';
import { TestClient } from 'tsgi/testing';
import { API_VERSION, type FromFastifyOptions, type Note, createApp } from '../examples/from-fastify.ts';
import { errorLog } from './node-helpers.ts';

const KEY = 'test-key';
const FRONT_END = 'http://localhost:5173';
let uploads: string;
const servers: ServerHandle[] = [];

beforeAll(() => {
  uploads = mkdtempSync(path.join(tmpdir(), 'from-fastify-test-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
afterAll(() => rmSync(uploads, { recursive: true, force: true }));

/** Serves a fresh app; `call` sends the API key unless told otherwise. */
async function start(options: FromFastifyOptions = {}) {
  const server = await serve(createApp({ apiKeys: [KEY, 'other-key'], uploads, ...options }), { host: '127.0.0.1', port: 0, log: errorLog() });
  servers.push(server);
  const call = (url: string, init: RequestInit & { key?: string | null } = {}) => {
    const headers = new Headers(init.headers);
    const key = init.key === undefined ? KEY : init.key;
    if (key !== null) headers.set('x-api-key', key);
    return fetch(new URL(url, server.url), { redirect: 'manual', ...init, headers, signal: AbortSignal.timeout(5000) });
  };
  return { server, call, base: server.url.replace(/\/$/, '') };
}

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
/** Fastify's error body. */
const fastifyError = (statusCode: number, error: string, message: string) => ({ statusCode, error, message });

describe('examples/from-fastify.ts: outside the API', () => {
  it('GET /health needs no key and carries helmet\'s headers, no CSP, and a request id', async () => {
    const { call } = await start();
    const res = await call('/health', { key: null });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBeNull();
    expect(res.headers.get('x-request-id')).toMatch(/^\S{8,}$/);
    expect(res.headers.get('x-api-version')).toBeNull();
  });

  it('POST /preferences (formbody) sets the theme cookie for 30 days in seconds; GET reads it; 400 for another theme', async () => {
    const { call } = await start();
    expect(await (await call('/preferences')).json()).toEqual({ theme: 'light' });
    const set = await call('/preferences', { method: 'POST', body: new URLSearchParams({ theme: 'dark' }) });
    expect(set.status).toBe(204);
    expect(set.headers.getSetCookie()).toEqual([expect.stringMatching(/^theme=dark; Max-Age=2592000; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/)]);
    expect(await (await call('/preferences', { headers: { cookie: 'theme=dark' } })).json()).toEqual({ theme: 'dark' });
    const bad = await call('/preferences', { method: 'POST', body: new URLSearchParams({ theme: 'neon' }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual(fastifyError(400, 'Bad Request', 'body/theme must be equal to one of the allowed values'));
    expect((await call('/preferences', { method: 'POST', body: new URLSearchParams({ theme: 'x'.repeat(101 * 1024) }) })).status).toBe(413);
  });

  it('serves examples/public under /static for an hour; 404s what is not there, as the not-found handler', async () => {
    const { call } = await start();
    const css = await call('/static/style.css', { key: null });
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('public, max-age=3600');
    const missing = await call('/static/missing.css?v=1', { key: null });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual(fastifyError(404, 'Not Found', 'Route GET:/static/missing.css?v=1 not found'));
    expect((await call('/static/../from-fastify.ts', { key: null })).status).toBe(404);
    const nowhere = await call('/nowhere', { key: null });
    expect(await nowhere.json()).toEqual(fastifyError(404, 'Not Found', 'Route GET:/nowhere not found'));
  });

  it('answers a known path and another method 405 with Allow (Fastify: a 404), in the same JSON', async () => {
    const { call } = await start();
    const res = await call('/health', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect((await res.json() as { error: string }).error).toBe('Method Not Allowed');
  });
});

describe('examples/from-fastify.ts: the API', () => {
  it('creates, lists, shows and deletes notes: 201 with a Location under /api, the onSend header on each', async () => {
    const log = errorLog();
    const { call, base } = await start({ log });
    const created = await call('/api/notes', json({ title: ' buy milk ', tags: ['home'] }));
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${base}/api/notes/1`);
    expect(created.headers.get('x-api-version')).toBe(API_VERSION);
    const note = { id: 1, title: 'buy milk', body: '', tags: ['home'], attachment: null };
    expect(await created.json()).toEqual(note);
    await call('/api/notes', json({ title: 'call Ada', tags: ['work'] }));
    expect(await (await call('/api/notes')).json()).toHaveLength(2);
    expect(await (await call('/api/notes?tag=home')).json()).toEqual([note]);
    expect(await (await call('/api/notes?limit=1')).json()).toEqual([note]);
    expect(await (await call('/api/notes/1')).json()).toEqual(note);
    expect((await call('/api/notes/1', { method: 'DELETE' })).status).toBe(204);
    const gone = await call('/api/notes/1');
    expect(gone.status).toBe(404);
    expect(gone.headers.get('x-api-version')).toBe(API_VERSION);
    expect(await gone.json()).toEqual(fastifyError(404, 'Not Found', 'Note 1 not found'));
    // request.log.info({ noteId }, 'note created'), with the id of the access log's line.
    const created1 = log.messages.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'note created');
    expect(created1).toMatchObject({ level: 'info', noteId: 1, request_id: created.headers.get('x-request-id') });
    const access = log.messages.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.url === '/api/notes' && line.method === 'POST');
    expect(access[0]).toMatchObject({ status: 201, request_id: created.headers.get('x-request-id') });
  });

  it('refuses a missing or unknown key with 401 and its challenge, the onSend header included', async () => {
    const { call } = await start();
    const none = await call('/api/notes', { key: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('ApiKey realm="notes"');
    expect(none.headers.get('x-api-version')).toBe(API_VERSION);
    expect(await none.json()).toEqual(fastifyError(401, 'Unauthorized', 'Send your API key in X-API-Key.'));
    const wrong = await call('/api/notes', { key: 'guess' });
    expect(await wrong.json()).toEqual(fastifyError(401, 'Unauthorized', 'Unknown API key.'));
    expect((await call('/api/notes', { key: 'other-key' })).status).toBe(200);
  });

  it('answers bad input as the schemas and parsers did: 400 naming the field, 413 past bodyLimit, 415 another type', async () => {
    const { call } = await start();
    const cases: Array<[unknown, string]> = [
      [[1], 'body must be object'],
      [{ body: 'x' }, "body must have required property 'title'"],
      [{ title: 3 }, 'body/title must be string'],
      [{ title: ' ' }, 'body/title must NOT have fewer than 1 characters'],
      [{ title: 'x'.repeat(201) }, 'body/title must NOT have more than 200 characters'],
      [{ title: 'x', tags: 'a' }, 'body/tags must be array of strings'],
      [{ title: 'x', owner: 'eve' }, 'body must NOT have additional properties ("owner")'],
    ];
    for (const [body, message] of cases) {
      const res = await call('/api/notes', json(body));
      expect(res.status, message).toBe(400);
      expect(await res.json()).toEqual(fastifyError(400, 'Bad Request', message));
    }
    const malformed = await call('/api/notes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":' });
    expect(malformed.status).toBe(400);
    expect((await malformed.json() as { message: string }).message).toMatch(/not valid JSON/);
    const large = await call('/api/notes', json({ title: 'x', body: 'x'.repeat(100 * 1024) }));
    expect(large.status).toBe(413);
    expect(await large.json()).toMatchObject({ statusCode: 413, error: 'Content Too Large' });
    const text = await call('/api/notes', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'milk' });
    expect(text.status).toBe(415);
    expect(await text.json()).toEqual(fastifyError(415, 'Unsupported Media Type', 'Unsupported Media Type: text/plain'));
    for (const [query, message] of [['abc', 'must be integer'], ['0', 'must be >= 1'], ['101', 'must be <= 100'], ['-1', 'must be integer']]) {
      expect(await (await call(`/api/notes?limit=${query}`)).json()).toEqual(fastifyError(400, 'Bad Request', `querystring/limit ${message}`));
    }
    // '/notes/:id' with an integer schema; a non-integer id matches no rule here: 404, not 400.
    expect((await call('/api/notes/abc')).status).toBe(404);
    expect(await (await call('/api/notes')).json()).toEqual([]);
  });

  it('takes an attachment (multipart), never sends where it is stored, serves it as a download with ranges; 413 past fileSize', async () => {
    const notes = new Map<number, Note>([[1, { id: 1, title: 'scan', body: '', tags: [] }]]);
    const { call } = await start({ notes });
    expect(await (await call('/api/notes/1/attachment')).json()).toEqual(fastifyError(404, 'Not Found', 'Note 1 has no attachment'));
    const pdf = new Uint8Array(4096).map((_, i) => i % 251);
    const form = new FormData();
    form.set('file', new Blob([pdf], { type: 'application/pdf' }), '../../scan.pdf');
    const uploaded = await call('/api/notes/1/attachment', { method: 'POST', body: form });
    expect(uploaded.status).toBe(201);
    expect(await uploaded.json()).toEqual({ id: 1, title: 'scan', body: '', tags: [], attachment: { filename: 'scan.pdf', size: 4096 } });
    expect(notes.get(1)!.attachment!.path.startsWith(uploads)).toBe(true);
    expect(JSON.stringify(await (await call('/api/notes/1')).json())).not.toContain(uploads);
    const file = await call('/api/notes/1/attachment');
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('application/pdf');
    expect(file.headers.get('content-disposition')).toBe('attachment; filename=scan.pdf');
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(pdf);
    const range = await call('/api/notes/1/attachment', { headers: { range: 'bytes=0-9' } });
    expect(range.status).toBe(206);
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(pdf.slice(0, 10));

    const big = new FormData();
    big.set('file', new Blob([new Uint8Array(1024 * 1024 + 1)], { type: 'application/pdf' }), 'big.pdf');
    const tooLarge = await call('/api/notes/1/attachment', { method: 'POST', body: big });
    expect(tooLarge.status).toBe(413);
    expect((await tooLarge.json() as { message: string }).message).toMatch(/maxFileSize/);
    const none = new FormData();
    none.set('note', 'no file');
    expect(await (await call('/api/notes/1/attachment', { method: 'POST', body: none })).json()).toEqual(
      fastifyError(400, 'Bad Request', 'Send the file as the multipart field "file".'),
    );
    expect((await call('/api/notes/2/attachment', { method: 'POST', body: form })).status).toBe(404);
    expect((await call('/api/notes/1', { method: 'DELETE' })).status).toBe(204);
  });

  it('tags each API answer in memory and answers 304 to the tag (@fastify/etag); compresses a large one (@fastify/compress)', async () => {
    const notes = new Map<number, Note>(Array.from({ length: 30 }, (_, i) => [i + 1, { id: i + 1, title: `note ${i + 1}`, body: 'some text '.repeat(5), tags: [] }]));
    const { call } = await start({ notes });
    const first = await call('/api/notes/1');
    const tag = first.headers.get('etag');
    expect(tag).toMatch(/^"[^"]+"$/);
    const again = await call('/api/notes/1', { headers: { 'if-none-match': tag! } });
    expect(again.status).toBe(304);
    expect(again.headers.get('x-api-version')).toBe(API_VERSION);
    // fetch decodes the gzip body itself; the field says it came compressed.
    const list = await call('/api/notes', { headers: { 'accept-encoding': 'gzip' } });
    expect(list.headers.get('content-encoding')).toBe('gzip');
    expect((await list.json() as unknown[]).length).toBe(20);
  });

  it('reads request.ip and the scheme from one trusted proxy (trustProxy: \'loopback\'): the rate limit is per client, 429 past it', async () => {
    const { call } = await start({ rateLimit: { capacity: 2, refillPerSecond: 0.001 } });
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
    expect((await call('/health', from('203.0.113.7'))).status).toBe(200);
    expect((await call('/health', from('203.0.113.7'))).status).toBe(200);
    const limited = await call('/health', from('203.0.113.7'));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect((await call('/health', from('198.51.100.1'))).status).toBe(200); // another client, its own bucket
  });

  it('ignores X-Forwarded-For from a peer that is not the proxy: a direct client cannot pick its rate-limit bucket', async () => {
    const { server } = await start({ rateLimit: { capacity: 1, refillPerSecond: 0.001 }, proxies: ['127.0.0.1'] });
    const { port } = new URL(server.url);
    // From 127.0.0.2, not the proxy: each call forges another client address.
    const direct = (ip: string) => new Promise<number>((resolve, reject) => {
      httpGet({ host: '127.0.0.1', port, path: '/health', localAddress: '127.0.0.2', headers: { 'x-forwarded-for': ip } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      }).on('error', reject);
    });
    expect(await direct('203.0.113.7')).toBe(200);
    expect(await direct('198.51.100.1')).toBe(429); // the peer's own bucket, already spent
  });

  it('answers CORS preflights for the front end, exposing Location, and nothing for another origin', async () => {
    const { call } = await start();
    const preflight = await call('/api/notes', { method: 'OPTIONS', key: null, headers: { origin: FRONT_END, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-api-key' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(FRONT_END);
    const list = await call('/api/notes', { headers: { origin: FRONT_END } });
    expect(list.headers.get('access-control-allow-origin')).toBe(FRONT_END);
    expect(list.headers.get('access-control-expose-headers')).toBe('Location');
    expect((await call('/api/notes', { headers: { origin: 'https://evil.example' } })).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('logs a crash with its stack and answers "Something went wrong" (the custom error handler)', async () => {
    const captured = errorLog();
    const broken = new Map<number, Note>();
    broken.values = () => { throw new Error('the database is down'); };
    const { call } = await start({ notes: broken, errorLog: captured });
    const res = await call('/api/notes');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual(fastifyError(500, 'Internal Server Error', 'Something went wrong'));
    expect(captured.text).toContain('Error: the database is down');
  });
});

describe('examples/from-fastify.ts in-process (fastify.inject() → TestClient)', () => {
  it('creates a note and reads it back; a 4xx is expected by saying so', async () => {
    const client = new TestClient(createApp({ apiKeys: [KEY], uploads }), { headers: { 'x-api-key': KEY } });
    const created = await client.post('/api/notes', { json: { title: 'inject' } });
    expect(created.statusCode).toBe(201);
    expect(await created.json()).toMatchObject({ id: 1, title: 'inject' });
    const missing = await client.get('/api/notes/2', { status: 404 });
    expect(await missing.json()).toEqual(fastifyError(404, 'Not Found', 'Note 2 not found'));
  });
});
