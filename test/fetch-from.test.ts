/**
 * fromFetchHandler (tsgi/fetch): a fetch handler as a gateway app, mounted with mount().
 */
import http from 'node:http';
import zlib from 'node:zlib';
import { Hono } from 'hono';
import { describe, expect, it, vi } from 'vitest';
import { type App, HTTPForbidden, Request, Response as TsgiResponse } from 'tsgi';
import { fromFetchHandler } from 'tsgi/fetch';
import { lint, mount, proxyFix } from 'tsgi/middleware';
import { parseRaw, rawExchange, rawGet, request, start, until, within } from './node-helpers.ts';
import { importFetchUnder } from './fetch-helpers.ts';

/** A handler that answers what it was given. */
async function echo(request: globalThis.Request, env?: unknown): Promise<globalThis.Response> {
  return Response.json({
    url: request.url,
    method: request.method,
    prefix: request.headers.get('x-forwarded-prefix'),
    cookie: request.headers.get('cookie'),
    connection: request.headers.get('connection'),
    body: request.body === null ? null : await request.text(),
    env: env ?? null,
  });
}

describe('fromFetchHandler', () => {
  it('hands the handler the URL as the client sent it, prefix included, by default', async () => {
    const app = mount({ '/api': fromFetchHandler(echo) });
    const res = await Request.blank('/api/x%20y?q=1', { baseUrl: 'https://example.com' }).getResponse(app);
    expect(await res.json()).toMatchObject({ url: 'https://example.com/api/x%20y?q=1', method: 'GET', prefix: null, body: null, env: null });
  });

  it('with stripPrefix, a URL relative to SCRIPT_NAME and the prefix in X-Forwarded-Prefix (never the client’s)', async () => {
    const app = mount({ '/api': fromFetchHandler(echo, { stripPrefix: true }) });
    const res = await Request.blank('/api/x?q=1', { headers: { 'X-Forwarded-Prefix': '/forged' } }).getResponse(app);
    expect(await res.json()).toMatchObject({ url: 'http://localhost/x?q=1', prefix: '/api' });
  });

  it('keeps the escapes of the path as the client sent them (%2F stays one segment), with or without the prefix', async () => {
    const app = mount({ '/api': fromFetchHandler(echo), '/bare': fromFetchHandler(echo, { stripPrefix: true }) });
    const url = async (path: string) => ((await (await Request.blank(path).getResponse(app)).json()) as { url: string }).url;
    expect(await url('/api/files/a%2Fb%3Bc?q=%2F')).toBe('http://localhost/api/files/a%2Fb%3Bc?q=%2F');
    expect(await url('/bare/files/a%2Fb/caf%C3%A9')).toBe('http://localhost/files/a%2Fb/caf%C3%A9');
    const hono = new Hono().get('/files/:name', (c) => c.text(c.req.param('name')));
    const res = await Request.blank('/files/a%2Fb').getResponse(fromFetchHandler(hono.fetch));
    expect(await res.text()).toBe('a/b');
    // A PATH_INFO a middleware rewrote is quoted from its decoded form.
    const rewritten = await Request.blank('/old%2Fpath', { environ: { PATH_INFO: '/new path' } }).getResponse(fromFetchHandler(echo));
    expect(await rewritten.json()).toMatchObject({ url: 'http://localhost/new%20path' });
  });

  it('keeps %2F as the client sent it behind a proxy that strips the prefix and sends X-Forwarded-Prefix (proxyFix), with or without stripPrefix', async () => {
    for (const [stripPrefix, expected] of [[false, 'http://localhost/pre/api/files/a%2Fb?q=1'], [true, 'http://localhost/files/a%2Fb?q=1']] as const) {
      const app = proxyFix(mount({ '/api': fromFetchHandler(echo, { stripPrefix }) }), { xPrefix: 1 });
      const res = await Request.blank('/api/files/a%2Fb?q=1', { headers: { 'X-Forwarded-Prefix': '/pre' }, environ: { REMOTE_ADDR: '127.0.0.1' } }).getResponse(app);
      expect(await res.json()).toMatchObject({ url: expected });
    }
  });

  it('never hands the handler a #fragment the client put in its request-target, over a socket', async () => {
    const server = await start(mount({ '/api': fromFetchHandler(echo) }));
    const url = async (target: string) => (JSON.parse(parseRaw((await rawExchange(server.port, rawGet(target))).raw).rest) as { url: string }).url;
    expect(await url('/api/a#frag')).toBe('http://127.0.0.1/api/a');
    expect(await url('/api/a%23b?x=1#frag')).toBe('http://127.0.0.1/api/a%23b?x=1');
    expect(server.log.text).toBe('');
  });

  it('streams the request body up, passes fields but hop-by-hop ones, and answers status, fields and body', async () => {
    const res = await Request.blank('/', { method: 'PUT', body: 'payload', headers: { Cookie: 'a=1', Connection: 'keep-alive' } }).getResponse(
      fromFetchHandler(echo),
    );
    expect(res.statusCode).toBe(200);
    expect(res.contentType).toBe('application/json');
    expect(await res.json()).toMatchObject({ method: 'PUT', body: 'payload', cookie: 'a=1', connection: null });
  });

  it('keeps several Set-Cookie fields, the status and reason, and gives HEAD no body', async () => {
    const handler = () =>
      new Response('made', { status: 201, statusText: 'Made', headers: [['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['X-Y', 'z']] });
    const res = await Request.blank('/').getResponse(fromFetchHandler(handler));
    expect(res.status).toBe('201 Made');
    expect(res.headers.getAll('Set-Cookie')).toEqual(['a=1', 'b=2']);
    expect(await res.text()).toBe('made');
    const head = await Request.blank('/', { method: 'HEAD' }).getResponse(fromFetchHandler(handler));
    expect(await head.text()).toBe('');
  });

  it("keeps the handler's Proxy-Authenticate, which its 407 must carry (RFC 9110 §15.5.8), over a socket", async () => {
    // A proxy's login written as a fetch handler (fetch() itself never yields a 407: the Fetch
    // Standard makes it a network error, so no upstream's challenge comes this way).
    const app = new Hono().all('*', (c) => c.text('Log in to the proxy.', 407, { 'Proxy-Authenticate': 'Basic realm="proxy"', Connection: 'keep-alive' }));
    const server = await start(lint(fromFetchHandler(app.fetch)));
    const res = await request(server.url);
    expect(res.status).toBe(407);
    expect(res.headers['proxy-authenticate']).toBe('Basic realm="proxy"');
    expect(res.body.toString()).toBe('Log in to the proxy.');
    expect(server.log.text).toBe('');
    // Its other connection fields stay the handler's own (the server's, not sent on).
    const kept = TsgiResponse.fromFetch(await app.fetch(new globalThis.Request('http://localhost/')));
    expect([kept.headers.get('proxy-authenticate'), kept.headers.get('connection')]).toEqual(['Basic realm="proxy"', null]);
    // As the Upgrade a 426 must carry (RFC 9110 §15.5.22); on another status it is the server's.
    const upgrade = (status: number) => TsgiResponse.fromFetch(new Response(null, { status, headers: { Upgrade: 'websocket' } })).headers.get('upgrade');
    expect([upgrade(426), upgrade(200)]).toEqual(['websocket', null]);
  });

  it('names a network-error response (Response.error()) a handler returns, not "invalid HTTP status: 0", over a socket', async () => {
    const message = 'Response.fromFetch: a network-error response (Response.error(): type "error", status 0) is no HTTP answer: fetch() never resolves with one; a handler answering it failed the request';
    expect(() => TsgiResponse.fromFetch(Response.error())).toThrow(new TypeError(message));
    const server = await start(fromFetchHandler(() => Response.error()));
    const res = await request(server.url);
    expect(res.status).toBe(500);
    await until(() => server.log.text.includes(message));
  });

  it('answers a HEAD without a length when the handler gave none, not Content-Length: 0, over a socket', async () => {
    // Hono answers a HEAD with the GET's fields and no body: a streamed GET declares no length.
    const app = new Hono().get('/', (c) => c.body(new ReadableStream({ start: (controller) => controller.close() }), 200, { 'Content-Type': 'text/plain' }));
    const server = await start(fromFetchHandler(app.fetch));
    const head = await request(server.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBeUndefined();
    // A length the handler declared stays.
    const declared = await start(fromFetchHandler(() => new Response(null, { headers: { 'Content-Length': '7' } })));
    expect((await request(declared.url, { method: 'HEAD' })).headers['content-length']).toBe('7');
  });

  it("cancels the handler's streamed body when a HEAD answer drops it, over a socket (an event source stops)", async () => {
    let cancelled = false;
    let timer: ReturnType<typeof setInterval> | undefined;
    const handler = () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            timer = setInterval(() => controller.enqueue(new TextEncoder().encode('data: x\n\n')), 5);
          },
          cancel() {
            cancelled = true;
            clearInterval(timer);
          },
        }),
        { headers: { 'Content-Type': 'text/event-stream' } },
      );
    const server = await start(fromFetchHandler(handler));
    try {
      const head = await request(server.url, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.body.byteLength).toBe(0);
      await until(() => cancelled);
    } finally {
      clearInterval(timer);
    }
  });

  it("cancels the handler's idle event stream at once when the client leaves, not at its next event", async () => {
    let cancelled = false;
    const handler = () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('data: first\n\n')); // then nothing for a long while
          },
          cancel() {
            cancelled = true;
          },
        }),
        { headers: { 'Content-Type': 'text/event-stream' } },
      );
    const server = await start(fromFetchHandler(handler));
    await new Promise<void>((resolve) => {
      const req = http.get(server.url, { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
    });
    expect(await within(() => cancelled, 1000)).toBe(true);
    expect(server.log.text).toBe('');
  });

  it('mounts a Hono app, routes relative to the mount point', async () => {
    const hono = new Hono().get('/users/:id', (c) => c.json({ id: c.req.param('id'), url: c.req.url }));
    const app = mount({ '/api': fromFetchHandler(hono.fetch, { stripPrefix: true }) });
    const res = await Request.blank('/api/users/7').getResponse(app);
    expect(await res.json()).toEqual({ id: '7', url: 'http://localhost/users/7' });
    expect((await Request.blank('/api/nothing').getResponse(app)).statusCode).toBe(404);
  });

  it('refuses at once what is not a handler, and names .fetch when given the app itself', () => {
    const hono = new Hono();
    expect(() => fromFetchHandler(hono as never)).toThrow(/pass the app’s fetch \(fromFetchHandler\(app\.fetch\)\)/);
    expect(() => fromFetchHandler(undefined as never)).toThrow(TypeError);
  });

  it('answers the 413 of a body past maxBodySize that the handler read, not the 500 the framework made of it, over a socket', async () => {
    const hono = new Hono().post('/echo', async (c) => c.json(await c.req.json()));
    const caught = (request: globalThis.Request) =>
      request.text().then(
        () => new Response('read'),
        () => new Response('could not read', { status: 500 }),
      );
    const ownAnswer = (request: globalThis.Request) => request.text().then(() => new Response('read'), () => new Response('too big, says the handler', { status: 413 }));
    const app = mount({
      '/hono': fromFetchHandler(hono.fetch, { stripPrefix: true }),
      '/caught': fromFetchHandler(caught),
      '/own': fromFetchHandler(ownAnswer),
    });
    const server = await start(app, { maxBodySize: 1000 });
    // Chunked (no Content-Length), so the limit is met while the handler reads, not before the app.
    const post = (path: string) =>
      request(`${server.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, body: JSON.stringify('x'.repeat(5000)) });
    for (const path of ['/hono/echo', '/caught']) {
      const res = await post(path);
      expect(res.status, path).toBe(413);
      expect(res.body.toString(), path).toContain('Content Too Large');
    }
    const own = await post('/own');
    expect([own.status, own.body.toString()]).toEqual([413, 'too big, says the handler']);
    expect((await request(`${server.url}/hono/echo`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"a":1}' })).body.toString()).toBe('{"a":1}');
  });

  it('hands the handler OPTIONS * as its target URI, the host with an empty path (never a host ending in *), over a socket', async () => {
    const server = await start(fromFetchHandler(echo));
    for (const host of ['example.com', '127.0.0.1:8080']) {
      const res = parseRaw((await rawExchange(server.port, `OPTIONS * HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).raw);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.rest)).toMatchObject({ url: `http://${host}/`, method: 'OPTIONS' });
    }
    expect(server.log.text).toBe('');
  });

  it("does not pass on Expect: 100-continue, which the server answered, so a handler can forward the request with fetch(), over a socket", async () => {
    const upstream = http.createServer((req, res) => {
      let length = 0;
      req.on('data', (chunk: Buffer) => (length += chunk.length));
      req.on('end', () => res.end(`${req.headers.expect ?? 'none'} ${length}`));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = upstream.address() as import('node:net').AddressInfo;
      const server = await start(mount({ '/api': fromFetchHandler((request) => fetch(`http://127.0.0.1:${port}/`, request)) }));
      const reply = await request(`${server.url}/api/upload`, { method: 'POST', headers: { Expect: '100-continue' }, body: 'x'.repeat(2000) });
      expect(reply.status).toBe(200);
      expect(reply.body.toString()).toBe('none 2000');
      expect(server.log.text).toBe('');
    } finally {
      upstream.close();
    }
  });

  it('leaves out the fields the client named in Connection, hop-by-hop too (RFC 9110 §7.6.1), over a socket', async () => {
    const server = await start(fromFetchHandler((request) => Response.json([...request.headers.keys()])));
    const res = parseRaw(
      (await rawExchange(server.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nX-Kept: 2\r\n\r\n')).raw,
    );
    expect(JSON.parse(res.rest)).toEqual(['host', 'x-kept']);
  });

  it("leaves out of the answer the fields the handler's Response names in Connection (an upstream's, through fetch()), as proxy does, over a socket", async () => {
    const upstream = http.createServer((_req, res) => {
      res.writeHead(200, { Connection: 'keep-alive, X-Hop', 'X-Hop': '1', 'X-Kept': '2', 'Content-Type': 'text/plain' });
      res.end('upstream');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = upstream.address() as import('node:net').AddressInfo;
      const server = await start(fromFetchHandler(() => fetch(`http://127.0.0.1:${port}/`)));
      const reply = await request(`${server.url}/`);
      expect([reply.status, reply.body.toString(), reply.headers['x-kept']]).toEqual([200, 'upstream', '2']);
      expect(reply.headers['x-hop']).toBeUndefined();
      expect(server.log.text).toBe('');
    } finally {
      upstream.close();
    }
  });

  it("answers what fetch() gave the handler uncoded, without the upstream's Content-Encoding and Content-Length, since fetch() decoded it, over a socket", async () => {
    const text = 'hello, compressed world\n'.repeat(40);
    const coders: Record<string, (bytes: Buffer) => Buffer> = {
      gzip: (bytes) => zlib.gzipSync(bytes),
      br: (bytes) => zlib.brotliCompressSync(bytes),
      deflate: (bytes) => zlib.deflateSync(bytes),
      'gzip, br': (bytes) => zlib.brotliCompressSync(zlib.gzipSync(bytes)),
    };
    const upstream = http.createServer((req, res) => {
      const coding = decodeURIComponent(req.url!.slice(1));
      const body = coders[coding]!(Buffer.from(text));
      res.writeHead(200, { 'Content-Encoding': coding, 'Content-Length': body.byteLength, 'Content-Type': 'text/plain', ETag: '"v1"' });
      res.end(body);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = upstream.address() as import('node:net').AddressInfo;
      // The handler's own coded bytes (a compress middleware of its framework) keep their field.
      const own = zlib.gzipSync(text);
      const server = await start(
        fromFetchHandler((request) => {
          const path = new URL(request.url).pathname;
          if (path === '/own') return new Response(own, { headers: { 'Content-Encoding': 'gzip' } });
          return fetch(`http://127.0.0.1:${port}${path}`);
        }),
      );
      for (const coding of Object.keys(coders)) {
        const reply = await request(`${server.url}/${encodeURIComponent(coding)}`, { headers: { 'accept-encoding': 'gzip, br, deflate' } });
        expect([reply.status, reply.headers['content-encoding'], reply.body.toString()], coding).toEqual([200, undefined, text]);
        expect(reply.headers.etag, coding).toBe('"v1"');
      }
      const reply = await request(`${server.url}/own`, { headers: { 'accept-encoding': 'gzip' } });
      expect([reply.status, reply.headers['content-encoding'], zlib.gunzipSync(reply.body).toString()]).toEqual([200, 'gzip', text]);
      expect(server.log.text).toBe('');
    } finally {
      upstream.close();
    }
  });

  it("answers a HEAD and a 304 that fetch() gave the handler with the fields of its GET, without the upstream's Content-Encoding and coded Content-Length, over a socket", async () => {
    const body = zlib.gzipSync('hello, compressed world\n'.repeat(40));
    const upstream = http.createServer((req, res) => {
      const fields = { 'Content-Encoding': 'gzip', 'Content-Type': 'text/plain', ETag: '"v1"' };
      if (req.headers['if-none-match'] === '"v1"') res.writeHead(304, fields).end();
      else res.writeHead(200, { ...fields, 'Content-Length': body.byteLength }).end(req.method === 'HEAD' ? undefined : body);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = upstream.address() as import('node:net').AddressInfo;
      const server = await start(fromFetchHandler((request) => fetch(`http://127.0.0.1:${port}/`, { method: request.method, headers: request.headers })));
      const get = await request(`${server.url}/`);
      const head = await request(`${server.url}/`, { method: 'HEAD' });
      const notModified = await request(`${server.url}/`, { headers: { 'if-none-match': '"v1"' } });
      const fields = (reply: typeof get) => [reply.status, reply.headers['content-encoding'], reply.headers['content-length'] === String(body.byteLength)];
      expect(fields(get)).toEqual([200, undefined, false]);
      expect(fields(head)).toEqual([200, undefined, false]);
      expect(fields(notModified)).toEqual([304, undefined, false]);
      expect(server.log.text).toBe('');
    } finally {
      upstream.close();
    }
  });

  it("on a Node whose fetch() does not decode zstd yet (undici before 7.11: early Node 24 releases), keeps a fetched zstd answer's Content-Encoding, its bytes still coded, over a socket", async () => {
    const text = 'hello, zstd world\n'.repeat(40);
    const coded = zlib.zstdCompressSync(Buffer.from(text));
    const real = Object.getOwnPropertyDescriptor(process.versions, 'undici')!;
    Object.defineProperty(process.versions, 'undici', { ...real, value: '7.10.0' });
    vi.resetModules();
    let fetchEntry: typeof import('tsgi/fetch');
    try {
      // Loaded afresh, as on such a Node: the codings fetch() decodes are read when the module loads.
      fetchEntry = await import('tsgi/fetch');
    } finally {
      Object.defineProperty(process.versions, 'undici', real);
      vi.resetModules();
    }
    // What that fetch() gives: a Response with its URL, its zstd bytes left as they came.
    const server = await start(
      fetchEntry.fromFetchHandler(() => {
        const fetched = new Response(coded, { headers: { 'Content-Encoding': 'zstd', 'Content-Length': String(coded.byteLength) } });
        Object.defineProperty(fetched, 'url', { value: 'http://upstream.test/' });
        return fetched;
      }),
    );
    const reply = await request(`${server.url}/`, { headers: { 'accept-encoding': 'zstd' } });
    expect([reply.status, reply.headers['content-encoding'], reply.headers['content-length']]).toEqual([200, 'zstd', String(coded.byteLength)]);
    expect(zlib.zstdDecompressSync(reply.body).toString()).toBe(text);
    expect(server.log.text).toBe('');
  });

  it('takes Node for Node under a stubbed Deno or Bun global (a test of Supabase edge functions), so a fetched deflate or list-coded answer goes out as its text, over a socket', async () => {
    const text = 'hello, stubbed world\n'.repeat(40);
    const coders: Record<string, (bytes: Buffer) => Buffer> = {
      deflate: (bytes) => zlib.deflateSync(bytes),
      'gzip, br': (bytes) => zlib.brotliCompressSync(zlib.gzipSync(bytes)),
    };
    const upstream = http.createServer((req, res) => {
      const coding = decodeURIComponent(req.url!.slice(1));
      const body = coders[coding]!(Buffer.from(text));
      res.writeHead(200, { 'Content-Encoding': coding, 'Content-Length': body.byteLength, 'Content-Type': 'text/plain' }).end(body);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = upstream.address() as import('node:net').AddressInfo;
      for (const [name, stub] of [['Deno', { env: { get: () => undefined } }], ['Bun', { spawn() {} }]] as const) {
        const fetchEntry = await importFetchUnder(name, stub);
        const server = await start(fetchEntry.fromFetchHandler((request) => fetch(`http://127.0.0.1:${port}${new URL(request.url).pathname}`)));
        for (const coding of Object.keys(coders)) {
          const reply = await request(`${server.url}/${encodeURIComponent(coding)}`);
          expect([reply.status, reply.headers['content-encoding'], reply.body.toString()], `${name}: ${coding}`).toEqual([200, undefined, text]);
        }
        expect(server.log.text, name).toBe('');
      }
    } finally {
      upstream.close();
    }
  });

  it('answers 501, not a logged 500, to a TRACE, TRACK or CONNECT a fetch Request cannot carry, over a socket', async () => {
    let calls = 0;
    const app = mount({ '/api': fromFetchHandler((request) => (calls++, echo(request))) });
    const server = await start(app);
    const res = parseRaw((await rawExchange(server.port, 'TRACE /api/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).raw);
    expect(res.status).toBe(501);
    expect(res.rest).toContain('TRACE');
    expect(server.log.text).toBe('');
    // TRACK and CONNECT, which Node's parser does not hand to an app, in-process.
    for (const method of ['TRACK', 'CONNECT']) expect((await Request.blank('/api/x', { method }).getResponse(app)).statusCode).toBe(501);
    expect(calls).toBe(0);
  });

  it('redirects a path with dot segments to the resolved one instead of resolving them out of sight of the layers above, over a socket', async () => {
    // A guard above reads PATH_INFO with its dot segments; the fetch URL resolves them (WHATWG),
    // so /x/../admin reached the handler as /admin past a guard that refuses /admin.
    let calls = 0;
    const handler = fromFetchHandler((request) => (calls++, echo(request)));
    const guarded: App = (environ, startResponse) => {
      if (environ.PATH_INFO.startsWith('/admin')) return new HTTPForbidden().respond(environ, startResponse);
      return handler(environ, startResponse);
    };
    const server = await start(guarded);
    try {
      for (const [target, location] of [
        ['/x/../admin/users?q=1', '/admin/users?q=1'],
        ['/x/%2e%2E/admin/users', '/admin/users'],
        ['/x/.%2e/admin', '/admin'],
        ['/x/./admin/', '/x/admin/'],
      ]) {
        const res = parseRaw((await rawExchange(server.port, rawGet(target!))).raw);
        expect([res.status, res.header('location')], target).toEqual([308, `http://127.0.0.1${location}`]);
      }
      expect(calls).toBe(0);
      // Followed, the clean URL comes back through the guard.
      expect(parseRaw((await rawExchange(server.port, rawGet('/admin/users'))).raw).status).toBe(403);
      // Escapes that hide no dot segment still reach the handler as sent.
      const kept = parseRaw((await rawExchange(server.port, rawGet('/files/a%2Fb/..c/.d'))).raw);
      expect(JSON.parse(kept.rest)).toMatchObject({ url: 'http://127.0.0.1/files/a%2Fb/..c/.d' });
      expect(server.log.text).toBe('');
    } finally {
      await server.close();
    }
  });

  it('names a handler that answered no Response (a route that forgot its return), not a TypeError about reading headers', async () => {
    for (const [answer, shown] of [[undefined, 'undefined'], [{ status: 200 }, 'an object']] as const) {
      const app = fromFetchHandler(() => answer as unknown as globalThis.Response);
      await expect(Request.blank('/').getResponse(app)).rejects.toThrow(`fromFetchHandler: the handler answered ${shown}, not a Response`);
    }
  });

  it('lets a handler error reach the caller (the server or errors() answers 500)', async () => {
    const app = fromFetchHandler(() => {
      throw new Error('handler failed');
    });
    await expect(Request.blank('/').getResponse(app)).rejects.toThrow('handler failed');
  });
});
