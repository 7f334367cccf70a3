/**
 * Optimistic concurrency over a real socket (`serve(app, { port: 0 })`, fetch): a JSON API
 * whose PUT checks `If-Match` against the stored version before writing, and answers the
 * written task with its new `ETag` and `conditionalResponse`, as docs/conditional.md shows.
 *
 * - The answer to a write is not evaluated against the request's preconditions once the
 *   handler has written: its `ETag` is the new version's, so the `If-Match` that let the
 *   write in no longer matches it, and answering 412 there would hide a write that happened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTPPreconditionFailed, Request, Response, serve } from 'tsgi';

interface Task { title: string; version: number }
const tasks = new Map<string, Task>();
let server: Awaited<ReturnType<typeof serve>>;

const taskResponse = (task: Task) => {
  const res = Response.json(task, { conditionalResponse: true });
  res.etag = `v${task.version}`;
  return res;
};

const app = Request.application(async (req) => {
  const task = tasks.get(req.pathInfo);
  if (!task && req.method === 'PUT') {
    // Create only: If-None-Match: * holds, the task does not exist yet.
    const created = { ...((await req.json()) as { title: string }), version: 1 };
    tasks.set(req.pathInfo, created);
    const res = taskResponse(created);
    res.statusCode = 201;
    return res;
  }
  if (!task) return new Response('none', { status: 404 });
  if (req.method === 'PUT' && req.ifNoneMatch.any) throw new HTTPPreconditionFailed('The task exists.');
  if (req.method === 'PUT') {
    if (!req.ifMatch.contains(`v${task.version}`)) throw new HTTPPreconditionFailed('The task changed.');
    const body = (await req.json()) as { title: string };
    task.title = body.title;
    task.version++;
    return taskResponse(task);
  }
  return taskResponse(task);
});

beforeAll(async () => {
  server = await serve(app, { host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await server.close();
});

const put = (path: string, ifMatch: string, title: string) =>
  fetch(new URL(path, server.url), { method: 'PUT', body: JSON.stringify({ title }), headers: { 'content-type': 'application/json', 'if-match': ifMatch } });

describe('If-Match on writes', () => {
  it('a PUT under the current tag is written and answered 200 with the new tag', async () => {
    tasks.set('/a', { title: 'a', version: 1 });
    const got = await fetch(new URL('/a', server.url));
    expect(got.headers.get('etag')).toBe('"v1"');
    const res = await put('/a', '"v1"', 'a2');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ title: 'a2', version: 2 });
    expect(res.headers.get('etag')).toBe('"v2"');
  });

  it('a write answered 2xx is not turned into a 412 by its own new ETag; a stale tag is refused before the write', async () => {
    tasks.set('/b', { title: 'b', version: 1 });
    const first = await put('/b', '"v1"', 'first');
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toBe('"v2"');
    const second = await put('/b', '"v1"', 'second'); // a client that read v1 too
    expect(second.status).toBe(412);
    expect(tasks.get('/b')).toEqual({ title: 'first', version: 2 }); // no lost update
  });

  it('If-None-Match: * on a write is left to the handler: the created task is answered 201, the second create 412', async () => {
    tasks.delete('/c');
    const created = await fetch(new URL('/c', server.url), { method: 'PUT', body: '{"title":"c"}', headers: { 'if-none-match': '*' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('"v1"');
    const again = await fetch(new URL('/c', server.url), { method: 'PUT', body: '{"title":"c2"}', headers: { 'if-none-match': '*' } });
    expect(again.status).toBe(412);
    expect(tasks.get('/c')).toEqual({ title: 'c', version: 1 });
  });

  it('GET and HEAD keep their 304 and 412', async () => {
    tasks.set('/d', { title: 'd', version: 3 });
    expect((await fetch(new URL('/d', server.url), { headers: { 'if-none-match': '"v3"' } })).status).toBe(304);
    expect((await fetch(new URL('/d', server.url), { method: 'HEAD', headers: { 'if-none-match': 'W/"v3"' } })).status).toBe(304);
    expect((await fetch(new URL('/d', server.url), { headers: { 'if-match': '"v2"' } })).status).toBe(412);
  });
});
