/**
 * examples/tasks-api.ts, a JSON API: in-process with the test client (routing, problem details,
 * negotiation, CORS, bearer tokens, ETags and If-Match, paging, gzip, request ids in the log) and
 * over a real socket with fetch (the same answers, and the NDJSON export streamed with
 * backpressure to a client that stops reading).
 */
import net from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, serve } from 'tsgi';
import { TestClient } from 'tsgi/testing';
import { type Task, createTasksApi } from '../examples/tasks-api.ts';

const seeded = (n: number) => new Map(Array.from({ length: n }, (_, i): [number, Task] => [i + 1, { id: i + 1, title: `task ${i + 1}`, done: false, version: 1 }]));
const auth = { authorization: 'Bearer t0k3n' };
const json = { ...auth, accept: 'application/json' };

function setUp(n = 3) {
  const log: string[] = [];
  const app = createTasksApi({ tokens: { t0k3n: 'ann' }, tasks: seeded(n), log: { write: (line: string) => void log.push(line) } });
  return { client: new TestClient(app, { status: '*' }), app, log };
}

describe('examples/tasks-api.ts in-process', () => {
  it('answers routing errors as problem details with Allow and the request id', async () => {
    const { client } = setUp();
    const missing = await client.get('/tasks/9', { headers: json });
    expect(missing.statusCode).toBe(404);
    expect(missing.contentType).toBe('application/problem+json');
    expect(await missing.json()).toMatchObject({ status: 404, title: 'Not Found', detail: 'There is no task 9.', request_id: missing.headers.get('x-request-id') });
    const notInt = await client.get('/tasks/abc', { headers: json });
    expect(notInt.statusCode).toBe(404);
    const patch = await client.patch('/tasks/1', { headers: json });
    expect(patch.statusCode).toBe(405);
    expect(patch.headers.get('allow')).toBe('DELETE, GET, HEAD, OPTIONS, PUT');
    expect((await client.get('/tasks/1', { headers: { ...auth, accept: 'text/html' } })).statusCode).toBe(406);
    expect((await client.get('/healthz')).statusCode).toBe(200);
    const anonymous = await client.get('/tasks', { headers: { accept: 'application/json' } });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="tasks"');
  });

  it('validates bodies: 400 for bad JSON, 415 for another type, 422 naming each bad member', async () => {
    const { client } = setUp();
    const bad = await client.post('/tasks', { body: '{"title":', headers: { ...json, 'content-type': 'application/json' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.contentType).toBe('application/problem+json');
    expect((await client.post('/tasks', { body: 'x', headers: { ...json, 'content-type': 'text/plain' } })).statusCode).toBe(415);
    const invalid = await client.post('/tasks', { json: { title: '', done: 'yes' }, headers: auth });
    expect(invalid.statusCode).toBe(422);
    expect(await invalid.json()).toMatchObject({ status: 422, errors: [{ pointer: '/title' }, { pointer: '/done' }] });
    const created = await client.post('/tasks', { json: { title: 'new' }, headers: auth });
    expect(created.statusCode).toBe(201);
    expect(created.location).toBe('http://localhost/tasks/4');
    expect(created.etag).toEqual({ tag: '4.1', weak: false });
  });

  it('guards writes with If-Match: 428 without, 412 when stale, 200 with the new tag; 304 for If-None-Match', async () => {
    const { client } = setUp();
    expect((await client.get('/tasks/1', { headers: { ...auth, 'if-none-match': '"1.1"' } })).statusCode).toBe(304);
    expect((await client.put('/tasks/1', { json: { title: 'a' }, headers: auth })).statusCode).toBe(428);
    const first = await client.put('/tasks/1', { json: { title: 'a' }, headers: { ...auth, 'if-match': '"1.1"' } });
    expect(first.statusCode).toBe(200);
    expect(first.etag).toEqual({ tag: '1.2', weak: false });
    const stale = await client.put('/tasks/1', { json: { title: 'b' }, headers: { ...json, 'if-match': '"1.1"' } });
    expect(stale.statusCode).toBe(412);
    expect(await (await client.get('/tasks/1', { headers: auth })).json()).toMatchObject({ title: 'a', version: 2 });
  });

  it('pages with Link, compresses a large page, logs the request id', async () => {
    const { client, log } = setUp(60);
    const page = await client.get('/tasks?page=2&per_page=20', { headers: { ...auth, 'accept-encoding': 'gzip' } });
    expect(page.headers.get('content-encoding')).toBe('gzip');
    expect(JSON.parse(gunzipSync(await page.bytes()).toString()).map((t: Task) => t.id)[0]).toBe(21);
    expect(page.headers.get('link')).toBe(
      '<http://localhost/tasks?page=1&per_page=20>; rel="first", <http://localhost/tasks?page=3&per_page=20>; rel="last", ' +
        '<http://localhost/tasks?page=1&per_page=20>; rel="prev", <http://localhost/tasks?page=3&per_page=20>; rel="next"',
    );
    expect((await client.get('/tasks?per_page=0', { headers: auth })).statusCode).toBe(400);
    const line = JSON.parse(log.at(-1)!);
    expect(line).toMatchObject({ status: 400, remote_user: 'ann', request_id: expect.any(String) });
  });

  it('answers CORS preflights and credentialed requests from its front end', async () => {
    const { client } = setUp();
    const origin = 'http://localhost:5173';
    const preflight = await client.options('/tasks/1', { headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization, content-type, if-match' } });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization, content-type, if-match');
    const read = await client.get('/tasks/1', { headers: { ...auth, origin } });
    expect(read.headers.get('access-control-allow-origin')).toBe(origin);
    expect(read.headers.get('access-control-expose-headers')).toContain('ETag');
    expect((await client.get('/tasks/1', { headers: { origin } })).headers.get('access-control-allow-origin')).toBe(origin); // the 401 too
  });
});

/** The store, counting the tasks the export has taken from it. */
class CountingStore extends Map<number, Task> {
  taken = 0;
  override *values(): MapIterator<Task> {
    for (const task of super.values()) {
      this.taken++;
      yield task;
    }
  }
}

describe('examples/tasks-api.ts over a socket', () => {
  let server: ServerHandle;
  const store = new CountingStore(seeded(300_000));
  beforeAll(async () => {
    server = await serve(createTasksApi({ tokens: { t0k3n: 'ann' }, tasks: store, log: { write() {} } }), { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers fetch as the test client does', async () => {
    const res = await fetch(new URL('/tasks/2', server.url), { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"2.1"');
    expect(await res.json()).toEqual({ id: 2, title: 'task 2', done: false, version: 1 });
    const put = await fetch(new URL('/tasks/2', server.url), { method: 'PUT', body: '{"title":"b"}', headers: { ...auth, 'content-type': 'application/json', 'if-match': '"2.1"' } });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe('"2.2"');
  });

  it('streams the export to a client that stops reading without producing it all', async () => {
    const url = new URL(server.url);
    const socket = net.connect(Number(url.port), '127.0.0.1');
    socket.on('data', () => socket.pause()); // a slow client: reads one chunk, then nothing
    store.taken = 0;
    socket.write('GET /tasks/export HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer t0k3n\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // 300,000 lines are about 15 MB; the socket buffers hold a few MB of them, and the rest waits.
    expect(store.taken).toBeGreaterThan(0);
    expect(store.taken).toBeLessThan(200_000);
    socket.destroy();
    const lines = await (await fetch(new URL('/tasks/export', server.url), { headers: auth })).text();
    expect(lines.split('\n').length).toBe(300_001);
    expect(JSON.parse(lines.split('\n')[299_999]!)).toMatchObject({ id: 300_000 });
  });
});
