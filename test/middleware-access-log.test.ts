import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App, type AppLike, type Environ, HTTPNotFound, HTTPServiceUnavailable, Request, Response, serve } from 'tsgi';
import { accessLog, type AccessLogEntry, type AccessLogOptions, compress, errors, lint, mount, requestId, timeout } from 'tsgi/middleware';
import { toFetchHandler } from 'tsgi/fetch';
import { toNodeHandler } from 'tsgi/node';
import { TestClient } from 'tsgi/testing';
import { escapeLogField, formatLogTime } from '../src/middleware/access-log.ts';
import { deferred, rawExchange, within } from './node-helpers.ts';

const enc = new TextEncoder();

/** A stream collecting lines, with a way to wait for the next one. */
function collector() {
  const lines: string[] = [];
  let waiters: Array<() => void> = [];
  return {
    lines,
    write(line: string) {
      lines.push(line);
      for (const w of waiters) w();
      waiters = [];
    },
    async waitFor(count: number) {
      while (lines.length < count) await new Promise<void>((r) => waiters.push(r));
    },
  };
}

async function withServer(app: AppLike, fn: (url: string, port: number) => Promise<void>): Promise<void> {
  const server = await serve(app, { port: 0, log: { write: () => {} } });
  try {
    await fn(server.url, server.port);
  } finally {
    await server.close();
  }
}

function logged(app: App, options: AccessLogOptions = {}) {
  const out = collector();
  return { out, app: lint(accessLog(lint(app), { log: out, ...options })) };
}

const TIME = String.raw`\[\d{2}/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]`;

describe('accessLog', () => {
  it('writes Apache combined lines by default (socket)', async () => {
    const { out, app } = logged(Request.application(() => new Response('hello')));
    await withServer(app, async (url) => {
      await (await fetch(`${url}/a/b?q=1&r=%20`, { headers: { referer: 'http://ref.example/', 'user-agent': 'probe/1.0' } })).text();
      await out.waitFor(1);
    });
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatch(new RegExp(`^127\\.0\\.0\\.1 - - ${TIME} "GET /a/b\\?q=1&r=%20 HTTP/1\\.1" 200 5 "http://ref\\.example/" "probe/1\\.0"\\n$`));
  });

  it('writes the common format, with - for an empty body and for missing fields', async () => {
    const { out, app } = logged(Request.application(() => new Response(null, { status: 201 })), { format: 'common' });
    await withServer(app, async (url) => {
      await (await fetch(`${url}/empty`, { method: 'POST' })).text();
      await out.waitFor(1);
    });
    expect(out.lines[0]).toMatch(new RegExp(`^127\\.0\\.0\\.1 - - ${TIME} "POST /empty HTTP/1\\.1" 201 -\\n$`));
  });

  it('counts the bytes the body yielded, not Content-Length', async () => {
    const streaming = Request.application(
      () =>
        new Response(
          (async function* () {
            yield enc.encode('12345');
            yield enc.encode('678');
            yield enc.encode('');
          })(),
        ),
    );
    const { out, app } = logged(streaming, { format: 'tiny' });
    await withServer(app, async (url, port) => {
      expect(await (await fetch(url)).text()).toBe('12345678');
      // HEAD: Content-Length says 5, nothing is sent.
      await new Promise<void>((resolve, reject) => {
        http
          .request({ host: '127.0.0.1', port, method: 'HEAD', path: '/head' }, (res) => {
            res.resume();
            res.on('end', resolve);
          })
          .on('error', reject)
          .end();
      });
      await out.waitFor(2);
    });
    expect(out.lines[0]).toMatch(/^GET \/ 200 8 - \d+\.\d{3} ms\n$/);
    expect(out.lines[1]).toMatch(/^HEAD \/head 200 0 - /);
  });

  it('logs no bytes for HEAD, 204, 205 and 304 answers, whatever the app yielded: the server sends none', async () => {
    const raw: App = (environ, start) => {
      const status = String(environ.PATH_INFO).slice(1);
      start(status === '' ? '200 OK' : `${status} X`, [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield enc.encode('hello');
        yield enc.encode('world');
      })();
    };
    const out = collector();
    // Not under lint(), which refuses such bodies: the server drops them.
    await withServer(accessLog(raw, { log: out, format: 'tiny' }), async (url) => {
      for (const [path, method] of [['/', 'HEAD'], ['/304', 'GET'], ['/204', 'GET'], ['/205', 'GET'], ['/', 'GET']] as const) {
        const res = await fetch(`${url}${path}`, { method });
        expect(await res.text()).toBe(method === 'GET' && path === '/' ? 'helloworld' : '');
      }
      await out.waitFor(5);
    });
    expect(out.lines.map((line) => line.split(' - ')[0])).toEqual(['HEAD / 200 0', 'GET /304 304 0', 'GET /204 204 0', 'GET /205 205 0', 'GET / 200 10']);
  });

  it.each([
    ['HTTP/1.1', false],
    ['h2c', true],
  ])('logs end with its status for a HEAD (or 204, 205, 304) answered whole from a streamed body the server closes unsent, close for a HEAD client gone first (%s socket)', async (_name, h2c) => {
    const out = collector();
    let release: () => void = () => {};
    // The HEAD client of `/slow` leaves once its body waits (not after a 50 ms timer, which a
    // loaded machine could let run out before the request reached the server: no line then).
    const waiting = deferred();
    const raw: App = (environ, start) => {
      const path = String(environ.PATH_INFO);
      start(path === '/204' ? '204 No Content' : path === '/205' ? '205 Reset Content' : path === '/304' ? '304 Not Modified' : '200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        // `/slow`: the first chunk waits until the client has gone.
        if (path === '/slow') {
          await new Promise<void>((resolve) => {
            release = resolve;
            waiting.resolve();
          });
        }
        yield enc.encode('hello');
        await new Promise((resolve) => setTimeout(resolve, 5));
        yield enc.encode('world');
      })();
    };
    const server = await serve(accessLog(raw, { log: out, format: (e) => `${e.method} ${e.url} ${e.status} ${e.bytes} ${e.outcome}` }), {
      port: 0,
      http2: h2c ? 'h2c' : undefined,
      log: { write: () => {} },
    });
    const session = h2c ? http2.connect(server.url) : undefined;
    session?.on('error', () => {});
    /** The status of a request read whole; with `leave`, the client goes away before the answer instead (`0`). */
    const ask = (method: string, path: string, leave = false) =>
      new Promise<number>((resolve, reject) => {
        if (session !== undefined) {
          const stream = session.request({ ':method': method, ':path': path });
          stream.on('error', () => {});
          if (leave) void waiting.promise.then(() => stream.close(http2.constants.NGHTTP2_CANCEL));
          let status = 0;
          stream.on('response', (headers) => (status = Number(headers[':status'])));
          stream.on('close', () => resolve(status));
          stream.resume();
          stream.end();
          return;
        }
        const req = http.request({ host: '127.0.0.1', port: server.port, method, path, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', (error) => (leave ? resolve(0) : reject(error)));
        if (leave) void waiting.promise.then(() => req.destroy());
        req.end();
      });
    try {
      expect(await ask('HEAD', '/')).toBe(200);
      await out.waitFor(1);
      expect(await ask('GET', '/204')).toBe(204);
      await out.waitFor(2);
      expect(await ask('GET', '/205')).toBe(205);
      await out.waitFor(3);
      expect(await ask('GET', '/304')).toBe(304);
      await out.waitFor(4);
      expect(await ask('HEAD', '/slow', true)).toBe(0);
      await out.waitFor(5);
      release();
      expect(await ask('GET', '/')).toBe(200);
      await out.waitFor(6);
    } finally {
      session?.close();
      await server.close();
    }
    expect(out.lines).toEqual(['HEAD / 200 0 end\n', 'GET /204 204 0 end\n', 'GET /205 205 0 end\n', 'GET /304 304 0 end\n', 'HEAD /slow 499 0 close\n', 'GET / 200 10 end\n']);
  });

  it('logs end for a HEAD answered from a streamed body under toFetchHandler and the TestClient too', async () => {
    const out = collector();
    const app = accessLog(
      (_environ, start) => {
        start('200 OK', []);
        return (async function* () {
          yield enc.encode('hello');
          await new Promise((resolve) => setTimeout(resolve, 5));
          yield enc.encode('world');
        })();
      },
      { log: out, format: (e) => `${e.status} ${e.outcome}` },
    );
    await (await toFetchHandler(app)(new globalThis.Request('http://x/', { method: 'HEAD' }))).text();
    await out.waitFor(1);
    await new TestClient(app).head('/');
    await out.waitFor(2);
    expect(out.lines).toEqual(['200 end\n', '200 end\n']);
  });

  it('logs REMOTE_USER set by the app below, and the request line as received (before mount)', async () => {
    const inner: App = (environ, start) => {
      environ.REMOTE_USER = 'alice';
      return new Response('ok').respond(environ, start);
    };
    const out = collector();
    const app = lint(accessLog(mount({ '/admin': inner }), { log: out, format: 'common' }));
    await withServer(app, async (url) => {
      await (await fetch(`${url}/admin/users?page=2`)).text();
      await out.waitFor(1);
    });
    expect(out.lines[0]).toContain(' - alice [');
    expect(out.lines[0]).toContain('"GET /admin/users?page=2 HTTP/1.1" 200 2');
  });

  it('escapes quotes, backslashes and control characters in logged fields (hostile headers)', async () => {
    const { out, app } = logged(Request.application(() => new Response('x')));
    await withServer(app, async (url) => {
      await (await fetch(`${url}/q"uote`, { headers: { 'user-agent': 'evil" "injected\\', referer: 'a\tb' } })).text();
      await out.waitFor(1);
    });
    expect(out.lines[0]).toContain('"GET /q%22uote HTTP/1.1"');
    expect(out.lines[0]).toMatch(/"a\\x09b" "evil\\" \\"injected\\\\"\n$/);
    // In-process, where a raw environ can hold anything.
    const out2 = collector();
    const environ = Request.blank('/').environ;
    environ.HTTP_USER_AGENT = 'x\n127.0.0.1 - - [forged]';
    environ.REMOTE_USER = 'bob"';
    const res = await new Request(environ).getResponse(accessLog(new Response('y'), { log: out2 }));
    await res.bytes();
    expect(out2.lines).toHaveLength(1);
    expect(out2.lines[0]!.split('\n')).toHaveLength(2);
    expect(out2.lines[0]).toContain('"x\\x0a127.0.0.1 - - [forged]"');
    expect(out2.lines[0]).toContain(' - bob\\" [');
  });

  it('escapes C1 control characters sent as obs-text header bytes (raw socket)', async () => {
    const { out, app } = logged(Request.application(() => new Response('x')));
    await withServer(app, async (_url, port) => {
      // User-Agent bytes: "a", NEL (0x85), "b", CSI (0x9B) "2J", "c", then 0xA0 (printable latin1).
      const head = Buffer.concat([
        Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nUser-Agent: a'),
        Buffer.from([0x85, 0x62, 0x9b, 0x32, 0x4a, 0x63, 0xa0]),
        Buffer.from('\r\n\r\n'),
      ]);
      await rawExchange(port, head);
      await out.waitFor(1);
    });
    expect(out.lines[0]).toMatch(/ "a\\x85b\\x9b2Jc\u00a0"\n$/);
    expect(escapeLogField('\u0080\u009f\u00a0')).toBe('\\x80\\x9f\u00a0');
  });

  it('logs once when the client goes away mid-body', async () => {
    const entries: AccessLogEntry[] = [];
    const out = collector();
    const endless = Request.application(
      () =>
        new Response(
          (async function* () {
            for (;;) {
              yield enc.encode('tick\n');
              await new Promise((r) => setTimeout(r, 5));
            }
          })(),
        ),
    );
    const app = accessLog(endless, { log: out, format: (e) => (entries.push(e), `${e.outcome} ${e.status} ${e.bytes}`) });
    await withServer(app, async (url) => {
      const controller = new AbortController();
      const res = await fetch(url, { signal: controller.signal });
      const reader = res.body!.getReader();
      await reader.read();
      controller.abort();
      await out.waitFor(1);
    });
    expect(entries).toHaveLength(1);
    expect(entries[0]!.outcome).toBe('close');
    expect(entries[0]!.status).toBe(200);
    expect(entries[0]!.bytes).toBeGreaterThanOrEqual(5);
    expect(entries[0]!.bytes % 5).toBe(0);
  });

  it('logs 499 when the client goes away before any of the answer was sent, as nginx', async () => {
    const out = collector();
    // Each client leaves once the app is at work, and the app goes on once the client has gone
    // (its signal): a 20 ms timer to leave and a 100 ms one to answer raced on a loaded machine,
    // which could send the answer first, or leave before the request reached the app.
    let working = deferred();
    const clientGone = (environ: Environ) =>
      new Promise<void>((resolve) => {
        const signal = environ['tsgi.signal']!;
        if (signal.aborted) resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
        working.resolve();
      });
    const slowBody: App = (environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        await clientGone(environ);
        yield enc.encode('late');
      })();
    };
    const slowApp: App = async (environ, start) => {
      await clientGone(environ);
      return slowBody(environ, start);
    };
    const app = mount({ '/body': accessLog(slowBody, { log: out, format: 'tiny' }), '/app': accessLog(slowApp, { log: out, format: 'tiny' }) });
    await withServer(app, async (_url, port) => {
      for (const path of ['/body', '/app']) {
        working = deferred();
        await new Promise<void>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
          void working.promise.then(() => socket.destroy());
          socket.on('close', () => resolve());
        });
      }
      await out.waitFor(2);
    });
    expect(out.lines.map((line) => line.split(' - ')[0]).sort()).toEqual(['GET /app 499 0', 'GET /body 499 0']);
  });

  it('logs a failed body once, with the status that reached the client', async () => {
    const entries: AccessLogEntry[] = [];
    const format = (e: AccessLogEntry) => (entries.push(e), 'line');
    /** `later`: fails once its first chunk was sent; `at once`: right after its first chunk, before the server sent the head. */
    const failing = (afterChunk: false | 'later' | 'at once'): App => (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        if (afterChunk !== false) {
          yield enc.encode('part');
          if (afterChunk === 'later') await new Promise((r) => setTimeout(r, 10));
        }
        throw new Error('body failed');
      })();
    };
    const out = collector();
    await withServer(accessLog(failing('later'), { log: out, format }), async (url) => {
      await expect((await fetch(url)).text()).rejects.toThrow();
      await out.waitFor(1);
    });
    await withServer(accessLog(failing(false), { log: out, format }), async (url) => {
      expect((await fetch(url)).status).toBe(500);
      await out.waitFor(2);
    });
    await withServer(
      accessLog(() => {
        throw new Error('app failed');
      }, { log: out, format }),
      async (url) => {
        expect((await fetch(url)).status).toBe(500);
        await out.waitFor(3);
      },
    );
    // The server takes the second step before it sends the head (a body that ends there gets a
    // Content-Length): failing then, the body is answered the server's 500, none of its bytes
    // sent: the 22 bytes of that 500's text are (nginx's `$body_bytes_sent` of its error page).
    await withServer(accessLog(failing('at once'), { log: out, format }), async (url) => {
      const res = await fetch(url);
      expect([res.status, await res.text()]).toEqual([500, 'Internal Server Error\n']);
      await out.waitFor(4);
    });
    expect(entries.map((e) => [e.outcome, e.status, e.bytes, (e.error as Error).message])).toEqual([
      ['error', 200, 4, 'body failed'],
      ['error', 500, 22, 'body failed'],
      ['error', 500, 22, 'app failed'],
      ['error', 500, 22, 'body failed'],
    ]);
  });

  it('logs the 500 the server answers for a chunk that is no Uint8Array, errors() inside or not', async () => {
    const out = collector();
    const bad = (first: boolean): App => (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        if (!first) yield enc.encode('a');
        yield 'not bytes' as never;
      })();
    };
    const quiet = { log: { write: () => {} } };
    const apps = [bad(true), bad(false), errors(bad(true), quiet)];
    await withServer(mount({ '/0': accessLog(apps[0]!, { log: out, format: 'tiny' }), '/1': accessLog(apps[1]!, { log: out, format: 'tiny' }), '/2': accessLog(apps[2]!, { log: out, format: 'tiny' }) }), async (url) => {
      for (const path of ['/0', '/1', '/2']) expect((await fetch(`${url}${path}`)).status).toBe(500);
      await out.waitFor(3);
    });
    expect(out.lines.map((line) => line.split(' ').slice(0, 3).join(' '))).toEqual(['GET /0 500', 'GET /1 500', 'GET /2 500']);
  });

  it.each([
    ['HTTP/1.1', false],
    ['h2c', true],
  ])('logs the 500 serve() answers for an in-memory answer it refuses (an invalid field value, a wrong Content-Length), errors() inside or not (%s)', async (_name, h2c) => {
    const out = collector();
    const errorLines: string[] = [];
    const answer = (fields: Array<[string, string]>, chunks: string[], later = false): App => async (_e, start) => {
      if (later) await new Promise((r) => setTimeout(r, 1));
      start('200 OK', fields);
      return chunks.map((c) => enc.encode(c));
    };
    const apps: Record<string, App> = {
      '/value': answer([['X-Bad', 'a\nb']], ['hello']),
      '/empty': answer([['X-Bad', 'a\rb']], []),
      '/length': answer([['Content-Length', '10']], ['hello']),
      '/late': answer([['Content-Length', '10']], ['hello'], true),
      '/caught': errors(answer([['Content-Length', '10']], ['hello'])),
      '/good': answer([['Content-Length', '5']], ['hello']),
    };
    const routes = Object.fromEntries(Object.entries(apps).map(([path, app]) => [path, accessLog(app, { log: out, format: 'tiny' })]));
    const server = await serve(mount(routes), { port: 0, http2: h2c ? 'h2c' : undefined, log: { write: (line: string) => void errorLines.push(line) } });
    const session = h2c ? http2.connect(server.url) : undefined;
    session?.on('error', () => {});
    /** The status of GET `path`, its body read. */
    const get = async (path: string): Promise<number> => {
      if (session === undefined) {
        const res = await fetch(`${server.url}${path}`);
        await res.text();
        return res.status;
      }
      return new Promise((resolve) => {
        const stream = session.request({ ':path': path });
        let status = 0;
        stream.on('response', (fields) => (status = Number(fields[':status'])));
        stream.on('error', () => {});
        stream.on('close', () => resolve(status));
        stream.resume();
      });
    };
    try {
      for (const path of Object.keys(apps)) expect(await get(path), path).toBe(path === '/good' ? 200 : 500);
      await out.waitFor(6);
      session?.close();
    } finally {
      await server.close();
    }
    // The app's bytes never reached the client, the server's 500 did: its 22 bytes, as for an app
    // that failed before the head.
    expect(out.lines.map((line) => line.split(' ').slice(0, 4).join(' '))).toEqual([
      'GET /value 500 22',
      'GET /empty 500 22',
      'GET /length 500 22',
      'GET /late 500 22',
      // errors() inside refuses it first, as the server would: its own 500 page reached the client.
      'GET /caught 500 109',
      'GET /good 200 5',
    ]);
    // Each refusal is logged once: by errors() (with the status it answered), else by the server.
    expect(errorLines.filter((line) => line.startsWith('[tsgi] GET /caught ')).length).toBe(1);
    expect(errorLines.find((line) => line.startsWith('[tsgi] GET /caught '))).toContain(h2c ? ' HTTP/2.0 500: TypeError' : ' HTTP/1.1 500: TypeError');
    expect(errorLines.every((line) => !line.startsWith('[tsgi] GET /') || line.startsWith('[tsgi] GET /caught ') || line.includes(h2c ? ' HTTP/2.0:' : ' HTTP/1.1:'))).toBe(true);
    expect(errorLines.filter((line) => line.startsWith('[tsgi] GET ')).length).toBe(5);
  });

  it('logs the status toFetchHandler and the TestClient answer in place of the app\'s, as under serve()', async () => {
    const badChunk: App = (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield 'not bytes' as never;
      })();
    };
    const unavailable: App = (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        throw new HTTPServiceUnavailable('down');
      })();
    };
    const quiet = { write: () => {} };
    for (const [app, code] of [[badChunk, 500], [unavailable, 503]] as const) {
      const out = collector();
      const logging = accessLog(app, { log: out, format: 'tiny' });
      const res = await toFetchHandler(logging, { log: quiet })(new globalThis.Request('http://example.com/f'));
      expect(res.status).toBe(code);
      await res.arrayBuffer();
      const client = new TestClient(logging, { lint: false, allowErrors: true, status: code });
      await client.get('/t');
      await out.waitFor(2);
      expect(out.lines.map((line) => line.split(' ').slice(0, 3).join(' '))).toEqual([`GET /f ${code}`, `GET /t ${code}`]);
    }
  });

  it('logs the 500 toFetchHandler and the TestClient answer for an in-memory answer they refuse, as serve()', async () => {
    const answer = (fields: Array<[string, string]>, chunks: string[]): App => (_e, start) => {
      start('200 OK', fields);
      return chunks.map((c) => enc.encode(c));
    };
    const quiet = { write: () => {} };
    for (const app of [answer([['X-Bad', 'a\nb']], ['hello']), answer([['X-Bad', 'a\rb']], []), answer([['Content-Length', '10']], ['hello'])]) {
      const out = collector();
      const logging = accessLog(app, { log: out, format: 'tiny' });
      const res = await toFetchHandler(logging, { log: quiet })(new globalThis.Request('http://example.com/f'));
      expect(res.status).toBe(500);
      await res.arrayBuffer();
      const client = new TestClient(logging, { lint: false, allowErrors: true, status: 500 });
      expect((await client.get('/t')).statusCode).toBe(500);
      expect(out.lines.map((line) => line.split(' ').slice(0, 4).join(' '))).toEqual(['GET /f 500 22', 'GET /t 500 22']);
    }
  });

  it('logs the 500 of a refused empty answer under a layer that takes its first step before the server (timeout, compress), on serve(), toFetchHandler and the TestClient', async () => {
    // `timeout` and `compress` above accessLog take the body's first step while the app is
    // called: an empty body has ended before the server saw it, and is refused only after.
    const empty = (fields: Array<[string, string]>): App => (_e, start) => {
      start('200 OK', fields);
      return [];
    };
    const out = collector();
    const logging = (app: App) => accessLog(app, { log: out, format: 'tiny' });
    const apps: Record<string, App> = {
      '/timeout-value': timeout(logging(empty([['X-Bad', 'a\rb']])), { ms: 5000 }),
      '/timeout-length': timeout(logging(empty([['Content-Length', '3']])), { ms: 5000 }),
      '/compress-length': compress(logging(empty([['Content-Length', '3']]))),
    };
    // A layer that calls the app with a copy of the environ: the copy waits for the same head,
    // and its line is written once (the server's status is left in the environ it was given).
    const copied = timeout(logging(empty([['Content-Length', '3']])), { ms: 5000 });
    apps['/copied'] = (environ, startResponse) => copied({ ...environ }, startResponse);
    const routed = mount(apps);
    const server = await serve(routed, { port: 0, log: { write: () => {} } });
    try {
      for (const path of Object.keys(apps)) {
        const res = await fetch(`${server.url}${path}`);
        await res.arrayBuffer();
        expect(res.status, path).toBe(500);
      }
      await out.waitFor(4);
    } finally {
      await server.close();
    }
    const quiet = { write: () => {} };
    for (const path of Object.keys(apps)) {
      const res = await toFetchHandler(routed, { log: quiet })(new globalThis.Request(`http://example.com${path}`));
      expect(res.status, path).toBe(500);
      await res.arrayBuffer();
    }
    const client = new TestClient(routed, { lint: false, allowErrors: true, status: 500 });
    for (const path of Object.keys(apps)) expect((await client.get(path)).statusCode, path).toBe(500);
    expect(out.lines.map((line) => line.split(' ').slice(0, line.includes(' /copied ') ? 2 : 4).join(' '))).toEqual(
      [1, 2, 3].flatMap(() => ['GET /timeout-value 500 22', 'GET /timeout-length 500 22', 'GET /compress-length 500 22', 'GET /copied']),
    );
  });

  it('logs the status the server answers for an HTTPException raised before the head', async () => {
    const entries: AccessLogEntry[] = [];
    const out = collector();
    const format = (e: AccessLogEntry) => (entries.push(e), 'line');
    const missing: App = () => {
      throw new HTTPNotFound();
    };
    const busy: App = (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        await new Promise((r) => setTimeout(r, 1));
        throw new HTTPServiceUnavailable('down');
      })();
    };
    await withServer(accessLog(missing, { log: out, format }), async (url) => {
      expect((await fetch(url)).status).toBe(404);
      await out.waitFor(1);
    });
    await withServer(accessLog(busy, { log: out, format }), async (url) => {
      expect((await fetch(url)).status).toBe(503);
      await out.waitFor(2);
    });
    expect(entries.map((e) => [e.outcome, e.status])).toEqual([
      ['error', 404],
      ['error', 503],
    ]);
  });

  it('sees the 500 of errors() placed inside it', async () => {
    const out = collector();
    const app = accessLog(errors(() => {
      throw new Error('x');
    }, { log: { write: () => {} } }), { log: out, format: 'common' });
    await withServer(app, async (url) => {
      await (await fetch(url)).text();
      await out.waitFor(1);
    });
    expect(out.lines[0]).toMatch(/" 500 \d+\n$/);
  });

  it('exposes the entry to custom formats, with the duration in ms', async () => {
    const entries: AccessLogEntry[] = [];
    const slow = Request.application(async () => {
      await new Promise((r) => setTimeout(r, 20));
      return new Response('slow');
    });
    const out = collector();
    const app = accessLog(slow, { log: out, format: (e) => (entries.push(e), JSON.stringify({ url: e.url, ms: e.duration })) });
    await withServer(app, async (url) => {
      await (await fetch(`${url}/s?x=1`, { headers: { 'user-agent': 'ua' } })).text();
      await out.waitFor(1);
    });
    const entry = entries[0]!;
    expect(entry).toMatchObject({ method: 'GET', url: '/s?x=1', protocol: 'HTTP/1.1', status: 200, bytes: 4, userAgent: 'ua', referer: null, remoteAddr: '127.0.0.1', remoteUser: null, outcome: 'end' });
    expect(entry.requestLine).toBe('GET /s?x=1 HTTP/1.1');
    expect(entry.duration).toBeGreaterThanOrEqual(15);
    expect(entry.time).toBeInstanceOf(Date);
    expect(JSON.parse(out.lines[0]!)).toMatchObject({ url: '/s?x=1' });
  });

  it('keeps a custom format on one line: a hostile REMOTE_USER or obs-text User-Agent cannot forge a line, and JSON.stringify output still parses back (raw socket)', async () => {
    // A layer below sets REMOTE_USER from what a client sent (a Basic user name is UTF-8 text).
    const site: App = (environ, startResponse) => {
      environ.REMOTE_USER = 'bob\n{"forged":true}\u2028x\u0085y';
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [enc.encode('x')];
    };
    const json = collector();
    const text = collector();
    const app = accessLog(accessLog(site, { log: text, format: (e) => `${e.remoteUser} ${e.url}\t${e.userAgent}` }), {
      log: json,
      format: (e) => JSON.stringify({ user: e.remoteUser, ua: e.userAgent }),
    });
    await withServer(app, async (_url, port) => {
      // User-Agent bytes: "a", NEL (0x85), "b", CSI (0x9B) "2J".
      const head = Buffer.concat([
        Buffer.from('GET /p HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nUser-Agent: a'),
        Buffer.from([0x85, 0x62, 0x9b, 0x32, 0x4a]),
        Buffer.from('\r\n\r\n'),
      ]);
      await rawExchange(port, head);
      await json.waitFor(1);
      await text.waitFor(1);
    });
    for (const line of [...json.lines, ...text.lines]) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]/);
    }
    expect(JSON.parse(json.lines[0]!)).toEqual({ user: 'bob\n{"forged":true}\u2028x\u0085y', ua: 'a\u0085b\u009b2J' });
    expect(text.lines[0]).toBe('bob\\u000a{"forged":true}\\u2028x\\u0085y /p\ta\\u0085b\\u009b2J\n');
  });

  it('times an in-memory or single-chunk body to its last byte sent, not to the server taking it; a client gone before it is close (raw socket)', async () => {
    const big = new Uint8Array(32 * 1024 * 1024); // more than the socket buffers take at once
    const apps: Record<string, App> = {
      '/response': Request.application(() => new Response(big)),
      '/array': (_environ, startResponse) => (startResponse('200 OK', []), [big]),
      '/one-chunk': (_environ, startResponse) => (startResponse('200 OK', []), (async function* () { yield big; })()),
    };
    const out = collector();
    const app = accessLog((environ, startResponse) => apps[environ.PATH_INFO as string]!(environ, startResponse), { log: out, format: 'json' });
    const fetchSlowly = (port: number, path: string, mode: 'read-late' | 'leave') =>
      new Promise<void>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
        socket.pause(); // the client reads nothing for 300 ms
        setTimeout(() => (mode === 'leave' ? socket.destroy() : socket.resume()), 300);
        socket.on('data', () => {});
        socket.on('error', () => {});
        socket.on('close', () => resolve());
      });
    await withServer(app, async (_url, port) => {
      for (const path of Object.keys(apps)) await fetchSlowly(port, path, 'read-late');
      await fetchSlowly(port, '/response', 'leave');
      await out.waitFor(4);
    });
    const lines = out.lines.map((line) => JSON.parse(line) as { url: string; status: number; outcome: string; duration_ms: number });
    expect(lines.map((l) => [l.url, l.status, l.outcome])).toEqual([
      ['/response', 200, 'end'],
      ['/array', 200, 'end'],
      ['/one-chunk', 200, 'end'],
      ['/response', 200, 'close'],
    ]);
    for (const line of lines) expect(line.duration_ms, line.url).toBeGreaterThanOrEqual(250);
  });

  it("runs a format function in the async context set around the server's request event (OpenTelemetry's span), in-memory bodies included (socket)", async () => {
    const spans = new AsyncLocalStorage<string>();
    const out = collector();
    const app = accessLog(
      (environ, startResponse) => {
        startResponse('200 OK', []);
        return environ.PATH_INFO === '/stream' ? (async function* () { yield enc.encode('a'); yield enc.encode('b'); })() : [enc.encode('ab')];
      },
      { log: out, format: (e) => `${e.url} ${spans.getStore()}` },
    );
    const server = await serve(app, { port: 0, log: { write: () => {} } });
    try {
      // As @opentelemetry/instrumentation-http does: the request event runs inside the request's span.
      const target = server.server as unknown as { emit: (event: string | symbol, ...args: unknown[]) => boolean };
      const emit = target.emit.bind(target);
      target.emit = (event, ...args) =>
        event === 'request' ? spans.run(`span of ${(args[0] as http.IncomingMessage).url}`, () => emit(event, ...args)) : emit(event, ...args);
      for (const path of ['/memory', '/stream']) await (await fetch(`${server.url}${path}`)).text();
      await out.waitFor(2);
    } finally {
      await server.close();
    }
    expect(out.lines).toEqual(['/memory span of /memory\n', '/stream span of /stream\n']);
  });

  it("runs a format function in the request event's async context when the client leaves mid-stream (the server closes the body from the connection's close), over HTTP/1.1 and HTTP/2 (socket)", async () => {
    const spans = new AsyncLocalStorage<string>();
    const out = collector();
    const app = accessLog(
      (_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        // A stream that waits for its next event; closed (`return()`) when the client leaves.
        let sent = false;
        const body: AsyncIterableIterator<Uint8Array> = {
          [Symbol.asyncIterator]: () => body,
          next: () => (sent ? new Promise(() => {}) : ((sent = true), Promise.resolve({ done: false, value: enc.encode('first') }))),
          return: () => Promise.resolve({ done: true, value: undefined }),
        };
        return body;
      },
      { log: out, format: (e) => `${e.status} ${e.outcome} ${spans.getStore()}` },
    );
    const server = await serve(app, { port: 0, log: { write: () => {} } });
    const h2 = http2.createServer(toNodeHandler(app) as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
    await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
    try {
      for (const target of [server.server, h2] as unknown as Array<{ emit: (event: string | symbol, ...args: unknown[]) => boolean }>) {
        const emit = target.emit.bind(target);
        target.emit = (event, ...args) =>
          event === 'request' ? spans.run(`span of ${(args[0] as http.IncomingMessage).url}`, () => emit(event, ...args)) : emit(event, ...args);
      }
      await new Promise<void>((resolve) => {
        const socket = net.connect(server.port, '127.0.0.1', () => socket.write('GET /leave HTTP/1.1\r\nHost: x\r\n\r\n'));
        socket.on('error', () => {});
        socket.once('data', () => socket.destroy());
        socket.on('close', () => resolve());
      });
      await out.waitFor(1);
      const session = http2.connect(`http://127.0.0.1:${(h2.address() as net.AddressInfo).port}`);
      session.on('error', () => {});
      const stream = session.request({ ':path': '/leave2' });
      stream.on('error', () => {});
      await new Promise((resolve) => stream.once('data', resolve));
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await out.waitFor(2);
      session.close();
    } finally {
      await server.close({ timeout: 50 }); // the body's pending next() never settles
      h2.close();
    }
    expect(out.lines).toEqual(['200 close span of /leave\n', '200 close span of /leave2\n']);
  });

  it('writes what a plain-JavaScript format function answers that is no string as its string, as before (socket)', async () => {
    const out = collector();
    const errorLines: string[] = [];
    const app = accessLog(
      (environ, startResponse) => {
        environ['tsgi.errors'] = { write: (line: string) => void errorLines.push(line) };
        startResponse('204 No Content', []);
        return [];
      },
      { log: out, format: ((e: AccessLogEntry) => e.status) as unknown as (e: AccessLogEntry) => string },
    );
    await withServer(app, async (url) => {
      await (await fetch(`${url}/n`)).text();
      expect(await within(() => out.lines.length + errorLines.length > 0, 2000)).toBe(true);
    });
    expect(out.lines).toEqual(['204\n']);
    expect(errorLines).toEqual([]);
  });

  it('logs close for an in-memory body whose HTTP/2 client resets its stream before the last byte, end for one read whole (h2c socket)', async () => {
    const big = new Uint8Array(8 * 1024 * 1024); // more than HTTP/2 flow control lets go at once
    const out = collector();
    const app = accessLog((_environ, startResponse) => (startResponse('200 OK', []), [big]), { log: out, format: (e) => `${e.status} ${e.outcome}` });
    const server = await serve(app, { port: 0, http2: 'h2c', log: { write: () => {} } });
    const session = http2.connect(server.url);
    session.on('error', () => {});
    try {
      const fetchBig = (leave: boolean) =>
        new Promise<void>((resolve) => {
          const stream = session.request({ ':path': '/big' });
          stream.on('data', () => {
            if (leave) stream.close(http2.constants.NGHTTP2_CANCEL);
          });
          stream.on('error', () => {});
          stream.on('close', () => resolve());
          stream.end();
        });
      await fetchBig(true);
      await out.waitFor(1);
      await fetchBig(false);
      await out.waitFor(2);
    } finally {
      session.close();
      await server.close();
    }
    expect(out.lines).toEqual(['200 close\n', '200 end\n']);
  });

  it('has a dev format with the duration', async () => {
    const out = collector();
    const res = await Request.blank('/d?x').getResponse(accessLog(new Response('abc', { status: 404 }), { log: out, format: 'dev' }));
    await res.bytes();
    expect(out.lines[0]).toMatch(/^GET \/d\?x 404 \d+\.\d{3} ms - 3\n$/);
  });

  it('logs a format function that throws on tsgi.errors, writing no line', async () => {
    const errorsSeen: string[] = [];
    const environ = Request.blank('/f?q').environ;
    environ['tsgi.errors'] = { write: (m) => void errorsSeen.push(m) };
    const out = { lines: [] as string[], write(line: string) { this.lines.push(line); } };
    const format = () => { throw new Error('bad format'); };
    const res = await new Request(environ).getResponse(accessLog(new Response('ok'), { log: out, format }));
    expect(await res.text()).toBe('ok');
    expect(out.lines).toEqual([]);
    expect(errorsSeen.join('')).toMatch(/^\[tsgi\] GET \/f\?q HTTP\/1\.1 \(accessLog could not write its line\): Error: bad format\n/);
  });

  it('survives a stream that throws, and refuses unknown formats', async () => {
    const errorsSeen: string[] = [];
    const environ = Request.blank('/').environ;
    environ['tsgi.errors'] = { write: (m) => void errorsSeen.push(m) };
    const broken = { write: () => { throw new Error('disk full'); } };
    const res = await new Request(environ).getResponse(accessLog(new Response('ok'), { log: broken }));
    await res.bytes();
    expect((await res.text())).toBe('ok');
    expect(errorsSeen.join('')).toContain('disk full');
    expect(() => accessLog(new Response('x'), { format: 'apache' as never })).toThrow(/unknown format/);
    expect(() => accessLog(new Response('x'), { format: 'toString' as never })).toThrow(/unknown format/);
    expect(() => accessLog(new Response('x'), { format: 'COMBINED' as never })).toThrow('accessLog: unknown format "COMBINED": common, combined, dev, tiny, json or a function');
    // A log stream without write() fails at once, not as an error report on every request.
    for (const log of [{}, 'access.log', { write: 'x' }]) {
      expect(() => accessLog(new Response('x'), { log: log as never })).toThrow('accessLog: log must be a stream with a write(line) method');
    }
  });
});

describe("accessLog format 'json'", () => {
  const KEYS = ['time', 'remote_addr', 'remote_user', 'method', 'url', 'protocol', 'status', 'bytes', 'body_bytes_read', 'duration_ms', 'referer', 'user_agent', 'outcome'];
  const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

  /** Each line: one JSON object, ending with its only newline. */
  function parsed(lines: string[]): Array<Record<string, unknown>> {
    return lines.map((line) => {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.slice(0, -1)).not.toMatch(/[\n\r\u0085\u2028\u2029]/);
      return JSON.parse(line) as Record<string, unknown>;
    });
  }

  it('writes one JSON object per line with every key, and the id requestId set (socket)', async () => {
    const out = collector();
    const app = requestId(lint(accessLog(lint(Request.application(() => new Response('hello'))), { log: out, format: 'json' })));
    let id = '';
    const before = Date.now();
    await withServer(app, async (url) => {
      const res = await fetch(`${url}/a/b?q=1&r=%20`, { headers: { referer: 'http://ref.example/', 'user-agent': 'probe/1.0' } });
      id = res.headers.get('x-request-id')!;
      await res.text();
      await out.waitFor(1);
    });
    const [line] = parsed(out.lines);
    expect(Object.keys(line!)).toEqual([...KEYS, 'request_id']);
    expect(line).toEqual({
      time: expect.stringMatching(ISO_MS),
      remote_addr: '127.0.0.1',
      remote_user: null,
      method: 'GET',
      url: '/a/b?q=1&r=%20',
      protocol: 'HTTP/1.1',
      status: 200,
      bytes: 5,
      body_bytes_read: 0,
      duration_ms: expect.any(Number),
      referer: 'http://ref.example/',
      user_agent: 'probe/1.0',
      outcome: 'end',
      request_id: id,
    });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const time = Date.parse(line!.time as string);
    expect(time).toBeGreaterThanOrEqual(before - 1);
    expect(time).toBeLessThanOrEqual(Date.now());
    expect(line!.duration_ms).toBeGreaterThanOrEqual(0);
    expect(line!.duration_ms).toBeLessThan(5_000);
  });

  it('logs no request_id without requestId, whatever X-Request-Id the client sends; the user, a HEAD with 0 bytes (socket)', async () => {
    const inner: App = (environ, start) => {
      environ.REMOTE_USER = 'alice';
      return new Response('ok').respond(environ, start);
    };
    const { out, app } = logged(inner, { format: 'json' });
    await withServer(app, async (url) => {
      await (await fetch(`${url}/x`, { headers: { 'x-request-id': 'edge-42' } })).text();
      await out.waitFor(1);
      await (await fetch(`${url}/y`, { method: 'HEAD' })).text();
      await out.waitFor(2);
    });
    const [clientId, without] = parsed(out.lines);
    expect(Object.keys(clientId!)).toEqual(KEYS);
    expect(clientId).toMatchObject({ url: '/x', remote_user: 'alice', bytes: 2, referer: null, user_agent: expect.any(String) });
    expect(Object.keys(without!)).toEqual(KEYS);
    expect(without).toMatchObject({ method: 'HEAD', url: '/y', status: 200, bytes: 0, outcome: 'end' });
  });

  it('logs the id requestId chose: the client’s X-Request-Id only when requestId kept it (socket)', async () => {
    const hello = Request.application(() => new Response('hi'));
    const seen: Array<[string, string | null]> = [];
    for (const trustIncoming of [true, false]) {
      const out = collector();
      const app = requestId(accessLog(hello, { log: out, format: 'json' }), { trustIncoming });
      await withServer(app, async (url) => {
        const res = await fetch(url, { headers: { 'x-request-id': 'edge-42' } });
        await res.text();
        await out.waitFor(1);
        seen.push([String(parsed(out.lines)[0]!.request_id), res.headers.get('x-request-id')]);
      });
    }
    expect(seen[0]).toEqual(['edge-42', 'edge-42']);
    expect(seen[1]![0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[1]![1]).toBe(seen[1]![0]);
  });

  it('keeps a hostile User-Agent on one line, quotes and control characters escaped by JSON (raw socket and in-process)', async () => {
    const { out, app } = logged(Request.application(() => new Response('x')), { format: 'json' });
    const agent = Buffer.concat([Buffer.from('evil" "injected\\ {"status":200}\t'), Buffer.from([0x85, 0x9b, 0x32, 0x4a, 0xa0])]);
    await withServer(app, async (_url, port) => {
      const head = Buffer.concat([Buffer.from('GET /q"uote HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nUser-Agent: '), agent, Buffer.from('\r\n\r\n')]);
      await rawExchange(port, head);
      await out.waitFor(1);
    });
    const [line] = parsed(out.lines);
    expect(line).toMatchObject({ url: '/q"uote', status: 200, user_agent: agent.toString('latin1') });
    // C1 controls (NEL ends a line for Unicode-aware readers, CSI starts a terminal sequence) as \u escapes.
    expect(out.lines[0]).toContain('\\u0085\\u009b2J\u00a0');
    // In-process, where a raw environ can hold anything: a newline, U+2028.
    const out2 = collector();
    const environ = Request.blank('/').environ;
    environ.HTTP_USER_AGENT = 'x\n{"forged":true}\u2028y';
    const res = await new Request(environ).getResponse(accessLog(new Response('y'), { log: out2, format: 'json' }));
    await res.bytes();
    expect(out2.lines).toHaveLength(1);
    expect(parsed(out2.lines)[0]!.user_agent).toBe('x\n{"forged":true}\u2028y');
  });

  it('logs the error of a failed app as its message only, outcome error (socket)', async () => {
    const out = collector();
    const app = accessLog(() => {
      throw new Error('app failed\n    at secret (/srv/app.ts:1:1)');
    }, { log: out, format: 'json' });
    await withServer(app, async (url) => {
      expect((await fetch(url)).status).toBe(500);
      await out.waitFor(1);
    });
    const [line] = parsed(out.lines);
    expect(Object.keys(line!)).toEqual([...KEYS, 'error']);
    expect(line).toMatchObject({ status: 500, bytes: 22, outcome: 'error', error: 'app failed\n    at secret (/srv/app.ts:1:1)' });
    expect(out.lines[0]).not.toContain('access-log');
  });
});

describe('formatLogTime / escapeLogField', () => {
  it('formats local time as Apache %t', () => {
    const date = new Date(2000, 9, 10, 13, 55, 36);
    const offset = -date.getTimezoneOffset();
    const sign = offset < 0 ? '-' : '+';
    const hh = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
    const mm = String(Math.abs(offset) % 60).padStart(2, '0');
    expect(formatLogTime(date)).toBe(`10/Oct/2000:13:55:36 ${sign}${hh}${mm}`);
    expect(formatLogTime(new Date(1999, 0, 2, 3, 4, 5))).toMatch(/^02\/Jan\/1999:03:04:05 [+-]\d{4}$/);
  });

  it('escapes like Apache', () => {
    expect(escapeLogField('a"b\\c\x01\x7f')).toBe('a\\"b\\\\c\\x01\\x7f');
    expect(escapeLogField('plain é')).toBe('plain é');
  });
});
