/**
 * toFetchHandler (tsgi/fetch): the environ of a fetch Request, the answer built from the app's
 * status, headers and body, errors before and after the head, cancel → return().
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { type App, type Environ, HTTPNotFound, HTTPServiceUnavailable, Request, Response, serve } from 'tsgi';
import { fetchEnvKey, fetchExecutionContextKey, fetchRequestKey, toFetchHandler } from 'tsgi/fetch';
import { errors as errorsMiddleware } from 'tsgi/middleware';
import { deferred, parseRaw, rawExchange, request, within } from './node-helpers.ts';
import { importFetchUnder, serveFetch } from './fetch-helpers.ts';

const enc = new TextEncoder();

/** An app that answers its environ (the CGI keys and a few tsgi ones) as JSON. */
const dump: App = (environ, start) => {
  const shown: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(environ)) if (typeof value === 'string' || typeof value === 'boolean') shown[key] = value;
  start('200 OK', [['Content-Type', 'application/json']]);
  return [enc.encode(JSON.stringify(shown))];
};

function log(): { write(message: string): void; lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (message: string) => void lines.push(message) };
}

async function environOf(url: string, init: RequestInit = {}, env?: unknown): Promise<Record<string, unknown>> {
  const res = await toFetchHandler(dump)(new globalThis.Request(url, init), env);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe('toFetchHandler: the environ', () => {
  it('takes scheme, host and port from the URL, decodes PATH_INFO, keeps REQUEST_URI and QUERY_STRING raw', async () => {
    const environ = await environOf('https://example.com:8443/caf%C3%A9/a%2Fb?q=%20x&y', { headers: { 'X-Demo': 'yes' } });
    expect(environ).toMatchObject({
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '',
      PATH_INFO: '/café/a/b',
      QUERY_STRING: 'q=%20x&y',
      REQUEST_URI: '/caf%C3%A9/a%2Fb?q=%20x&y',
      SERVER_NAME: 'example.com',
      SERVER_PORT: '8443',
      SERVER_PROTOCOL: 'HTTP/1.1',
      HTTP_HOST: 'example.com:8443',
      HTTP_X_DEMO: 'yes',
      'tsgi.url_scheme': 'https',
      'tsgi.multithread': false,
      'tsgi.multiprocess': false,
    });
  });

  it('drops the #fragment a Request URL may carry, as the Node adapter does', async () => {
    expect(await environOf('http://h/a?x=1#f')).toMatchObject({ PATH_INFO: '/a', QUERY_STRING: 'x=1', REQUEST_URI: '/a?x=1' });
    expect(await environOf('http://h#f')).toMatchObject({ PATH_INFO: '/', QUERY_STRING: '', REQUEST_URI: '/' });
  });

  it('uses the default port of the scheme, an IPv6 host without brackets, and the options', async () => {
    expect(await environOf('http://[::1]/')).toMatchObject({ SERVER_NAME: '::1', SERVER_PORT: '80', HTTP_HOST: '[::1]' });
    expect(await environOf('https://h/')).toMatchObject({ SERVER_PORT: '443' });
    const res = await toFetchHandler(dump, { serverName: 'public.example', serverPort: 443, multiprocess: true })(new globalThis.Request('http://h:8080/'));
    expect(await res.json()).toMatchObject({ SERVER_NAME: 'public.example', SERVER_PORT: '443', 'tsgi.multiprocess': true });
  });

  it('maps Content-Type and Content-Length to their CGI keys and drops names with "_"', async () => {
    const headers = new Headers({ 'Content-Type': 'text/plain', 'Content-Length': '5', 'X_Forwarded_For': '6.6.6.6', 'X-Forwarded-For': '1.2.3.4' });
    const environ = await environOf('http://h/', { method: 'POST', body: 'hello', headers });
    expect(environ).toMatchObject({ CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: '5', HTTP_X_FORWARDED_FOR: '1.2.3.4' });
    expect(environ.HTTP_CONTENT_TYPE).toBeUndefined();
  });

  it('sets tsgi.input_terminated for a body without Content-Length only', async () => {
    const sized = await environOf('http://h/', { method: 'POST', body: 'hello', headers: { 'Content-Length': '5' } });
    expect(sized['tsgi.input_terminated']).toBeUndefined();
    const stream = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(enc.encode('hi')), c.close()) });
    const unsized = await environOf('http://h/', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(unsized['tsgi.input_terminated']).toBe(true);
    expect((await environOf('http://h/'))['tsgi.input_terminated']).toBeUndefined();
  });

  it('applies maxBodySize: a declared length past it is 413 without the app, a body of unknown length fails its read with 413', async () => {
    let called = 0;
    const app = Request.application(async (req) => {
      called++;
      return `read ${(await req.bytes()).byteLength}`;
    });
    const handler = toFetchHandler(app, { maxBodySize: 4 });
    const declared = await handler(new globalThis.Request('http://h/', { method: 'POST', body: 'hello', headers: { 'Content-Length': '5' } }));
    expect([declared.status, await declared.text(), called]).toEqual([413, 'Content Too Large: maxBodySize exceeded: the request body is larger than 4 bytes\n', 0]);
    const chunks = (...parts: string[]) => new ReadableStream<Uint8Array>({ start: (c) => (parts.forEach((p) => c.enqueue(enc.encode(p))), c.close()) });
    const unsized = await handler(new globalThis.Request('http://h/', { method: 'POST', body: chunks('he', 'llo'), duplex: 'half' } as RequestInit));
    expect([unsized.status, called]).toEqual([413, 1]);
    const small = await handler(new globalThis.Request('http://h/', { method: 'POST', body: chunks('he', 'll'), duplex: 'half' } as RequestInit));
    expect([small.status, await small.text()]).toEqual([200, 'read 4']);
    expect((await handler(new globalThis.Request('http://h/'))).status).toBe(200);
    expect(() => toFetchHandler(app, { maxBodySize: -1 })).toThrow(TypeError);
  });

  it('moves scriptName into SCRIPT_NAME, and answers 404 outside it without calling the app', async () => {
    let called = 0;
    const handler = toFetchHandler((environ, start) => {
      called++;
      start('200 OK', []);
      return [enc.encode(`${environ.SCRIPT_NAME}|${environ.PATH_INFO}`)];
    }, { scriptName: '/api' });
    expect(await (await handler(new globalThis.Request('http://h/api/users'))).text()).toBe('/api|/users');
    expect(await (await handler(new globalThis.Request('http://h/api'))).text()).toBe('/api|');
    const outside = await handler(new globalThis.Request('http://h/apix'));
    expect(outside.status).toBe(404);
    expect(called).toBe(2);
    expect(() => toFetchHandler(dump, { scriptName: 'api/' })).toThrow(TypeError);
  });

  it("takes a Request URL of the path alone (Bun's for an HTTP/1.0 request without Host) as the path, the server's origin from Bun's Server", async () => {
    // Bun makes request.url '/api/users/1?x=1' when there is no Host to build it from.
    const pathOnly = () => Object.defineProperty(new globalThis.Request('http://ignored/'), 'url', { value: '/api/users/1?x=1' });
    const bun = { requestIP: () => ({ address: '127.0.0.1', port: 5000 }), url: new URL('http://127.0.0.1:3000/') };
    const res = await toFetchHandler(dump)(pathOnly(), bun);
    const fromBun = (await res.json()) as Record<string, unknown>;
    expect(fromBun).toMatchObject({ PATH_INFO: '/api/users/1', QUERY_STRING: 'x=1', REQUEST_URI: '/api/users/1?x=1' });
    expect(fromBun).toMatchObject({ SERVER_NAME: '127.0.0.1', SERVER_PORT: '3000', 'tsgi.url_scheme': 'http', REMOTE_ADDR: '127.0.0.1' });
    expect(fromBun.HTTP_HOST).toBeUndefined();
    const elsewhere = (await (await toFetchHandler(dump, { serverPort: 8000 })(pathOnly())).json()) as Record<string, unknown>;
    expect(elsewhere).toMatchObject({ PATH_INFO: '/api/users/1', SERVER_NAME: 'localhost', SERVER_PORT: '8000', 'tsgi.url_scheme': 'http' });
    expect(elsewhere.HTTP_HOST).toBeUndefined();
  });

  it("keeps a localhost authority as HTTP_HOST on Node under a stubbed Deno global (a test of Supabase edge functions): it is no URL Deno made up", async () => {
    const fetchEntry = await importFetchUnder('Deno', { env: { get: () => undefined } });
    const res = await fetchEntry.toFetchHandler(dump, { trustedHosts: ['localhost'] })(new globalThis.Request('http://localhost:8000/x'));
    expect(await res.json()).toMatchObject({ HTTP_HOST: 'localhost:8000', SERVER_NAME: 'localhost', SERVER_PORT: '8000' });
  });

  it('answers 400 for a malformed escape or invalid UTF-8, 431 past maxHeaders, without calling the app', async () => {
    let called = 0;
    const handler = toFetchHandler(() => {
      called++;
      return [];
    }, { maxHeaders: 3 });
    for (const path of ['/%zz', '/%C3', '/%ED%A0%80']) {
      const res = await handler(new globalThis.Request(`http://h${path}`));
      expect(res.status, path).toBe(400);
      expect(await res.text()).toBe('Bad Request: malformed percent-escape or invalid UTF-8 in the path\n');
    }
    const many = await handler(new globalThis.Request('http://h/', { headers: { a: '1', b: '2', c: '3', d: '4' } }));
    expect(many.status).toBe(431);
    expect(called).toBe(0);
  });

  it("keeps a bodiless request's body reads its own: a form parse of one leaves the next requests' reads alone, over a socket as under serve()", async () => {
    // A GET carries no body; its app may still read one (req.form() of a search form, req.bytes()).
    const app = Request.application(async (req) => {
      if (req.pathInfo === '/form') return new Response(`form ${[...(await req.form()).keys()].length}`);
      let parts = 0;
      if (req.pathInfo === '/parts') for await (const _part of req.parts()) parts++;
      return new Response(req.pathInfo === '/parts' ? `parts ${parts}` : `bytes ${(await req.bytes()).byteLength}`);
    });
    const errors = log();
    const served = await serveFetch(toFetchHandler(app, { log: errors }));
    const node = await serve(app, { port: 0, log: errors });
    const multipart = 'Content-Type: multipart/form-data; boundary=x\r\n';
    try {
      for (const port of [node.port, served.port]) {
        const answers: string[] = [];
        for (const [path, fields] of [['/bytes', ''], ['/form', multipart], ['/bytes', ''], ['/parts', multipart], ['/bytes', '']]) {
          const { raw } = await rawExchange(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${fields}Connection: close\r\n\r\n`);
          answers.push(`${parseRaw(raw).status} ${parseRaw(raw).rest}`);
        }
        expect(answers, port === node.port ? 'serve()' : 'toFetchHandler').toEqual(['200 bytes 0', '200 form 0', '200 bytes 0', '200 parts 0', '200 bytes 0']);
      }
      expect(errors.lines).toEqual([]);
      // Two at once, in process: neither is told the other is reading its body.
      const handler = toFetchHandler(app, { log: errors });
      const both = await Promise.all([handler(new globalThis.Request('http://h/bytes')), handler(new globalThis.Request('http://h/bytes'))]);
      expect(await Promise.all(both.map((res) => res.text()))).toEqual(['bytes 0', 'bytes 0']);
      expect(errors.lines).toEqual([]);
    } finally {
      await served.close();
      await node.close({ timeout: 100 });
    }
  });

  it('drops the Content-Length of a body the runtime dropped (a GET under @hono/node-server), as serve() has none for a bodiless GET, over a socket', async () => {
    const app = Request.application(async (req) => new Response(`${req.contentLength} ${req.isBodyReadable} ${(await req.bytes()).byteLength}`));
    const served = await serveFetch(toFetchHandler(app));
    const node = await serve(app, { port: 0 });
    const send = async (port: number, head: string) => parseRaw((await rawExchange(port, `${head}Host: 127.0.0.1\r\nConnection: close\r\n\r\nabc`)).raw).rest;
    try {
      // serve() reads a GET's body; @hono/node-server hands the handler a Request with no body.
      expect(await send(node.port, 'GET / HTTP/1.1\r\nContent-Length: 3\r\n')).toBe('3 true 3');
      expect(await send(served.port, 'GET / HTTP/1.1\r\nContent-Length: 3\r\n')).toBe('null false 0');
      expect(await send(node.port, 'GET / HTTP/1.1\r\n')).toBe('null false 0');
      expect(await send(served.port, 'POST / HTTP/1.1\r\nContent-Length: 3\r\n')).toBe('3 true 3');
    } finally {
      await served.close();
      await node.close({ timeout: 100 });
    }
    // In process, undici gives a Request built without a body a null body, whatever its
    // Content-Length: a declared 0 is what the input holds, and stays.
    const handler = toFetchHandler(app);
    const declared = (length: string) => handler(new globalThis.Request('http://h/', { method: 'GET', headers: { 'content-length': length } }));
    expect(await (await declared('3')).text()).toBe('null false 0');
    expect(await (await declared('0')).text()).toBe('0 false 0');
  });

  it('streams tsgi.input from the request body and passes signal, request, env and ctx', async () => {
    const ctx = { waitUntil() {} };
    const server = { name: 'bindings' };
    const controller = new AbortController();
    const request = new globalThis.Request('http://h/', { method: 'POST', body: 'some body', signal: controller.signal });
    let seen: Environ | undefined;
    const res = await toFetchHandler(async (environ, start) => {
      seen = environ;
      const req = new Request(environ);
      start('200 OK', []);
      return [enc.encode(await req.text())];
    })(request, server, ctx);
    expect(await res.text()).toBe('some body');
    expect(fetchRequestKey.get(seen!)).toBe(request);
    expect(fetchEnvKey.get(seen!)).toBe(server);
    expect(fetchExecutionContextKey.get(seen!)).toBe(ctx);
    expect(seen!['tsgi.signal']).toBe(request.signal);
  });

  it('takes the client address from a Bun server (asked once, as the request comes in) or Deno info', async () => {
    let asked = 0;
    const bun = { requestIP: () => (asked++, { address: '10.0.0.7', family: 'IPv4', port: 51000 }) };
    expect(await environOf('http://h/', {}, bun)).toMatchObject({ REMOTE_ADDR: '10.0.0.7', REMOTE_PORT: '51000' });
    expect(asked).toBe(1);
    // Asked before the app runs, though it never reads the address: Bun answers null once the
    // request is over (test/runtimes/fetch-late-client-address.test.ts).
    await toFetchHandler((_environ, start) => (start('200 OK', []), []))(new globalThis.Request('http://h/'), bun);
    expect(asked).toBe(2);
    // A runtime that throws when asked (Deno's "Request closed") leaves the address unknown, no 500.
    const closed = {
      get remoteAddr(): never {
        throw new TypeError('Request closed');
      },
    };
    const answer = await toFetchHandler((environ, start) => (start('200 OK', []), [enc.encode(String(environ.REMOTE_ADDR))]))(new globalThis.Request('http://h/'), closed);
    expect([answer.status, await answer.text()]).toEqual([200, 'undefined']);
    const written = await toFetchHandler((environ, start) => {
      environ.REMOTE_ADDR = '192.0.2.1'; // as proxyFix does: a plain property from then on
      start('200 OK', []);
      return [enc.encode(`${environ.REMOTE_ADDR} ${environ.REMOTE_PORT} ${environ.REMOTE_ADDR}`)];
    })(new globalThis.Request('http://h/'), bun);
    expect(await written.text()).toBe('192.0.2.1 51000 192.0.2.1');
    const deno = { remoteAddr: { transport: 'tcp', hostname: '10.0.0.8', port: 52000 } };
    expect(await environOf('http://h/', {}, deno)).toMatchObject({ REMOTE_ADDR: '10.0.0.8', REMOTE_PORT: '52000' });
    expect((await environOf('http://h/')).REMOTE_ADDR).toBeUndefined();
  });

  it("builds every environ as a fast V8 object (each runtime's client address, serve(), under proxyFix, 20 header fields), before and after its lazy keys are read", async () => {
    // An environ that turns a data property into an accessor, or a lazy key back into a data
    // property, costs V8 a shape change (the first even leaves it in slow dictionary mode, where
    // every key the app reads is a hash lookup). Checked with V8's own test hook, in a child
    // process started with --allow-natives-syntax, before and after the lazy keys are read. A
    // browser behind a proxy sends 20 header fields or more: added to an environ that an object
    // literal made, those alone turn it into a dictionary.
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const fetchEntry = new URL('../src/entries/fetch.ts', import.meta.url).href;
    const nodeEntry = new URL('../src/index.ts', import.meta.url).href;
    const middlewareEntry = new URL('../src/entries/middleware.ts', import.meta.url).href;
    const script = `
      const { toFetchHandler } = await import(${JSON.stringify(fetchEntry)});
      const { serve } = await import(${JSON.stringify(nodeEntry)});
      const fast = {};
      const probe = (name) => (environ, start) => {
        fast[name] = %HasFastProperties(environ);
        if (name === 'serve(proxyFix())') fast[name] = [environ.REMOTE_ADDR, environ.REMOTE_PORT ?? null, %HasFastProperties(environ)];
        if (name.endsWith('(after reading)')) {
          const first = [environ.REMOTE_ADDR, environ['tsgi.signal'] instanceof AbortSignal];
          environ.REMOTE_ADDR = '192.0.2.1';
          fast[name] = [...first, environ.REMOTE_ADDR, environ['tsgi.signal'] === environ['tsgi.signal'], %HasFastProperties(environ)];
        }
        start('200 OK', []);
        return [];
      };
      const envs = {
        deno: { remoteAddr: { transport: 'tcp', hostname: '10.0.0.8', port: 52000 } },
        bun: { requestIP: () => ({ address: '10.0.0.7', port: 51000 }) },
        'bun (after reading)': { requestIP: () => ({ address: '10.0.0.7', port: 51000 }) },
        '@hono/node-server': { incoming: { httpVersion: '1.1', socket: { remoteAddress: '10.0.0.9', remotePort: 1 } } },
        'a plain fetch call': undefined,
      };
      for (const [name, env] of Object.entries(envs)) await toFetchHandler(probe(name))(new Request('http://h/x?y=1', { headers: { 'x-a': '1' } }), env);
      const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => ['x-field-' + i, String(i)]));
      await toFetchHandler(probe('deno, 20 fields'))(new Request('http://h/x', { headers: many }), envs.deno);
      const manyServer = await serve(probe('serve(), 20 fields'), { host: '127.0.0.1', port: 0 });
      await (await fetch(manyServer.url + '/x', { headers: many })).arrayBuffer();
      await manyServer.close();
      const { proxyFix } = await import(${JSON.stringify(middlewareEntry)});
      const apps = { 'serve()': probe('serve()'), 'serve() (after reading)': probe('serve() (after reading)'), 'serve(proxyFix())': proxyFix(probe('serve(proxyFix())'), { xFor: 1, xProto: 1 }) };
      for (const app of Object.values(apps)) {
        const server = await serve(app, { host: '127.0.0.1', port: 0 });
        await (await fetch(server.url + '/x', { headers: { 'x-forwarded-for': '192.0.2.60', 'x-forwarded-proto': 'https' } })).arrayBuffer();
        await server.close();
      }
      console.log(JSON.stringify(fast));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual({
      deno: true,
      bun: true,
      'bun (after reading)': ['10.0.0.7', true, '192.0.2.1', true, true],
      '@hono/node-server': true,
      'a plain fetch call': true,
      'serve()': true,
      'serve() (after reading)': ['127.0.0.1', true, '192.0.2.1', true, true],
      'serve(proxyFix())': ['192.0.2.60', null, true],
      'deno, 20 fields': true,
      'serve(), 20 fields': true,
    });
  }, 40_000);
});

describe('toFetchHandler: the answer', () => {
  it('re-raises a startResponse error once the first chunk was taken: never part of the 200 in a clean answer', async () => {
    const inner: App = (_environ, start) => {
      start('200 OK', [['Content-Type', 'application/json']]);
      return (function* () {
        yield enc.encode('{"items":[1,2,');
        throw new Error('inner failed');
      })();
    };
    const errorPage: App = (environ, start) =>
      (async function* () {
        try {
          for await (const chunk of await inner(environ, start)) yield chunk;
        } catch (error) {
          start('500 Internal Server Error', [['Content-Type', 'text/plain']], error);
          yield enc.encode('error page');
        }
      })();
    const errors = log();
    const res = await toFetchHandler(errorPage, { log: errors })(new globalThis.Request('http://h/'));
    const text = await res.text().catch(() => 'cut');
    expect(text).not.toContain('error page');
    if (res.status !== 500) expect(text).toBe('cut');
    else expect(text).toBe('Internal Server Error\n');
    expect(errors.lines.join('')).toContain('inner failed');
  });

  it('sends status, reason, fields in order and an array body whole; drops hop-by-hop fields', async () => {
    const res = await toFetchHandler((_environ, start) => {
      start('201 Made It', [['X-A', '1'], ['Connection', 'close'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
      return [enc.encode('ab'), enc.encode('c')];
    })(new globalThis.Request('http://h/'));
    expect(res.status).toBe(201);
    expect(res.statusText).toBe('Made It');
    expect(res.headers.get('connection')).toBeNull();
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await res.text()).toBe('abc');
  });

  it('answers HEAD with the GET headers and no body, Content-Length from a body in hand', async () => {
    const app: App = (_environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return [enc.encode('hello')];
    };
    const res = await toFetchHandler(app)(new globalThis.Request('http://h/', { method: 'HEAD' }));
    expect(res.headers.get('content-length')).toBe('5');
    expect(res.body).toBeNull();
  });

  it('sends an empty body with Content-Length: 0, as serve() does, not chunked, over a socket', async () => {
    // An empty array, an empty stream, an event stream ended by the shutdown before its first event.
    const shutdown = new AbortController();
    shutdown.abort();
    const app: App = (environ, start) => {
      if (environ.PATH_INFO === '/array') return (start('201 Created', []), []);
      start('200 OK', [['Content-Type', 'text/event-stream']]);
      return (async function* () {
        if (environ.PATH_INFO === '/events') await new Promise(() => {});
      })();
    };
    const served = await serveFetch(toFetchHandler(app, { shutdownSignal: shutdown.signal }));
    const node = await serve(app, { port: 0, shutdownSignal: shutdown.signal });
    try {
      for (const path of ['/array', '/stream', '/events']) {
        const [viaFetch, viaServe] = await Promise.all([request(`${served.url}${path}`), request(`http://127.0.0.1:${node.port}${path}`)]);
        expect([viaServe.headers['content-length'], viaServe.headers['transfer-encoding']], path).toEqual(['0', undefined]);
        expect([viaFetch.status, viaFetch.headers['content-length'], viaFetch.headers['transfer-encoding']], path).toEqual([viaServe.status, '0', undefined]);
      }
    } finally {
      await served.close();
      await node.close({ timeout: 100 });
    }
  });

  it('gives 204 and 304 no body and drops Content-Length from a 204', async () => {
    const res = await toFetchHandler((_environ, start) => {
      start('204 No Content', [['Content-Length', '0']]);
      return [];
    })(new globalThis.Request('http://h/'));
    expect(res.status).toBe(204);
    expect(res.headers.get('content-length')).toBeNull();
  });

  it('drops the body an app gives a 205 and frames it with Content-Length: 0 in place of its own (fetch refuses a body there)', async () => {
    const errors = log();
    let closed = 0;
    const body = (kind: string) => {
      if (kind === 'array') return [enc.encode('hi')];
      return (async function* () {
        try {
          yield enc.encode('h');
          await new Promise((resolve) => setTimeout(resolve, 5));
          yield enc.encode('i');
        } finally {
          closed++;
        }
      })();
    };
    for (const kind of ['array', 'stream']) {
      const res = await toFetchHandler(
        (_environ, start) => {
          start('205 Reset Content', [['Content-Type', 'text/plain'], ['Content-Length', '2']]);
          return body(kind);
        },
        { log: errors },
      )(new globalThis.Request('http://h/', { method: 'POST', body: 'form' }));
      expect(res.status).toBe(205);
      expect(res.headers.get('content-length')).toBe('0');
      expect(res.body).toBeNull();
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(1);
    expect(errors.lines).toEqual([]);
  });

  it('sends a 205 with Content-Length: 0 and nothing else, as serve() does (docs/spec.md §7.1), over a socket', async () => {
    const app: App = (environ, start) => {
      start('205 Reset Content', environ.PATH_INFO === '/sized' ? [['Content-Length', '2']] : []);
      return environ.PATH_INFO === '/sized' ? [enc.encode('hi')] : [];
    };
    const served = await serveFetch(toFetchHandler(app));
    const node = await serve(app, { port: 0 });
    try {
      for (const path of ['/empty', '/sized']) {
        for (const method of ['GET', 'HEAD']) {
          const [viaServe, viaFetch] = await Promise.all(
            [node.port, served.port].map((port) => rawExchange(port, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)),
          );
          const framing = (raw: string) => {
            const head = parseRaw(raw);
            return [head.status, head.header('content-length'), head.header('transfer-encoding'), head.rest];
          };
          expect(framing(viaServe!.raw), `serve() ${method} ${path}`).toEqual([205, '0', undefined, '']);
          expect(framing(viaFetch!.raw), `toFetchHandler ${method} ${path}`).toEqual([205, '0', undefined, '']);
        }
      }
    } finally {
      await served.close();
      await node.close({ timeout: 100 });
    }
  });

  it('streams a body chunk by chunk, asking for the next only when read, and learns a one-chunk length', async () => {
    let produced = 0;
    // Every chunk at once: a reader that pulled ahead would have them all within microtasks,
    // before the 50 ms timer below. (With a 5 ms sleep between chunks, a stalled process let
    // that timer fire before a greedy reader got far: the check then proved nothing.)
    const app: App = (_environ, start) => {
      start('200 OK', []);
      return (async function* () {
        for (let i = 0; i < 5; i++) {
          produced++;
          yield enc.encode(`${i}`);
        }
      })();
    };
    const res = await toFetchHandler(app)(new globalThis.Request('http://h/'));
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('0');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(produced).toBeLessThanOrEqual(3);
    let rest = '';
    for (let step = await reader.read(); !step.done; step = await reader.read()) rest += new TextDecoder().decode(step.value);
    expect(rest).toBe('1234');
    const single = await toFetchHandler((_environ, start) => {
      start('200 OK', []);
      return (async function* () {
        yield enc.encode('only');
      })();
    })(new globalThis.Request('http://h/'));
    expect(await single.text()).toBe('only');
  });

  it('calls the body iterator’s return() when the stream is cancelled (the client left)', async () => {
    let closed = false;
    const res = await toFetchHandler((_environ, start) => {
      start('200 OK', []);
      return (async function* () {
        try {
          for (;;) {
            yield enc.encode('tick');
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        } finally {
          closed = true;
        }
      })();
    })(new globalThis.Request('http://h/'));
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await expect.poll(() => closed).toBe(true);
  });

  it('closes a body whose first chunk has not come when the client leaves, as serve() does, over a socket', async () => {
    // A stream with nothing to send yet (an upstream body, a subscription): serve() closes it
    // at once; under toFetchHandler it stayed open until its first chunk, which may never come.
    let cancels = 0;
    const app = Request.application(() => new Response(new ReadableStream<Uint8Array>({ cancel: () => void cancels++ }), { contentType: 'text/plain' }));
    const errors = log();
    const served = await serveFetch(toFetchHandler(app, { log: errors }));
    const node = await serve(app, { port: 0, log: errors });
    try {
      for (const port of [node.port, served.port]) {
        const before = cancels;
        const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /wait HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
        socket.on('error', () => undefined);
        await new Promise((resolve) => setTimeout(resolve, 100));
        socket.destroy();
        expect(await within(() => cancels > before, 2000), port === node.port ? 'serve()' : 'toFetchHandler').toBe(true);
      }
      // The in-process caller that aborts its request is answered too (499: nobody reads it).
      const leaving = new AbortController();
      const answer = toFetchHandler(app)(new globalThis.Request('http://h/wait', { signal: leaving.signal }));
      await new Promise((resolve) => setTimeout(resolve, 20));
      leaving.abort();
      expect((await answer).status).toBe(499);
      await expect.poll(() => cancels).toBe(3);
      expect(errors.lines).toEqual([]);
    } finally {
      await served.close();
      await node.close({ timeout: 100 });
    }
  });

  it('logs nothing for an app that stops on tsgi.signal once its client left (an AbortError, or the reason itself), as serve() does, over a socket', async () => {
    // `await sleep(ms, value, { signal })` rejects with an AbortError; `fetch(url, { signal })`
    // and `signal.throwIfAborted()` with the signal's reason, which @hono/node-server makes a
    // string ('Error: aborted') and Bun and Deno an AbortError.
    let entered: () => void = () => undefined;
    const app = Request.application(async (req) => {
      entered();
      if (req.pathInfo === '/sleep') await sleep(60_000, undefined, { signal: req.signal! });
      else {
        await new Promise((resolve) => req.signal!.addEventListener('abort', resolve, { once: true }));
        req.signal!.throwIfAborted();
      }
      return new Response('never sent');
    });
    const errors = log();
    const served = await serveFetch(toFetchHandler(app, { log: errors }));
    const node = await serve(app, { port: 0, log: errors });
    try {
      for (const port of [node.port, served.port]) {
        for (const path of ['/sleep', '/reason']) {
          const inApp = new Promise<void>((resolve) => (entered = resolve));
          const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
          socket.on('error', () => undefined);
          await inApp;
          socket.destroy();
          await new Promise((resolve) => setTimeout(resolve, 100));
          expect(errors.lines, `${port === node.port ? 'serve()' : 'toFetchHandler'} ${path}`).toEqual([]);
        }
      }
      // Bun and Deno abort request.signal with an AbortError: the in-process caller that leaves.
      const leaving = new AbortController();
      const answer = toFetchHandler(app, { log: errors })(new globalThis.Request('http://h/reason', { signal: leaving.signal }));
      leaving.abort();
      await answer;
      expect(errors.lines).toEqual([]);
      // A TimeoutError of the app's own while its client stays is an app error, logged.
      const timedOut = await toFetchHandler(
        Request.application(() => sleep(60_000, 'never sent', { signal: AbortSignal.timeout(1) })),
        { log: errors },
      )(new globalThis.Request('http://h/own'));
      expect(timedOut.status).toBe(500);
      expect(errors.lines).toHaveLength(1);
      expect(errors.lines[0]).toMatch(/^\[tsgi\] GET \/own HTTP\/1\.1: AbortError/);
    } finally {
      await served.close();
      await node.close({ timeout: 100 });
    }
  });

  it("logs nothing under errors() for an app that rethrows its signal's own reason once its client left, as the adapter logs nothing, over a socket as under serve()", async () => {
    // `fetch(url, { signal })` rejects with the signal's reason: @hono/node-server's is a
    // string ('Error: aborted'), an in-process caller's whatever it aborted with.
    let entered: () => void = () => undefined;
    const app = Request.application(async (req) => {
      entered();
      await new Promise((resolve) => req.signal!.addEventListener('abort', resolve, { once: true }));
      throw req.signal!.reason;
    });
    const errors = log();
    const reported: unknown[] = [];
    const guarded = errorsMiddleware(app, { log: errors, onError: (error) => void reported.push(error) });
    const served = await serveFetch(toFetchHandler(guarded, { log: errors }));
    const node = await serve(guarded, { port: 0, log: errors });
    try {
      for (const port of [node.port, served.port]) {
        const inApp = new Promise<void>((resolve) => (entered = resolve));
        const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /reason HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
        socket.on('error', () => undefined);
        await inApp;
        socket.destroy();
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect([errors.lines, reported], port === node.port ? 'serve()' : 'toFetchHandler').toEqual([[], []]);
      }
      const leaving = new AbortController();
      const answer = toFetchHandler(guarded, { log: errors })(new globalThis.Request('http://h/reason', { signal: leaving.signal }));
      leaving.abort('the caller left');
      await answer;
      expect([errors.lines, reported]).toEqual([[], []]);
      // The same value thrown while the client is still there is an app error, logged.
      const own = await toFetchHandler(errorsMiddleware(() => Promise.reject('Error: aborted'), { log: errors }))(new globalThis.Request('http://h/own'));
      expect(own.status).toBe(500);
      expect(errors.lines).toHaveLength(1);
      expect(errors.lines[0]).toMatch(/^\[tsgi\] GET \/own HTTP\/1\.1 500: .*Error: aborted/);
    } finally {
      await served.close();
      await node.close({ timeout: 100 });
    }
  });

  it('answers an app error before the head with a plain 500 and logs it with the request line', async () => {
    const errors = log();
    const res = await toFetchHandler(() => {
      throw new Error('boom');
    }, { log: errors })(new globalThis.Request('http://h/x?y=1', { method: 'POST' }));
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('Internal Server Error\n');
    expect(errors.lines[0]).toMatch(/^\[tsgi\] POST \/x\?y=1 HTTP\/1\.1: Error: boom\n {4}at /);
  });

  it("answers a HEAD with no body when the adapter answers for the app (a 400 before it, a 500), the GET answer's length kept", async () => {
    const errors = log();
    const handler = toFetchHandler(() => {
      throw new Error('boom');
    }, { log: errors, scriptName: '/café' });
    for (const [url, status, text] of [
      ['http://h/caf%C3%A9/%zz', 400, 'Bad Request: malformed percent-escape or invalid UTF-8 in the path\n'],
      ['http://h/other', 404, 'Not Found: the app is mounted at /café\n'],
      ['http://h/caf%C3%A9/x', 500, 'Internal Server Error\n'],
    ] as const) {
      const get = await handler(new globalThis.Request(url));
      expect([get.status, await get.text()], url).toEqual([status, text]);
      const head = await handler(new globalThis.Request(url, { method: 'HEAD' }));
      expect([head.status, head.body, head.headers.get('content-length'), head.headers.get('content-type')], url).toEqual([
        status,
        null,
        String(enc.encode(text).byteLength),
        'text/plain; charset=utf-8',
      ]);
    }
  });

  it('answers an HTTPException that escapes the app before the head as itself, logging a 5xx only', async () => {
    const errors = log();
    const missing = await toFetchHandler(() => {
      throw new HTTPNotFound('No such page.');
    }, { log: errors })(new globalThis.Request('http://h/x', { headers: { accept: 'text/plain' } }));
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('No such page.');
    expect(errors.lines).toEqual([]);
    const busy: App = (_e, start) =>
      (async function* () {
        start('200 OK', [['Content-Type', 'text/plain']]);
        await Promise.resolve();
        throw new HTTPServiceUnavailable('Down for maintenance.', { headers: { 'Retry-After': '120' } });
      })();
    const res = await toFetchHandler(busy, { log: errors })(new globalThis.Request('http://h/busy', { headers: { accept: 'text/plain' } }));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('120');
    expect(await res.text()).toContain('Down for maintenance.');
    expect(errors.lines[0]).toMatch(/^\[tsgi\] GET \/busy HTTP\/1\.1 503: HTTPServiceUnavailable: Down for maintenance\./);
    const head = await toFetchHandler(() => {
      throw new HTTPNotFound();
    })(new globalThis.Request('http://h/x', { method: 'HEAD' }));
    expect(head.status).toBe(404);
    expect(await head.text()).toBe('');
  });

  it('answers 500 for what the app gets wrong: no startResponse, a bad chunk, a 1xx status, a wrong Content-Length', async () => {
    const apps: Record<string, App> = {
      'no startResponse': () => [enc.encode('x')],
      'a string chunk': (_e, start) => (start('200 OK', []), ['text' as unknown as Uint8Array]),
      'a 1xx status': (_e, start) => (start('103 Early Hints', []), []),
      'a wrong Content-Length': (_e, start) => (start('200 OK', [['Content-Length', '3']]), [enc.encode('hello')]),
      'startResponse twice': (_e, start) => (start('200 OK', []), start('200 OK', []), []),
    };
    for (const [name, app] of Object.entries(apps)) {
      const errors = log();
      const res = await toFetchHandler(app, { log: errors })(new globalThis.Request('http://h/'));
      expect(res.status, name).toBe(500);
      expect(errors.lines, name).toHaveLength(1);
    }
  });

  it('answers a logged plain 500 for a header field name or value the gateway rules refuse, over a socket as serve() does', async () => {
    // A name that is no token, and values with a control character (which fetch's Headers
    // take and would send) or a character past U+00FF (refused by @hono/node-server's writeHead
    // only: its own 500 carried the error message to the client, and tsgi.errors saw nothing).
    const fields: Array<[string, string]> = [['X Bad', 'v'], ['X-Bad', 'a\x01b'], ['X-Bad', 'a\x7fb'], ['X-Bad', 'a\u0100b']];
    const errors = log();
    const app: App = (environ, start) => {
      start('200 OK', [fields[Number(environ.QUERY_STRING)]!]);
      return [enc.encode('body')];
    };
    const handler = toFetchHandler(app, { log: errors });
    const served = await serveFetch(handler);
    const node = await serve(app, { port: 0, log: errors });
    try {
      for (let i = 0; i < fields.length; i++) {
        const inProcess = await handler(new globalThis.Request(`http://h/?${i}`));
        expect([inProcess.status, await inProcess.text()], JSON.stringify(fields[i])).toEqual([500, 'Internal Server Error\n']);
        const [viaFetch, viaServe] = await Promise.all([request(`${served.url}/?${i}`), request(`http://127.0.0.1:${node.port}/?${i}`)]);
        expect([viaFetch.status, viaFetch.body.toString()], JSON.stringify(fields[i])).toEqual([500, 'Internal Server Error\n']);
        expect(viaServe.status).toBe(500);
      }
      // Each logged by both adapters, with the request line: the in-process call, the socket, serve().
      expect(errors.lines.filter((line) => line.startsWith('[tsgi] GET /?'))).toHaveLength(3 * fields.length);
    } finally {
      await served.close();
      await node.close();
    }
  });

  it('errors the body stream for an app error after the head, and logs it', async () => {
    const errors = log();
    let closedAfterError = false;
    // The failure waits for the head to be out: a timer of its own could beat the adapter's
    // wait for a second chunk on a loaded machine, and the error would come before the head.
    const headOut = deferred();
    const res = await toFetchHandler((_environ, start) => {
      start('200 OK', []);
      return (async function* () {
        try {
          yield enc.encode('partial');
          await headOut.promise;
          throw new Error('late');
        } finally {
          closedAfterError = true;
        }
      })();
    }, { log: errors })(new globalThis.Request('http://h/'));
    expect(res.status).toBe(200);
    headOut.resolve();
    await expect(res.text()).rejects.toThrow('late');
    expect(errors.lines[0]).toMatch(/^\[tsgi\] GET \/ HTTP\/1\.1: Error: late/);
    expect(closedAfterError).toBe(true);
  });

  it('does not log again a failure after the head that the errors middleware logged (an Error or a thrown string)', async () => {
    for (const thrown of [new Error('late, logged once'), 'late string, logged once']) {
      const lines = log();
      const headOut = deferred();
      const app: App = (_environ, start) => {
        start('200 OK', [['Content-Type', 'text/plain']]);
        return (async function* () {
          yield enc.encode('partial');
          await headOut.promise;
          throw thrown;
        })();
      };
      const res = await toFetchHandler(errorsMiddleware(app), { log: lines })(new globalThis.Request('http://h/'));
      headOut.resolve();
      await expect(res.text()).rejects.toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(lines.lines).toEqual([expect.stringMatching(/^\[tsgi\] GET \/ HTTP\/1\.1 200 \(failed after the response started; the connection is aborted\): .*logged once/)]);
    }
  });

  it('errors the stream when a streamed body breaks its own Content-Length', async () => {
    const errors = log();
    const res = await toFetchHandler((_environ, start) => {
      start('200 OK', [['Content-Length', '4']]);
      return (async function* () {
        yield enc.encode('ab');
        await new Promise((resolve) => setTimeout(resolve, 5));
        yield enc.encode('cde');
      })();
    }, { log: errors })(new globalThis.Request('http://h/'));
    await expect(res.text()).rejects.toThrow(/Content-Length: 4/);
    expect(errors.lines).toHaveLength(1);
  });
});
