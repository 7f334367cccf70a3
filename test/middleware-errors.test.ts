import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abort, type App, type AppLike, HTTPBadGateway, HTTPNotFound, Request, compose, serve } from 'tsgi';
import { errors, type ErrorsOptions, lint, requestId, timeout } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { parseStack, renderTraceback } from '../src/middleware/traceback.ts';
import { afterTheHeadWait } from './helpers.ts';

const enc = new TextEncoder();

async function withServer(app: AppLike, fn: (url: string, port: number, log: string[]) => Promise<void>): Promise<void> {
  const log: string[] = [];
  const server = await serve(app, { port: 0, log: { write: (m) => void log.push(m) } });
  try {
    await fn(server.url, server.port, log);
  } finally {
    await server.close();
  }
}

/**
 * Expects `errors(app)` to answer its own 500 to a JSON client (negotiated, `Vary: Accept`), to
 * log one line holding `logged`, and to tell `onError` once: what the server would have answered
 * bare.
 */
async function expectErrorsAnswer(app: App, what: string, logged: string): Promise<void> {
  const seen: unknown[] = [];
  await withServer(errors(app, { onError: (error) => void seen.push(error) }), async (url, _port, log) => {
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    expect(res.status, what).toBe(500);
    expect(res.headers.get('vary'), what).toBe('Accept');
    expect(await res.json(), what).toMatchObject({ code: 500, title: 'Internal Server Error' });
    expect(log.join('').match(/^\[tsgi\]/gm), what).toHaveLength(1);
    expect(log.join(''), what).toContain(logged);
    expect(log.join(''), what).not.toContain('without calling startResponse');
    expect(seen, what).toHaveLength(1);
  });
}

/** The app wrapped the way the project tests it: lint on both sides of errors(). */
function guarded(app: App, options?: ErrorsOptions): App {
  return lint(errors(lint(app), options));
}

function boomApp(): App {
  return () => {
    throw new Error('secret internals: db password');
  };
}

/** Waits until `predicate` holds (for logs written after the response is out). */
async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(predicate()).toBe(true);
}

describe('errors: before the headers are out', () => {
  it('turns a throw into a negotiated 500 without internals, and logs method, URL, status, stack', async () => {
    const client = new TestClient(guarded(boomApp()), { status: 500, allowErrors: true });
    const plain = await client.get('/p?q=1');
    expect(plain.contentType).toBe('text/plain');
    expect(plain.headers.get('vary')).toBe('Accept');
    expect(plain.textBody).toContain('500 Internal Server Error');
    expect(plain.textBody).not.toContain('secret');
    expect(plain.errors).toContain(`[tsgi] GET /p?q=1 HTTP/1.1 500: Error: secret internals: db password`);
    expect(plain.errors).toMatch(/\n\s+at /);

    const html = await client.get('/h', { headers: { accept: 'text/html' } });
    expect(html.contentType).toBe('text/html');
    expect(html.textBody).not.toContain('secret');
    expect(html.select('title')[0]?.text).toBe('500 Internal Server Error');

    const json = await client.get('/j', { headers: { accept: 'application/json' } });
    expect(await json.json()).toMatchObject({ code: 500, title: 'Internal Server Error' });
    expect(json.errors.match(/^\[tsgi\]/gm)).toHaveLength(1);
  });

  it('catches rejections, and throws from the first body step after startResponse', async () => {
    const rejecting: App = async () => {
      await Promise.resolve();
      throw new TypeError('rejected');
    };
    const lateThrow: App = (_environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (function* () {
        throw new RangeError('first step failed');
      })();
    };
    const lazyThrow: App = () =>
      (async function* (): AsyncGenerator<Uint8Array> {
        throw new Error('lazy failure');
      })();
    for (const [app, message] of [
      [rejecting, 'TypeError: rejected'],
      [lateThrow, 'RangeError: first step failed'],
      [lazyThrow, 'Error: lazy failure'],
    ] as const) {
      // The negotiated JSON body proves errors() answered, not the server's fallback.
      const res = await new TestClient(guarded(app)).get('/', { headers: { accept: 'application/json' }, status: 500, allowErrors: true });
      expect(await res.json()).toMatchObject({ code: 500 });
      expect(res.textBody).not.toContain('failed');
      expect(res.errors).toContain(`[tsgi] GET / HTTP/1.1 500: ${message}`);
    }
  });

  it('treats an invalid status, header or chunk from the app as an error (500, logged)', async () => {
    const bad: Record<string, App> = {
      status: (_e, start) => (start('OK', []), []),
      header: (_e, start) => (start('200 OK', [['X-Evil', 'a\r\nSet-Cookie: x=1']]), []),
      name: (_e, start) => (start('200 OK', [['Bad Name', 'v']]), []),
      chunk: (_e, start) => (start('200 OK', []), ['text' as unknown as Uint8Array]),
      body: (_e, start) => (start('200 OK', []), 'text' as never),
      never: () => [],
    };
    for (const [what, app] of Object.entries(bad)) {
      const res = await new TestClient(errors(app)).get('/', { status: 500, allowErrors: true });
      expect(res.headers.get('set-cookie'), what).toBeNull();
      expect(res.errors, what).toContain('500: TypeError');
    }
  });

  it('treats an invalid first chunk of a streamed body as its error too: its negotiated 500, logged once, sent to onError', async () => {
    const streams: Record<string, App> = {
      async: (_e, start) =>
        (async function* () {
          start('200 OK', [['Content-Type', 'text/plain']]);
          yield 'text' as unknown as Uint8Array;
        })(),
      sync: (_e, start) =>
        (function* () {
          start('200 OK', [['Content-Type', 'text/plain']]);
          yield 'text' as unknown as Uint8Array;
        })(),
    };
    for (const [what, app] of Object.entries(streams)) {
      await expectErrorsAnswer(app, what, '[tsgi] GET / HTTP/1.1 500: TypeError: body chunk is not a Uint8Array (string)');
    }
  });

  it('treats a head the server would refuse as its error too (a 1xx final status, a Content-Length it cannot send or that the body belies): its negotiated 500, sent to onError', async () => {
    const bad: Record<string, App> = {
      informational: (_e, start) => (start('103 Early Hints', []), [enc.encode('abc')]),
      noHeaders: (_e, start) => ((start as (status: string) => void)('200 OK'), [enc.encode('abc')]),
      letters: (_e, start) => (start('200 OK', [['Content-Length', '3x']]), [enc.encode('abc')]),
      twice: (_e, start) => (start('200 OK', [['Content-Length', '3'], ['content-length', '3']]), [enc.encode('abc')]),
      longer: (_e, start) => (start('200 OK', [['Content-Length', '10']]), [enc.encode('abc')]),
      shorter: (_e, start) => (start('200 OK', [['Content-Length', '1']]), [enc.encode('a'), enc.encode('bc')]),
    };
    for (const [what, app] of Object.entries(bad)) {
      await expectErrorsAnswer(app, what, '[tsgi] GET / HTTP/1.1 500: TypeError');
    }
    // A HEAD answer's Content-Length is the GET body's; a 304's, the stored one's: neither is checked.
    const head: App = (_e, start) => (start('200 OK', [['Content-Length', '10']]), []);
    const notModified: App = (_e, start) => (start('304 Not Modified', [['Content-Length', '10']]), []);
    await withServer(errors(head), async (url, _port, log) => {
      const res = await fetch(url, { method: 'HEAD' });
      expect([res.status, res.headers.get('content-length')]).toEqual([200, '10']);
      expect(log).toEqual([]);
    });
    await withServer(errors(notModified), async (url, _port, log) => {
      expect((await fetch(url)).status).toBe(304);
      expect(log).toEqual([]);
    });
    // A 205's Content-Length is the server's (0, RFC 9110 §15.3.6), whatever the app gave: as 204's, not checked.
    const reset: App = (_e, start) => (start('205 Reset Content', [['Content-Length', '5']]), []);
    for (const app of [reset, errors(reset)]) {
      await withServer(app, async (url, _port, log) => {
        const res = await fetch(url, { method: 'POST' });
        expect([res.status, res.headers.get('content-length'), await res.text()]).toEqual([205, '0', '']);
        expect(log).toEqual([]);
      });
    }
  });

  it('answers an HTTPException thrown by a raw app with its own response, unlogged', async () => {
    const app: App = (environ) => {
      if (environ.PATH_INFO === '/abort') abort(409, 'conflict here');
      throw new HTTPNotFound('no such thing');
    };
    // Output on tsgi.errors would fail these calls.
    const client = new TestClient(guarded(app));
    const res = await client.get('/x', { headers: { accept: 'application/json' }, status: 404 });
    expect(await res.json()).toMatchObject({ message: 'no such thing' });
    await client.get('/abort', { status: 409 });
  });

  it('answers a 5xx HTTPException thrown by a raw app with its own response, logged with its status and sent to onError', async () => {
    const seen: unknown[] = [];
    const app: App = () => {
      throw new HTTPBadGateway('The upstream did not answer.');
    };
    const res = await new TestClient(errors(app, { onError: (error) => void seen.push(error) })).get('/x', {
      headers: { accept: 'text/plain' },
      status: 502,
      allowErrors: true,
    });
    expect(res.textBody).toContain('The upstream did not answer.');
    expect(res.errors).toMatch(/^\[tsgi\] GET \/x HTTP\/1\.1 502: HTTPBadGateway: The upstream did not answer\./);
    expect(seen).toHaveLength(1);
  });

  it('sends no body for HEAD', async () => {
    await withServer(guarded(boomApp()), async (_url, port) => {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http.request({ host: '127.0.0.1', port, method: 'HEAD', path: '/' }, resolve).on('error', reject).end();
      });
      expect(res.statusCode).toBe(500);
      res.resume();
    });
  });

  it('closes the body of an answer it replaces', async () => {
    let closed = false;
    const app: App = (_e, start) => {
      start('200 OK', [['X-Bad', 'a\nb']]);
      return (function* () {
        try {
          yield enc.encode('never sent');
        } finally {
          closed = true;
        }
      })();
    };
    const res = await Request.blank('/').getResponse(errors(app, { log: { write: () => {} } }));
    expect(res.statusCode).toBe(500);
    expect(closed).toBe(true);
  });
});

/** A raw app that sends its head and a first chunk, then fails with `message`. */
function failingAfterHead(message: string): App {
  return (_e, start) => {
    start('200 OK', [['Content-Type', 'text/plain']]);
    return (async function* () {
      yield enc.encode('partial ');
      await afterTheHeadWait(); // not a 10 ms sleep: under load it beat the TestClient's wait, a 500 before the head
      throw new Error(message);
    })();
  };
}

describe('errors: after the headers are out', () => {
  it('logs the error and aborts the connection, never a clean end', async () => {
    const app = failingAfterHead('mid-stream failure');
    await withServer(guarded(app), async (url, _port, log) => {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      await expect(res.text()).rejects.toThrow();
      await until(() => log.join('').includes('mid-stream failure'));
      const all = log.join('');
      expect(all).toContain(`[tsgi] GET / HTTP/1.1 200 (failed after the response started; the connection is aborted): Error: mid-stream failure`);
    });
  });

  it('logs a failure after the head once: the server cuts the connection without logging it again', async () => {
    const app = failingAfterHead('logged once');
    await withServer(errors(app), async (url, _port, log) => {
      await expect(fetch(url).then((r) => r.text())).rejects.toThrow();
      await until(() => log.join('').includes('logged once'));
      await new Promise((r) => setTimeout(r, 50));
      expect(log.filter((line) => line.includes('Error: logged once'))).toEqual([
        expect.stringMatching(/^\[tsgi\] GET \/ HTTP\/1\.1 200 \(failed after the response started; the connection is aborted\): Error: logged once/),
      ]);
    });
    // The TestClient, which fails the call on what is logged, sees one line too.
    const client = new TestClient(errors(app));
    const res = await client.get('/', { buffered: false });
    await expect(res.text()).rejects.toThrow();
    expect(res.errors.split('Error: logged once').length - 1).toBe(1);
  });

  it('logs a failure right after the first chunk, which the server answers 500 before its head, with that 500, once (socket)', async () => {
    const app: App = (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield enc.encode('partial ');
        throw new Error('at once');
      })();
    };
    const seen: unknown[] = [];
    await withServer(errors(app, { onError: (error) => void seen.push(error) }), async (url, _port, log) => {
      const res = await fetch(url);
      // The server takes the second step before it sends the head: the failure is answered, not cut.
      expect(res.status).toBe(500);
      await res.text();
      await until(() => log.join('').includes('at once'));
      await new Promise((r) => setTimeout(r, 50));
      expect(log.filter((line) => line.includes('Error: at once'))).toEqual([expect.stringMatching(/^\[tsgi\] GET \/ HTTP\/1\.1 500: Error: at once\n/)]);
      expect(seen).toHaveLength(1);
    });
  });

  it('logs an HTTPException the server answers before its head (a proxied page whose upstream died, under a filter) once, with its status (socket)', async () => {
    // proxy() raises a 502 when the upstream dies mid-body; under compress or rewriteHtml no
    // byte went out yet, so the server answers the 502 page: errors logged it, and so did the server.
    const app: App = (_e, start) => {
      start('200 OK', [['Content-Type', 'text/html']]);
      return (async function* () {
        yield enc.encode('<html>');
        throw new HTTPBadGateway('The upstream server closed the connection before a complete answer.', { cause: new Error('upstream died') });
      })();
    };
    const seen: unknown[] = [];
    await withServer(errors(app, { onError: (error) => void seen.push(error) }), async (url, _port, log) => {
      const res = await fetch(url);
      expect(res.status).toBe(502);
      await res.text();
      await until(() => log.join('').includes('closed the connection'));
      await new Promise((r) => setTimeout(r, 50));
      expect(log.filter((line) => line.includes('closed the connection'))).toEqual([expect.stringMatching(/^\[tsgi\] GET \/ HTTP\/1\.1 502: /)]);
      expect(seen).toHaveLength(1);
    });
  });

  it('logs a thrown string or number after the head once too, not again by the server', async () => {
    const throwing = (value: unknown): App => (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield enc.encode('partial ');
        await afterTheHeadWait();
        throw value;
      })();
    };
    for (const value of ['legacy string throw', 404404]) {
      await withServer(errors(throwing(value)), async (url, _port, log) => {
        await expect(fetch(url).then((r) => r.text())).rejects.toThrow();
        await until(() => log.join('').includes(String(value)));
        await new Promise((r) => setTimeout(r, 50));
        expect(log.filter((line) => line.includes(String(value)))).toEqual([
          expect.stringMatching(/^\[tsgi\] GET \/ HTTP\/1\.1 200 \(failed after the response started; the connection is aborted\): /),
        ]);
      });
    }
    const res = await new TestClient(errors(throwing('legacy string throw'))).get('/', { buffered: false });
    await expect(res.text()).rejects.toThrow();
    expect(res.errors.split('legacy string throw').length - 1).toBe(1);
  });

  it('runs the body finally blocks when the client goes away (no error logged)', async () => {
    let cleaned = false;
    const app: App = (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        try {
          for (;;) {
            yield enc.encode('tick\n');
            await new Promise((r) => setTimeout(r, 5));
          }
        } finally {
          cleaned = true;
        }
      })();
    };
    const seen: unknown[] = [];
    await withServer(errors(app, { onError: (e) => void seen.push(e) }), async (url) => {
      const controller = new AbortController();
      const res = await fetch(url, { signal: controller.signal });
      const reader = res.body!.getReader();
      await reader.read();
      controller.abort();
      await until(() => cleaned);
    });
    expect(seen).toEqual([]);
  });
  it('does not log an app that stops on tsgi.signal when the client goes away before the head', async () => {
    // `await fetch(upstream, { signal: req.signal })` in a handler: the client hangs up, the
    // promise rejects with the signal's AbortError; the server itself logs nothing for it.
    let stopped = false;
    // The client leaves once the app waits on the signal: a 50 ms sleep let a loaded machine
    // abort the fetch before the request reached the app, which then never ran (`stopped` never set).
    let waiting!: () => void;
    const waits = new Promise<void>((resolve) => (waiting = resolve));
    const app = Request.application(async (req) => {
      try {
        await new Promise((_resolve, reject) => {
          req.signal!.addEventListener('abort', () => reject(req.signal!.reason));
          waiting();
        });
      } finally {
        stopped = true;
      }
      return 'never';
    });
    const seen: unknown[] = [];
    await withServer(errors(app, { onError: (e) => void seen.push(e) }), async (url, _port, log) => {
      const controller = new AbortController();
      const request = fetch(url, { signal: controller.signal }).catch(() => undefined);
      await waits;
      controller.abort();
      await request;
      await until(() => stopped);
      await new Promise((r) => setTimeout(r, 50));
      expect(log).toEqual([]);
    });
    expect(seen).toEqual([]);
  });

  it('still logs an upstream reset the app fails with after a timeout() above gave up, the client still there', async () => {
    // The signal aborted because the deadline passed, not because the client left: the
    // upstream's ECONNRESET is the app's failure, and the 503 the client got says nothing of it.
    const app = Request.application(async () => {
      await new Promise((r) => setTimeout(r, 100));
      throw Object.assign(new Error('read ECONNRESET (the upstream)'), { code: 'ECONNRESET' });
    });
    const seen: unknown[] = [];
    await withServer(timeout(errors(app, { onError: (e) => void seen.push(e) }), { ms: 30 }), async (url, _port, log) => {
      expect((await fetch(url)).status).toBe(503);
      await until(() => seen.length === 1);
      expect(log.join('')).toContain('500: Error: read ECONNRESET (the upstream)');
    });
  });

  it('still logs an AbortError the app throws while the client is there', async () => {
    const app = Request.application(() => {
      throw new DOMException('an upstream call timed out', 'AbortError');
    });
    await withServer(errors(app), async (url, _port, log) => {
      expect((await fetch(url)).status).toBe(500);
      expect(log.join('')).toContain('500: AbortError: an upstream call timed out');
    });
  });
});

describe('errors: the log option and onError', () => {
  it('writes to options.log (a LogStream) instead of tsgi.errors', async () => {
    const written: string[] = [];
    await withServer(errors(boomApp(), { log: { write: (line) => void written.push(line) } }), async (url, _port, log) => {
      await fetch(url);
      expect(written.join('')).toContain('secret internals');
      expect(log).toEqual([]);
    });
  });

  it('takes a Node stream as log', async () => {
    const { PassThrough } = await import('node:stream');
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    await withServer(errors(boomApp(), { log: stream }), async (url) => {
      await fetch(url);
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunks.join('')).toContain('secret internals');
  });

  it('calls onError with the error and the request; its own failures are logged, never sent', async () => {
    const calls: Array<[unknown, string]> = [];
    const options: ErrorsOptions = {
      onError(error, req) {
        calls.push([error, req.url]);
        throw new Error('tracker is down');
      },
    };
    await withServer(guarded(boomApp(), options), async (url, _port, log) => {
      const res = await fetch(`${url}/x?y=1`);
      expect(res.status).toBe(500);
      expect(calls).toHaveLength(1);
      expect((calls[0]![0] as Error).message).toBe('secret internals: db password');
      expect(calls[0]![1]).toBe(`${url}/x?y=1`);
      expect(log.join('')).toContain('(onError hook failed): Error: tracker is down');
    });
    await withServer(errors(boomApp(), { onError: async () => Promise.reject(new Error('async tracker down')) }), async (url, _port, log) => {
      expect((await fetch(url)).status).toBe(500);
      await until(() => log.join('').includes('async tracker down'));
    });
  });

  it('names the request id of requestId around it in each log line, as the access log and the answer do', async () => {
    const failingLate: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield enc.encode('partial');
        await afterTheHeadWait();
        throw new Error('late failure');
      })();
    };
    const app: App = (environ, startResponse) => (environ.PATH_INFO === '/late' ? failingLate : boomApp())(environ, startResponse);
    await withServer(compose(requestId, errors)(app), async (url, _port, log) => {
      const res = await fetch(`${url}/x`, { headers: { 'X-Request-Id': 'nginx-abc123' } });
      expect(res.status).toBe(500);
      expect(res.headers.get('x-request-id')).toBe('nginx-abc123');
      expect(log.join('')).toContain('[tsgi] GET /x HTTP/1.1 500 request_id=nginx-abc123: Error: secret internals');
      const fresh = await fetch(`${url}/y`);
      const id = fresh.headers.get('x-request-id')!;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      await until(() => log.join('').includes(`[tsgi] GET /y HTTP/1.1 500 request_id=${id}: Error`));
      await fetch(`${url}/late`, { headers: { 'X-Request-Id': 'late-1' } }).then((r) => r.text()).catch(() => undefined);
      await until(() => log.join('').includes('200 (failed after the response started; the connection is aborted) request_id=late-1: Error: late failure'));
    });
    // Without requestId, the line is as before.
    await withServer(errors(boomApp()), async (url, _port, log) => {
      await fetch(`${url}/z`, { headers: { 'X-Request-Id': 'not-ours' } });
      expect(log.join('')).toContain('[tsgi] GET /z HTTP/1.1 500: Error');
    });
  });

  it('escapes control characters of the request in log lines', async () => {
    const lines: string[] = [];
    const environ = Request.blank('/x').environ;
    environ.REQUEST_URI = '/x\n[tsgi] forged line';
    const res = await new Request(environ).getResponse(errors(boomApp(), { log: { write: (l) => void lines.push(l) } }));
    expect(res.statusCode).toBe(500);
    expect(lines.join('')).toContain('/x\\x0a[tsgi] forged line');
    expect(lines.join('').split('\n')[0]).not.toMatch(/^\[tsgi\] forged/);
  });
});

describe('errors: debug page', () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tsgi-debug-'));
    file = path.join(dir, 'handler.js');
    await writeFile(file, ['// line 1', 'function handler() {', '  const s = "<script>alert(1)</script> & more";', '  throw new Error(s);', '}', ''].join('\n'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function crafted(): Error {
    const error = new Error('<img src=x onerror=alert(1)>');
    error.stack = `Error: <img src=x onerror=alert(1)>\n    at handler (${pathToFileURL(file).href}:4:9)\n    at node:internal/process/task_queues:95:5`;
    return error;
  }

  it('renders an HTML traceback with escaped source lines, the request line, headers and environ', async () => {
    const app = errors(() => {
      throw crafted();
    }, { debug: true, log: { write: () => {} } });
    const req = Request.blank('/path?q=<b>', { headers: { accept: 'text/html', 'x-probe': '"><svg>' } });
    const res = await req.getResponse(app);
    expect(res.statusCode).toBe(500);
    expect(res.contentType).toBe('text/html');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.getAll('vary')).toEqual(['Accept']);
    const html = await res.text();
    // The source line around the frame, escaped.
    expect(html).toContain('const s = &quot;&lt;script&gt;alert(1)&lt;/script&gt; &amp; more&quot;;');
    expect(html).toContain('function handler() {');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<svg>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('GET /path?q=&lt;b&gt; HTTP/1.1');
    expect(html).toContain('&quot;&gt;&lt;svg&gt;');
    for (const key of ['REQUEST_METHOD', 'PATH_INFO', 'tsgi.url_scheme', 'tsgi.input', 'HTTP_X_PROBE']) {
      expect(html).toContain(`<th>${key}</th>`);
    }
    expect(html).toContain(escape(file));
    expect(html).toContain('node:internal/process/task_queues');
    // Self-contained: no external resources, no script.
    expect(html).not.toMatch(/<(script|link|img)\b/i);
    expect(html).not.toMatch(/<[^>]*\s(src|href)=/i);
  });

  it('shows a real stack with the lines of this test file, and the cause chain', async () => {
    const app = errors(() => {
      throw new Error('outer <wrap>', { cause: new Error('inner cause') });
    }, { debug: true, log: { write: () => {} } });
    const res = await Request.blank('/', { headers: { accept: 'text/html' } }).getResponse(app);
    const html = (await res.text());
    expect(html).toContain(escape("throw new Error('outer <wrap>', { cause: new Error('inner cause') });"));
    expect(html).toContain('class="current"');
    expect(html).toContain('Caused by');
    expect(html).toContain('inner cause');
    // The arrow function that threw has no name: V8 writes its frame as it writes a module's top
    // level, `at file:///…:line:col`, so the page names neither guess.
    expect(html).toMatch(/<span class="fn">\(anonymous\)<\/span> <span class="loc">[^<]*middleware-errors\.test\.ts:\d+:\d+<\/span>/);
    expect(html).not.toContain('(top level)');
  });

  it('answers the stack as plain text for curl (*/*) and as JSON when asked', async () => {
    const app = errors(() => {
      throw crafted();
    }, { debug: true, log: { write: () => {} } });
    const plain = await Request.blank('/t', { headers: { accept: '*/*' } }).getResponse(app);
    expect(plain.headers.get('vary')).toBe('Accept');
    const text = await plain.text();
    expect(text).toContain('GET /t HTTP/1.1');
    expect(text).toContain(`at handler (${pathToFileURL(file).href}:4:9)`);
    const json = (await (await Request.blank('/j', { headers: { accept: 'application/json' } }).getResponse(app)).json()) as { error: { message: string; stack: string } };
    expect(json.error.message).toBe('<img src=x onerror=alert(1)>');
    expect(json.error.stack).toContain('handler');
  });

  it('warns once, as a process warning, when debug: true is set under NODE_ENV=production', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning);
    const saved = process.env.NODE_ENV;
    process.on('warning', onWarning);
    try {
      process.env.NODE_ENV = 'development';
      errors(boomApp(), { debug: true });
      process.env.NODE_ENV = 'production';
      errors(boomApp(), { debug: false });
      errors(boomApp());
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
      errors(boomApp(), { debug: true });
      errors(boomApp(), { debug: true });
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => [w.name, (w as { code?: string }).code, w.message])).toEqual([
        [
          'TsgiWarning',
          'TSGI_DEBUG_IN_PRODUCTION',
          "errors(app, { debug: true }) under NODE_ENV=production: its traceback page shows source code, request headers and the environ to every client whose request fails; set debug from NODE_ENV === 'development'",
        ],
      ]);
    } finally {
      process.off('warning', onWarning);
      if (saved === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = saved;
    }
  });

  it('serves the debug page over a socket, and never without debug: true', async () => {
    await withServer(guarded(boomApp(), { debug: true }), async (url) => {
      const res = await fetch(url, { headers: { accept: 'text/html' } });
      expect(res.status).toBe(500);
      expect(await res.text()).toContain('secret internals: db password');
    });
    await withServer(guarded(boomApp()), async (url) => {
      const res = await fetch(url, { headers: { accept: 'text/html' } });
      expect(await res.text()).not.toContain('secret');
    });
  });

  it('reads no file that a frame-shaped line of the message names, over a socket', async () => {
    const secretText = path.join(dir, 'secret.txt');
    const secretScript = path.join(dir, 'config.ts');
    await writeFile(secretText, 'one\ntwo\nTEXT_SECRET=hunter2\nfour\n');
    await writeFile(secretScript, 'export const a = 1;\nexport const b = 2;\nexport const SCRIPT_SECRET = "swordfish";\n');
    // An app that puts a request value in its error message, as `no item ${id}` does.
    const app = guarded(
      Request.application((req) => {
        throw new Error(`no item ${req.query.get('id')}`);
      }),
      { debug: true, log: { write: () => {} } },
    );
    await withServer(app, async (url) => {
      for (const target of [secretText, secretScript, pathToFileURL(secretScript).href]) {
        const id = encodeURIComponent(`x\n    at ${target}:3:1`);
        const res = await fetch(`${url}/?id=${id}`, { headers: { accept: 'text/html' } });
        expect(res.status).toBe(500);
        const html = await res.text();
        expect(html, target).toContain('no item x');
        expect(html, target).not.toContain('hunter2');
        expect(html, target).not.toContain('swordfish');
        // The real frames still come with their source: this test file's line.
        expect(html, target).toContain(escape('throw new Error(`no item ${req.query.get(\'id\')}`);'));
      }
    });
  });

  it('serves the debug page for a thrown value String() cannot convert (a null-prototype object), over a socket', async () => {
    const log: string[] = [];
    const app = errors(() => {
      throw Object.assign(Object.create(null) as object, { reason: 'dictionary' });
    }, { debug: true, log: { write: (line) => void log.push(line) } });
    await withServer(app, async (url) => {
      const html = await fetch(url, { headers: { accept: 'text/html' } });
      expect(html.status).toBe(500);
      // The page, not the plain 500 of a render that failed on String(error).
      expect(await html.text()).toContain('<p class="message">[unprintable object]</p>');
      const json = await fetch(url, { headers: { accept: 'application/json' } });
      expect(((await json.json()) as { error: { message: string } }).error.message).toBe('[unprintable object]');
      expect(log.join('')).not.toContain('while rendering the debug page');
    });
  });

  it('renders non-Error throws', async () => {
    const html = await renderTraceback('just a <string>', Request.blank('/').environ);
    expect(html).toContain('just a &lt;string&gt;');
  });

  it('parses V8 frames', () => {
    const frames = parseStack(
      'Error: x\n    at fn (file:///a/b.ts:3:4)\n    at /c/d.js:5:6\n    at async Promise.all (index 0)\n    at new Foo (node:internal/x:1:2)\n    at async file:///e.js:7:8',
    );
    expect(frames).toEqual([
      { fn: 'fn', location: 'file:///a/b.ts', file: '/a/b.ts', line: 3, column: 4 },
      { fn: null, location: '/c/d.js', file: '/c/d.js', line: 5, column: 6 },
      { fn: 'async Promise.all', location: 'index 0', file: null, line: 0, column: 0 },
      { fn: 'new Foo', location: 'node:internal/x', file: null, line: 1, column: 2 },
      { fn: 'async', location: 'file:///e.js', file: '/e.js', line: 7, column: 8 },
    ]);
  });
});

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
