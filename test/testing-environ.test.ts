/**
 * The test client takes the server's path: for the same request, the environ the app sees is
 * the one `serve()` builds over a real socket, key by key; and the answer reads the same.
 */
import { describe, expect, it } from 'vitest';
import type http from 'node:http';
import { type App, type Environ, Request, Response } from 'tsgi';
import { TestClient } from 'tsgi/testing';
import { rawExchange, request, start } from './node-helpers.ts';

/** An app that keeps each environ it is given, and answers 200. */
function recorder(): { app: App; seen: Environ[] } {
  const seen: Environ[] = [];
  const app = Request.application(async (req) => {
    seen.push({ ...req.environ });
    await req.bytes();
    return new Response('ok');
  });
  return { app, seen };
}

/** The environ with its object values described by kind, so two environs compare as data. */
function comparable(environ: Environ): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(environ)) {
    if (key === 'tsgi.input') out[key] = typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator];
    else if (key === 'tsgi.errors') out[key] = typeof (value as { write?: unknown }).write;
    else if (key === 'tsgi.signal') out[key] = value instanceof AbortSignal && !value.aborted;
    else if (key === 'tsgi.early_hints' || key === 'tsgi.wait_until') out[key] = typeof value;
    // The wait for the head (internal): an object of the server's own, open while the app runs.
    else if (key === 'tsgi.head_settled') out[key] = typeof value === 'object' && value !== null && (value as { pending?: unknown }).pending !== null;
    // The server's shutdown (spec §2.6): the client has none, a test gives one in `environ`.
    else if (key === 'tsgi.shutdown_signal') continue;
    else if (key === 'REMOTE_PORT') out[key] = /^\d+$/.test(String(value));
    // The layer that ends the request (its environ, so a copy names it): the one the app runs in.
    else if (key === 'tsgi.cleanup_owner') out[key] = typeof value === 'object' && value !== null ? 'an environ' : value;
    else out[key] = value;
  }
  return out;
}

interface Case {
  name: string;
  method: string;
  path: string;
  /** Header pairs sent by both clients (node:http adds Host itself; the test client from the URL). */
  headers: Array<[string, string]>;
  body?: string;
}

const CASES: Case[] = [
  {
    name: 'GET with a non-ASCII path, a raw query, repeated fields and a name with _',
    method: 'GET',
    path: '/some/p%C3%A4th/a%2Fb?x=1&y=%20z&&q',
    headers: [
      ['Accept', 'text/html'],
      ['Accept', 'application/json'],
      ['Cookie', 'a=1'],
      ['Cookie', 'b=2'],
      ['X_Forwarded_For', '10.0.0.1'],
      ['User-Agent', 'tsgi-test'],
      ['Connection', 'close'],
    ],
  },
  {
    name: 'POST with a urlencoded body',
    method: 'POST',
    path: '/form',
    headers: [
      ['Content-Type', 'application/x-www-form-urlencoded'],
      ['Content-Length', '7'],
      ['Connection', 'close'],
    ],
    body: 'a=1&b=2',
  },
  {
    // A path that starts with `//` is a path, not another host (`//evil.example/` resolved alone).
    name: 'GET of a path starting with //',
    method: 'GET',
    path: '//double//slash?x=1',
    headers: [['Connection', 'close']],
  },
  {
    // RFC 9112 §5.1: the whitespace around a field value is no part of it; the server strips it.
    name: 'GET with field values padded with spaces and tabs',
    method: 'GET',
    path: '/padded',
    headers: [
      ['Authorization', ' Bearer t0k3n\t'],
      ['Accept', '\t text/html'],
      ['Accept', 'application/json  '],
      ['Cookie', ' a=1 '],
      ['Connection', 'close'],
    ],
  },
  {
    // The client's own Transfer-Encoding: the body goes chunked, as serve() reads such a request.
    name: 'POST with a body the headers say is chunked',
    method: 'POST',
    path: '/upload',
    headers: [
      ['Content-Type', 'text/plain'],
      ['Transfer-Encoding', 'chunked'],
      ['Connection', 'close'],
    ],
    body: 'hello',
  },
  { name: 'HEAD of the root', method: 'HEAD', path: '/', headers: [['Connection', 'close']] },
  { name: 'DELETE with a query only', method: 'DELETE', path: '/items/3?force=1', headers: [['Connection', 'close']] },
];

describe('the test client builds the environ serve() builds', () => {
  it.each(CASES)('$name: key by key', async ({ method, path, headers, body }) => {
    const { app, seen } = recorder();
    const server = await start(app, { host: '127.0.0.1' });
    const grouped: http.OutgoingHttpHeaders = {};
    for (const [name, value] of headers) {
      const existing = grouped[name];
      grouped[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [String(existing)]), value];
    }
    const wire = await request(`${server.url}${path}`, { method, headers: grouped, body });
    expect(wire.status).toBe(200);

    const client = new TestClient(app, { baseUrl: server.url });
    // Content-Length is the body's business in the test client, as in fetch().
    const res = await client.request(method, path, { headers: headers.filter(([name]) => name !== 'Content-Length'), body });
    expect(res.statusCode).toBe(200);

    const [fromServer, fromClient] = seen as [Environ, Environ];
    expect(comparable(fromClient)).toEqual(comparable(fromServer));
    expect(fromClient.REQUEST_URI).toBe(path);
    if (path.startsWith('/some/')) {
      expect(fromClient).toMatchObject({ PATH_INFO: '/some/päth/a/b', HTTP_ACCEPT: 'text/html, application/json', HTTP_COOKIE: 'a=1; b=2' });
      expect(fromClient).not.toHaveProperty('HTTP_X_FORWARDED_FOR');
    }
  });

  it('keeps the ? of an empty query in REQUEST_URI, as a browser sends it and serve() reads it', async () => {
    // A browser sends a bare `?` (a GET form with no entries). node:http's request() drops it, and
    // so does Node 22's fetch(): the request line is written by hand.
    const { app, seen } = recorder();
    const server = await start(app, { host: '127.0.0.1' });
    const base = server.url.replace(/\/$/, '');
    expect((await rawExchange(server.port, 'GET /search? HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).raw).toMatch(/^HTTP\/1\.1 200 /);
    expect((await new TestClient(app, { baseUrl: base }).get('/search?')).statusCode).toBe(200);
    const [fromServer, fromClient] = seen as [Environ, Environ];
    expect([fromServer.REQUEST_URI, fromServer.QUERY_STRING]).toEqual(['/search?', '']);
    expect([fromClient.REQUEST_URI, fromClient.QUERY_STRING]).toEqual(['/search?', '']);
  });

  it('reads a Host padded with whitespace as the server does: the app is called at that host, and its cookies are filed there', async () => {
    const app = Request.application((req) => {
      const res = new Response(`${req.host} ${req.cookies.seen ?? '-'}`);
      res.setCookie('seen', 'yes');
      return res;
    });
    const server = await start(app, { host: '127.0.0.1' });
    const wire = await request(`${server.url}/`, { headers: { host: ' shop.example\t', connection: 'close' } });
    expect([wire.status, wire.body.toString()]).toEqual([200, 'shop.example -']);
    const client = new TestClient(app);
    const first = await client.get('/', { headers: { host: ' shop.example\t' } });
    expect([first.statusCode, first.textBody, first.url]).toEqual([200, 'shop.example -', 'http://shop.example/']);
    expect(client.cookies.all().map(({ name, domain }) => [name, domain])).toEqual([['seen', 'shop.example']]);
    expect((await client.get('/', { headers: { host: 'shop.example' } })).textBody).toBe('shop.example yes');
  });

  it('answers 400 to two Host fields without calling the app, as the server does (RFC 9112 §3.2)', async () => {
    let called = 0;
    const app = Request.application((req) => {
      called++;
      return new Response(req.host);
    });
    const server = await start(app, { host: '127.0.0.1' });
    const wire = await rawExchange(server.port, 'GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nConnection: close\r\n\r\n');
    expect(wire.raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\nBad Request: several Host headers\n$/);
    const client = new TestClient(app, { headers: { host: 'a.example' } });
    const res = await client.get('/', { headers: [['Host', 'a.example'], ['host', 'b.example']], status: '*' });
    expect([res.statusCode, res.textBody]).toEqual([400, 'Bad Request: several Host headers\n']);
    expect(called).toBe(0);
    // The client's own Host is replaced by the call's, not sent besides it.
    expect((await client.get('/', { headers: { host: 'b.example' } })).textBody).toBe('b.example');
    expect((await client.get('/')).textBody).toBe('a.example');
  });

  it('answers a method outside http.METHODS 501 as the server does, without calling the app, and takes the ones apps use (PURGE, QUERY, PROPFIND, MKCALENDAR, LINK, SEARCH)', async () => {
    let called = 0;
    const app: App = (environ, startResponse) => {
      called++;
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode(String(environ.REQUEST_METHOD))];
    };
    const server = await start(app, { host: '127.0.0.1' });
    const client = new TestClient(app, { status: '*' });
    const wire = async (method: string) => {
      const raw = (await rawExchange(server.port, `${method} / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)).raw;
      return [Number(raw.slice(9, 12)), raw.slice(raw.indexOf('\r\n\r\n') + 4)];
    };
    for (const method of ['PURGE', 'QUERY', 'PROPFIND', 'MKCALENDAR', 'LINK', 'SEARCH']) {
      expect(await wire(method)).toEqual([200, method]);
      const res = await client.request(method, '/');
      expect([res.statusCode, res.textBody]).toEqual([200, method]);
    }
    called = 0;
    expect(await wire('FROB')).toEqual([501, 'Not Implemented: unknown method\n']);
    const refused = await client.request('FROB', '/');
    expect([refused.statusCode, refused.textBody]).toEqual([501, 'Not Implemented: unknown method\n']);
    expect(called).toBe(0);
  });

  it('answers a Transfer-Encoding with a Content-Length, or with a coding other than chunked, as the server does, without calling the app; the framing its parser refuses before an Expect it cannot meet', async () => {
    let called = 0;
    const app = Request.application(async (req) => {
      called++;
      return new Response(await req.text());
    });
    const server = await start(app, { host: '127.0.0.1' });
    const client = new TestClient(app, { status: '*' });
    const cases: Array<{ fields: Array<[string, string]>; wire: string; status: number; text: string }> = [
      {
        fields: [['Content-Length', '5'], ['Transfer-Encoding', 'chunked']],
        wire: 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
        status: 400,
        text: 'Bad Request: Content-Length together with Transfer-Encoding\n',
      },
      {
        fields: [['Transfer-Encoding', 'gzip, chunked']],
        wire: 'Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
        status: 501,
        text: 'Not Implemented: the transfer coding "gzip" is not supported\n',
      },
      {
        fields: [['Content-Length', '5'], ['Transfer-Encoding', 'chunked'], ['Expect', '200-ok']],
        wire: 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\nExpect: 200-ok\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
        status: 400,
        text: 'Bad Request: Content-Length together with Transfer-Encoding\n',
      },
      {
        fields: [['Content-Length', '5'], ['Content-Length', '5'], ['Expect', '200-ok']],
        wire: 'Content-Length: 5\r\nContent-Length: 5\r\nExpect: 200-ok\r\n\r\nhello',
        status: 400,
        text: 'Bad Request: duplicate Content-Length\n',
      },
    ];
    for (const { fields, wire, status, text } of cases) {
      const raw = (await rawExchange(server.port, `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${wire}`)).raw;
      expect(raw.slice(raw.indexOf('\r\n\r\n') + 4)).toBe(text);
      expect(raw.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
      const held = await client.post('/', { body: 'hello', headers: fields });
      expect([held.statusCode, held.textBody]).toEqual([status, text]);
      const streamed = await client.post('/', { body: new Blob(['hello']).stream(), headers: fields });
      expect([streamed.statusCode, streamed.textBody]).toEqual([status, text]);
    }
    expect(called).toBe(0);
  });

  it('answers an Expect other than 100-continue 417 as the server does, without calling the app; an empty one or 100-continue reaches it', async () => {
    let called = 0;
    const app = Request.application(async (req) => {
      called++;
      return new Response(await req.text());
    });
    const server = await start(app, { host: '127.0.0.1' });
    const raw = (await rawExchange(server.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 200-ok\r\nConnection: close\r\n\r\n')).raw;
    const text = 'Expectation Failed: the only expectation this server meets is 100-continue\n';
    expect(raw.startsWith('HTTP/1.1 417 Expectation Failed\r\n')).toBe(true);
    expect(raw.slice(raw.indexOf('\r\n\r\n') + 4)).toBe(text);
    expect(called).toBe(0);
    const client = new TestClient(app, { status: '*' });
    const refused = await client.get('/', { headers: { expect: '200-ok' } });
    expect([refused.statusCode, refused.textBody]).toEqual([417, text]);
    expect(called).toBe(0);
    expect((await client.post('/', { body: 'hi', headers: { expect: '100-Continue' } })).textBody).toBe('hi');
    expect((await client.get('/', { headers: { expect: ' , ' } })).statusCode).toBe(200);
    expect(called).toBe(2);
  });

  it('gives the app a live body, read once, as serve() does: a reader that keeps no copy leaves the next one nothing', async () => {
    const files = { f: { filename: 'a.txt', content: 'hello' } };
    // The form parse keeps no copy of a multipart body: a later req.bytes() fails on the server.
    const formThenBytes = Request.application(async (req) => {
      await req.files();
      return `raw ${(await req.bytes()).byteLength}`;
    });
    const server = await start(formThenBytes, { host: '127.0.0.1' });
    const form = new FormData();
    form.append('f', new Blob(['hello']), 'a.txt');
    const wire = await fetch(server.url, { method: 'POST', body: form });
    const res = await new TestClient(formThenBytes).post('/', { files, status: '*', allowErrors: true });
    expect(res.statusCode).toBe(wire.status);
    expect(res.statusCode).toBe(500);
    expect(res.errors).toContain('the request body was read by the form parse');
    // A raw middleware that reads the body and puts no copy back: the app below reads nothing
    // on the server; lint, on in the client by default, names the mistake.
    const greedy: App = async (environ, startResponse) => {
      for await (const chunk of environ['tsgi.input']) void chunk;
      let read = 0;
      for await (const chunk of environ['tsgi.input']) read += chunk.byteLength;
      return new Response(`read again ${read}`).respond(environ, startResponse);
    };
    expect(await (await new TestClient(greedy, { lint: false }).post('/', { body: 'hello' })).text()).toBe('read again 0');
    const linted = await new TestClient(greedy).post('/', { body: 'hello', status: 500, allowErrors: true });
    expect(linted.errors).toContain('lint: tsgi.input was read to its end, then read again');
  });

  it('answers the same head and body as serve() for an array body, a stream, a 204 and a 205', async () => {
    const encoder = new TextEncoder();
    const app: App = (environ, startResponse) => {
      if (environ.PATH_INFO === '/empty') {
        startResponse('204 No Content', [['X-Kind', 'empty']]);
        return [];
      }
      // RFC 9110 §15.3.6: a 205 carries no content; the server sends `Content-Length: 0` and none of the app's bytes.
      if (environ.PATH_INFO === '/reset') {
        startResponse('205 Reset Content', [['Content-Type', 'text/plain'], ['Content-Length', '4'], ['X-Kind', 'reset']]);
        return [encoder.encode('gone')];
      }
      if (environ.PATH_INFO === '/reset-stream') {
        startResponse('205 Reset Content', [['X-Kind', 'reset']]);
        return (async function* () {
          yield encoder.encode('one ');
          await new Promise((resolve) => setTimeout(resolve, 5));
          yield encoder.encode('two');
        })();
      }
      if (environ.PATH_INFO === '/array') {
        startResponse('200 OK', [['Content-Type', 'text/plain'], ['X-Kind', 'array']]);
        return [encoder.encode('whole '), encoder.encode('body')];
      }
      startResponse('200 OK', [['Content-Type', 'text/plain'], ['X-Kind', 'stream'], ['Keep-Alive', 'timeout=1']]);
      return (async function* () {
        yield encoder.encode('one ');
        yield encoder.encode('two');
      })();
    };
    const server = await start(app, { host: '127.0.0.1' });
    // lint would refuse the app's Keep-Alive field: here the server's dropping of it is compared.
    const client = new TestClient(app, { baseUrl: server.url, lint: false });
    for (const [method, path] of ['/array', '/stream', '/empty', '/reset', '/reset-stream'].flatMap((p) => [['GET', p], ['HEAD', p]])) {
      const wire = await request(`${server.url}${path}`, { method });
      const res = await client.request(method!, path!);
      expect(res.status).toBe(`${wire.status} ${wire.statusMessage}`);
      expect(res.textBody).toBe(wire.body.toString());
      // Framing and connection fields are Node's; everything else is the app's, hop-by-hop dropped.
      const framing = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);
      const fromWire = Object.entries(wire.headers).filter(([name]) => !framing.has(name)).sort();
      const fromClient = [...res.headers].map(([name, value]) => [name.toLowerCase(), value]).sort();
      expect(fromClient).toEqual(fromWire);
    }
  });
});
