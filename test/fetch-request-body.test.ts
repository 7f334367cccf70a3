/**
 * toFetchHandler and a request body whose stream fails: a client gone mid-upload is a 400 to
 * the body readers (Deno's `BadResource` included, see test/runtimes/fetch-cut-upload.test.ts, and workerd's
 * `Network connection lost.`),
 * but a failure that is not the client's, a bug in a stream the user put in front of the
 * handler, stays an app error: a logged 500, not a 400 that hides it. A body past
 * `maxBodySize` streamed into a sink that wraps the error (fetch's `TypeError: fetch failed`)
 * answers its 413, or, after the head, is cut unlogged, as under serve(). Over a real socket
 * with `@hono/node-server`.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve as honoServe } from '@hono/node-server';
import { expect, it } from 'vitest';
import { type App, type AppLike, Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { errors } from 'tsgi/middleware';
import { errorLog, rawExchange, start, startSlowStore } from './node-helpers.ts';

it("answers a bug in the user's own request-body stream as an app error (logged 500), not as the client's body breaking off", async () => {
  const log = errorLog();
  const handler = toFetchHandler(
    Request.application(async (req) => new Response(`read ${(await req.bytes()).byteLength}`)),
    { log },
  );
  const buggy = new TransformStream<Uint8Array, Uint8Array>({
    transform() {
      throw new TypeError('checksum is not a function');
    },
  });
  const fetchHandler = (request: globalThis.Request) =>
    handler(new globalThis.Request(request, { body: request.body!.pipeThrough(buggy), duplex: 'half' } as RequestInit));
  const server = await new Promise<http.Server>((resolve) => {
    const started = honoServe({ fetch: fetchHandler, hostname: '127.0.0.1', port: 0 }, () => resolve(started as http.Server));
  });
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`, { method: 'POST', body: 'payload' });
    expect(res.status).toBe(500);
    await res.text();
    expect(log.text).toMatch(/^\[tsgi\] POST \/upload HTTP\/1\.1: TypeError: checksum is not a function/);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

it('answers workerd’s error for a client gone mid-upload (Error: Network connection lost.) as the body breaking off: a 400, nothing logged', async () => {
  // workerd fails the request body's stream so (test/runtimes/decode-body.test.ts runs it there).
  const log = errorLog();
  const handler = toFetchHandler(
    Request.application(async (req) => new Response(`read ${(await req.bytes()).byteLength}`)),
    { log },
  );
  const lost = new TransformStream<Uint8Array, Uint8Array>({
    transform() {
      throw Object.assign(new Error('Network connection lost.'), { retryable: true });
    },
  });
  const fetchHandler = (request: globalThis.Request) =>
    handler(new globalThis.Request(request, { body: request.body!.pipeThrough(lost), duplex: 'half' } as RequestInit));
  const server = await new Promise<http.Server>((resolve) => {
    const started = honoServe({ fetch: fetchHandler, hostname: '127.0.0.1', port: 0 }, () => resolve(started as http.Server));
  });
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`, { method: 'POST', body: 'payload' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('The request body could not be read completely.');
    expect(log.text).toBe('');
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

it('fails the read of a body a Hono middleware already read with a 500 that says so, not a locked-stream error', async () => {
  const { Hono } = await import('hono');
  const log = errorLog();
  const tsgi = toFetchHandler(
    Request.application(async (req) => Response.json(await req.json())),
    { scriptName: '/v2', log },
  );
  const web = new Hono();
  web.use('/v2/*', async (c, next) => {
    if (c.req.header('x-peek') !== undefined) await c.req.json(); // a validator, a logger of bodies
    await next();
  });
  web.all('/v2/*', (c) => tsgi(c.req.raw, c.env));
  const server = await new Promise<http.Server>((resolve) => {
    const started = honoServe({ fetch: web.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started as http.Server));
  });
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/x`;
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' };
    const untouched = await fetch(url, init);
    expect(await untouched.json()).toEqual({ a: 1 });
    const peeked = await fetch(url, { ...init, headers: { ...init.headers, 'x-peek': '1' } });
    expect(peeked.status).toBe(500);
    await peeked.text();
    expect(log.text).toContain('[tsgi] POST /v2/x HTTP/1.1: Error: the request body was read before toFetchHandler');
    expect(log.text).not.toContain('locked');
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

it('forwards, with the deployment guide’s recipe, a body a Hono middleware read, and every request nobody’s middleware read', async () => {
  const { Hono } = await import('hono');
  const legacy = toFetchHandler(
    Request.application(async (req) => new Response(`${req.method} ${req.pathInfo} [${new TextDecoder().decode(await req.bytes())}]`)),
    { scriptName: '/legacy' },
  );
  const web = new Hono();
  web.use('/legacy/*', async (c, next) => {
    if (c.req.header('content-type') === 'application/json') await c.req.json(); // a validator
    await next();
  });
  // docs/deployment.md, "a Hono middleware or validator that read it"
  web.all('/legacy/*', async (c) => {
    if (!c.req.raw.bodyUsed) return legacy(c.req.raw, c.env); // nobody read it: forwarded as it came
    const headers = new Headers(c.req.raw.headers);
    headers.delete('content-length');
    return legacy(new globalThis.Request(c.req.raw, { headers, body: await c.req.arrayBuffer() }), c.env);
  });
  const server = await new Promise<http.Server>((resolve) => {
    const started = honoServe({ fetch: web.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started as http.Server));
  });
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/legacy/x`;
    const json = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a": 1}' });
    expect(await json.text()).toBe('POST /x [{"a": 1}]');
    expect(await (await fetch(url)).text()).toBe('GET /x []');
    const text = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'plain' });
    expect(await text.text()).toBe('POST /x [plain]');
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

it('answers 413, not a logged 500, when an app streams a body past maxBodySize into fetch (TypeError: fetch failed, the 413 its cause): Request.application and a raw app', async () => {
  const { request: httpRequest } = await import('node:http');
  const store = await startSlowStore();
  const causes: unknown[] = [];
  const put = async (body: AsyncIterable<Uint8Array>) => {
    try {
      await fetch(`${store.url}/object`, { method: 'PUT', body: body as unknown as ReadableStream<Uint8Array>, duplex: 'half' } as RequestInit);
    } catch (error) {
      causes.push((error as Error).cause);
      throw error;
    }
  };
  const raw: App = async (environ, startResponse) => {
    await put(new Request(environ).stream());
    startResponse('200 OK', []);
    return [];
  };
  const apps: AppLike[] = [Request.application(async (req) => (await put(req.stream()), new Response('stored'))), raw];
  for (const app of apps) {
    const log = errorLog();
    const handler = toFetchHandler(app, { log, maxBodySize: 10_000 });
    const server = await new Promise<http.Server>((resolve) => {
      const started = honoServe({ fetch: handler, hostname: '127.0.0.1', port: 0 }, () => resolve(started as http.Server));
    });
    try {
      // A chunked body (no Content-Length), 25 KB: the limit is met while the app streams it.
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/up', method: 'POST' }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        for (let i = 0; i < 25; i++) req.write('a'.repeat(1000));
        req.end();
      });
      expect((causes.at(-1) as { code?: number } | undefined)?.code).toBe(413);
      expect(status).toBe(413);
      expect(log.text).toBe('');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }
});

it('cuts, without logging it as an app error, a body that fails after the head with the 413 of the request body past maxBodySize, bare or wrapped by fetch: serve() (bare and under errors()) and toFetchHandler', async () => {
  const store = await startSlowStore();
  let cause: unknown;
  const reported: unknown[] = [];
  // A raw app whose body sends its head, then streams the upload into fetch: the 413 comes
  // after the head, so the answer can only be cut. `bare` throws fetch's cause, the 413 itself.
  const appOf = (bare: boolean): App => (environ, startResponse) =>
    (async function* () {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      yield new TextEncoder().encode('storing\n');
      await new Promise((resolve) => setTimeout(resolve, 20));
      yield new TextEncoder().encode('still storing\n');
      try {
        await fetch(`${store.url}/object`, { method: 'PUT', body: new Request(environ).stream() as unknown as ReadableStream<Uint8Array>, duplex: 'half' } as RequestInit);
      } catch (error) {
        cause = (error as Error).cause;
        throw bare ? cause : error;
      }
      yield new TextEncoder().encode('stored\n');
    })();
  const onServe = async (app: AppLike) => {
    const server = await start(app, { maxBodySize: 10_000 });
    return { port: server.port, log: server.log, close: async () => {} };
  };
  const onFetch = async (app: AppLike) => {
    const log = errorLog();
    const handler = toFetchHandler(app, { log, maxBodySize: 10_000 });
    const server = await new Promise<http.Server>((resolve) => {
      const started = honoServe({ fetch: handler, hostname: '127.0.0.1', port: 0 }, () => resolve(started as http.Server));
    });
    return { port: (server.address() as AddressInfo).port, log, close: async () => (server.closeAllConnections(), server.close()) };
  };
  for (const bare of [false, true]) {
    const cases = [
      { kind: 'serve()', server: await onServe(appOf(bare)) },
      { kind: 'serve(errors())', server: await onServe(errors(appOf(bare), { onError: (error) => void reported.push(error) })) },
      { kind: 'toFetchHandler', server: await onFetch(appOf(bare)) },
    ];
    for (const { kind, server } of cases) {
      const label = `${kind}${bare ? ', bare' : ', wrapped'}`;
      cause = undefined;
      const chunk = `3e8\r\n${'a'.repeat(1000)}\r\n`;
      const { raw } = await rawExchange(server.port, `POST /up HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk.repeat(25)}0\r\n\r\n`);
      expect((cause as { code?: number } | undefined)?.code, label).toBe(413);
      expect(raw, label).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(raw, label).not.toContain('stored\n'); // cut: no end of the body
      expect(raw, label).not.toMatch(/\r\n0\r\n\r\n$/);
      expect(server.log.text, label).toBe('');
      await server.close();
    }
  }
  expect(reported).toEqual([]);
});
