/**
 * Runs every file in examples/: the four chapter-10 apps and the demo that mounts them.
 * The time apps and the demo go over a real socket (their Host check wants 127.0.0.1).
 */
import { readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, type ServerHandle, Request, serve } from 'tsgi';
import * as demo from '../examples/demo.ts';
import * as environ from '../examples/environ.ts';
import * as timeApplication from '../examples/time-application.ts';
import * as timeRaw from '../examples/time-raw.ts';
import * as timeRequest from '../examples/time-request.ts';

const EXAMPLES: Record<string, { app: App }> = {
  'demo.ts': demo,
  'environ.ts': environ,
  'time-application.ts': timeApplication,
  'time-raw.ts': timeRaw,
  'time-request.ts': timeRequest,
};

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with node:http, so the Host header (or its absence) is ours to choose. */
function request(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { hostname, port, path, method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** An HTTP/1.0 request without a Host header, written on a raw socket; answers the whole reply. */
function requestWithoutHost(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(`GET ${path} HTTP/1.0\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.\d (\d{3})/.exec(text)?.[1]), body: text.slice(split + 4) });
    });
  });
}

/** The body is the current time as `Date.prototype.toString()` writes it. */
function expectTime(body: string): void {
  expect(body).toMatch(/^\w{3} \w{3} \d{2} \d{4} \d{2}:\d{2}:\d{2} GMT[+-]\d{4}/);
  expect(Math.abs(Date.parse(body) - Date.now())).toBeLessThan(60_000);
}

describe('examples/', () => {
  it('has a test for every file (add new examples to EXAMPLES and test them)', () => {
    const dir = fileURLToPath(new URL('../examples/', import.meta.url));
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((name) => /\.[cm]?[jt]s$/.test(name))
      .sort();
    expect(files).toEqual(Object.keys(EXAMPLES).sort());
  });

  it.each(Object.keys(EXAMPLES))('%s exports an app that answers GET / without a server error', async (name) => {
    const { app } = EXAMPLES[name]!;
    expect(typeof app).toBe('function');
    const server = await serve(app, { port: 0 });
    try {
      const reply = await request(server.url, '/');
      expect(reply.status).toBeLessThan(500);
      expect(reply.body).not.toBe('');
    } finally {
      await server.close();
    }
  });
});

describe('examples/environ.ts', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await serve(environ.app, { port: 0 });
  });
  afterAll(() => server.close());

  it('answers text/plain with one sorted KEY: value line per environ key', async () => {
    const reply = await request(server.url, '/some/p%C3%A4th?x=1&y', { headers: { 'X-Demo': 'yes' } });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/plain; charset=utf-8');
    const lines = reply.body.trimEnd().split('\n');
    const keys = lines.map((line) => line.slice(0, line.indexOf(': ')));
    expect(keys).toEqual([...keys].sort());
    expect(lines).toContain('REQUEST_METHOD: GET');
    expect(lines).toContain('PATH_INFO: /some/päth');
    expect(lines).toContain('QUERY_STRING: x=1&y');
    expect(lines).toContain('REQUEST_URI: /some/p%C3%A4th?x=1&y');
    expect(lines).toContain('SCRIPT_NAME: ');
    expect(lines).toContain('HTTP_X_DEMO: yes');
    expect(lines).toContain(`SERVER_PORT: ${server.port}`);
    expect(lines).toContain('tsgi.version: [1, 0]');
    expect(lines).toContain('tsgi.multiprocess: false');
    expect(lines).toContain('tsgi.input: [object IncomingMessage]');
    expect(lines).toContain('tsgi.signal: [object AbortSignal]');
  });

  it('shows odd values sensibly: control characters quoted, functions named, null as null', async () => {
    const req = Request.blank('/', {
      environ: {
        'x.ctrl': 'a\tb\nc',
        'x.fn': function handler() {},
        'x.null': null,
        'x.num': 42,
        'x.plain': { a: 1 },
        'x.list': ['a', 1, true],
      },
    });
    const res = await req.getResponse(environ.app);
    const lines = res.text.split('\n');
    expect(lines).toContain('x.ctrl: "a\\tb\\nc"');
    expect(lines).toContain('x.fn: [Function handler]');
    expect(lines).toContain('x.null: null');
    expect(lines).toContain('x.num: 42');
    expect(lines).toContain('x.plain: [object Object]');
    expect(lines).toContain('x.list: [a, 1, true]');
  });
});

describe.each([
  ['time-raw.ts', timeRaw.app],
  ['time-request.ts', timeRequest.app],
  ['time-application.ts', timeApplication.app],
])('examples/%s', (_name, app) => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await serve(app, { port: 0 });
  });
  afterAll(() => server.close());

  it('answers GET / on 127.0.0.1 with the time, text/plain', async () => {
    const reply = await request(server.url, '/');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/plain; charset=utf-8');
    expectTime(reply.body);
  });

  it('ignores the port of the Host header and the query string', async () => {
    const reply = await request(server.url, '/?when=now', { headers: { Host: '127.0.0.1:1234' } });
    expect(reply.status).toBe(200);
    expectTime(reply.body);
  });

  it('treats a request without Host (HTTP/1.0 style) as 127.0.0.1', async () => {
    const reply = await requestWithoutHost(server.port, '/');
    expect(reply.status).toBe(200);
    expectTime(reply.body);
  });

  it('answers 404 for another host', async () => {
    const reply = await request(server.url, '/', { headers: { Host: 'localhost' } });
    expect(reply.status).toBe(404);
    expect(reply.body).toMatch(/^404 Not Found/);
  });

  it('answers 404 for another path', async () => {
    for (const path of ['/x', '/index.html', '//']) {
      const reply = await request(server.url, path);
      expect(reply.status, path).toBe(404);
    }
  });

  it('answers 501 for methods other than GET, whatever the host and path', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD']) {
      const reply = await request(server.url, '/elsewhere', { method, headers: { Host: 'localhost' } });
      expect(reply.status, method).toBe(501);
      if (method !== 'HEAD') expect(reply.body).toMatch(/^501 Not Implemented/);
    }
  });
});

describe('examples/time-application.ts', () => {
  it('answers its 404 as HTML to a browser (HTTPNotFound negotiates)', async () => {
    const req = Request.blank('/', { headers: { Host: 'localhost', Accept: 'text/html' } });
    const res = await req.getResponse(timeApplication.app);
    expect(res.statusCode).toBe(404);
    expect(res.contentType).toBe('text/html');
  });
});

describe('examples/demo.ts over a socket', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await serve(demo.app, { port: 0 });
  });
  afterAll(() => server.close());

  it('curl /time/app/ answers the time', async () => {
    const reply = await request(server.url, '/time/app/');
    expect(reply.status).toBe(200);
    expectTime(reply.body);
  });

  it("curl -H 'Host: localhost' /time/app/ answers 404", async () => {
    const reply = await request(server.url, '/time/app/', { headers: { Host: 'localhost' } });
    expect(reply.status).toBe(404);
  });

  it('curl -X POST /time/app/ answers 501', async () => {
    const reply = await request(server.url, '/time/app/', { method: 'POST' });
    expect(reply.status).toBe(501);
  });

  it.each(['/time/raw/', '/time/request/', '/time/app/'])('mounts a time app at %s (time, 404, 501)', async (path) => {
    expectTime((await request(server.url, path)).body);
    expect((await request(server.url, path, { headers: { Host: 'localhost' } })).status).toBe(404);
    expect((await request(server.url, path, { method: 'POST' })).status).toBe(501);
    expect((await request(server.url, `${path}deeper`)).status).toBe(404);
  });

  it('mounts the environ dump at /env: the prefix moves into SCRIPT_NAME', async () => {
    const reply = await request(server.url, '/env/a/b?c=d');
    expect(reply.status).toBe(200);
    const lines = reply.body.split('\n');
    expect(lines).toContain('SCRIPT_NAME: /env');
    expect(lines).toContain('PATH_INFO: /a/b');
    expect(lines).toContain('QUERY_STRING: c=d');
    expect(lines).toContain('REQUEST_URI: /env/a/b?c=d');
  });

  it.each(['/env', '/time/raw', '/time/request', '/time/app'])('redirects %s to add the slash (308, query kept)', async (path) => {
    const reply = await request(server.url, `${path}?x=1`);
    expect(reply.status).toBe(308);
    expect(reply.headers.location).toBe(`${server.url}${path}/?x=1`);
    const post = await request(server.url, path, { method: 'POST' });
    expect(post.status).toBe(308);
    expect(post.headers.location).toBe(`${server.url}${path}/`);
  });

  it('matches prefixes on segment boundaries only', async () => {
    for (const path of ['/envelope', '/time/apple/', '/time', '/time/', '/timer/app/', '/nothing']) {
      const reply = await request(server.url, path);
      expect(reply.status, path).toBe(404);
    }
  });

  it('serves an HTML index at / linking every mount with absolute URLs', async () => {
    const reply = await request(server.url, '/');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
    for (const prefix of ['/env/', '/time/raw/', '/time/request/', '/time/app/']) {
      expect(reply.body).toContain(`<a href="${server.url}${prefix}">`);
    }
  });

  it('answers 405 with Allow for a POST to the index', async () => {
    const reply = await request(server.url, '/', { method: 'POST' });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toMatch(/GET/);
  });
});

describe('examples/demo.ts mounted below another prefix', () => {
  it('builds index links from applicationUrl', async () => {
    const res = await Request.blank('/', { baseUrl: 'https://example.com/demo' }).getResponse(demo.app);
    expect(res.statusCode).toBe(200);
    expect(res.text).toContain('<a href="https://example.com/demo/time/app/">');
    expect(res.text).toContain('<a href="https://example.com/demo/env/">');
  });

  it('redirects the mount point without its slash to the index', async () => {
    const res = await Request.blank('', { baseUrl: 'https://example.com/demo' }).getResponse(demo.app);
    expect(res.statusCode).toBe(308);
    expect(res.headers.get('Location')).toBe('https://example.com/demo/');
  });

  it('keeps the outer SCRIPT_NAME when mounting an app', async () => {
    const res = await Request.blank('/env/x', { baseUrl: 'https://example.com/demo' }).getResponse(demo.app);
    expect(res.text.split('\n')).toContain('SCRIPT_NAME: /demo/env');
    expect(res.text.split('\n')).toContain('PATH_INFO: /x');
  });

  it('HTML-escapes the links (the host comes from the client)', async () => {
    const res = await Request.blank('/', { headers: { Host: "a'b&c" } }).getResponse(demo.app);
    expect(res.text).toContain('href="http://a&#39;b&amp;c/env/"');
    expect(res.text).not.toContain("a'b");
  });
});

describe('dispatch() of examples/demo.ts', () => {
  const echo: App = (environ, start) => {
    start('200 OK', [['Content-Type', 'text/plain']]);
    return [new TextEncoder().encode(`${environ.SCRIPT_NAME}|${environ.PATH_INFO}`)];
  };
  const fallback: App = (environ, start) => {
    start('404 Not Found', [['Content-Type', 'text/plain']]);
    return [new TextEncoder().encode(`fallback ${environ.SCRIPT_NAME}|${environ.PATH_INFO}`)];
  };
  const app = demo.dispatch(
    [
      { prefix: '/a', app: echo, title: 'a' },
      { prefix: '/a/b', app: echo, title: 'a/b' },
    ],
    fallback,
  );

  it('prefers the longest prefix', async () => {
    expect((await Request.blank('/a/b/c').getResponse(app)).text).toBe('/a/b|/c');
    expect((await Request.blank('/a/bc').getResponse(app)).text).toBe('/a|/bc');
    expect((await Request.blank('/a/').getResponse(app)).text).toBe('/a|/');
  });

  it('leaves the environ alone for the fallback', async () => {
    expect((await Request.blank('/ab').getResponse(app)).text).toBe('fallback |/ab');
    expect((await Request.blank('/').getResponse(app)).text).toBe('fallback |/');
  });
});
