/**
 * `103 Early Hints` (RFC 8297): `req.sendEarlyHints()` and the `tsgi.early_hints` environ
 * extension (docs/spec.md §2.5), over real sockets on serve(), through middleware, in the test
 * client, and as a no-op under the fetch adapter.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App, type Environ, Request, Response } from 'tsgi';
import { mount, proxyFix } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { toFetchHandler } from 'tsgi/fetch';
import { toNodeHandler } from 'tsgi/node';
import { proxy, rewriteLocation } from 'tsgi/proxy';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { rawExchange, sleep, start } from './node-helpers.ts';
import { afterTheHeadWait } from './helpers.ts';

const STYLE = '</style.css>; rel=preload; as=style';
const SCRIPT = '</app.js>; rel=preload; as=script';

/** What a node:http client received: the 1xx responses in order, then the final one. */
interface Received {
  informational: Array<{ status: number; link: string | string[] | undefined; headers: Record<string, unknown> }>;
  status: number;
  body: string;
}

function get(port: number, path = '/', options: { headers?: Record<string, string>; body?: string; method?: string } = {}): Promise<Received> {
  return new Promise((resolve, reject) => {
    const informational: Received['informational'] = [];
    const req = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ informational, status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    req.on('information', (info) => informational.push({ status: info.statusCode, link: info.headers.link, headers: info.headers }));
    req.on('continue', () => req.end(options.body));
    req.on('error', reject);
    if (options.headers?.Expect) req.flushHeaders();
    else req.end(options.body);
  });
}

/** An app that sends the hints, waits a moment (the slow part of the page), then answers. */
function hinting(links: string | string[], results: boolean[] = []): App {
  return Request.application(async (req) => {
    results.push(req.sendEarlyHints(links));
    await sleep(5);
    return new Response('page');
  });
}


/** A page whose body asks for hints after its first chunk (the head is out then); `results` gets the answers. */
function lateHints(results: boolean[]): App {
  return Request.application((req) => {
    async function* body() {
      yield new TextEncoder().encode('one,');
      // Past the server's (and the TestClient's) wait for a second step, whatever the load: a
      // 5 ms sleep could end first on a stalled process, the head not out yet and the hints sent.
      await afterTheHeadWait();
      results.push(req.sendEarlyHints(STYLE));
      yield new TextEncoder().encode('two');
    }
    return new Response(body());
  });
}

/**
 * A page whose body asks for hints at once in its second step, right after its first `yield`:
 * the body has started (its first chunk was taken), so the call answers `false` and sends
 * nothing, though the head may still wait for that step (spec §2.5).
 */
function secondStepHints(results: boolean[]): App {
  return Request.application((req) => {
    async function* body() {
      yield new TextEncoder().encode('one,');
      results.push(req.sendEarlyHints(STYLE));
      yield new TextEncoder().encode('two');
    }
    return new Response(body());
  });
}

/** Calls the Node server's `tsgi.early_hints` with `fields`: it must throw a TypeError and send no 103. */
async function expectRefusedOnNode(fields: Array<[string, string]>): Promise<void> {
  const errors: unknown[] = [];
  const app: App = (environ, startResponse) => {
    try {
      environ['tsgi.early_hints']!(environ, fields);
    } catch (error) {
      errors.push(error);
    }
    startResponse('200 OK', []);
    return [];
  };
  const server = await start(app);
  const received = await get(server.port);
  expect(received.informational).toEqual([]);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toBeInstanceOf(TypeError);
}


/** GET `path` on an HTTP/2 session: the informational heads (103s), the status and the body. */
function h2Get(session: http2.ClientHttp2Session, path: string): Promise<{ hints: http2.IncomingHttpHeaders[]; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const hints: http2.IncomingHttpHeaders[] = [];
    const stream = session.request({ ':path': path });
    stream.on('headers', (headers) => hints.push(headers));
    let status = 0;
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ hints, status, body: Buffer.concat(chunks).toString() }));
    stream.on('error', reject);
  });
}

describe('103 Early Hints over HTTP/1.1', () => {
  it('sends a 103 with the Link fields before the final answer', async () => {
    const results: boolean[] = [];
    const server = await start(hinting([STYLE, SCRIPT], results));
    const received = await get(server.port);
    expect(received.informational).toHaveLength(1);
    expect(received.informational[0]!.status).toBe(103);
    expect(received.informational[0]!.link).toBe(`${STYLE}, ${SCRIPT}`);
    expect(received.status).toBe(200);
    expect(received.body).toBe('page');
    expect(results).toEqual([true]);
    expect(server.log.text).toBe('');
  });

  it('sends one 103 per call, each with its own links', async () => {
    const app = Request.application(async (req) => {
      req.sendEarlyHints(STYLE);
      await sleep(2);
      req.sendEarlyHints(SCRIPT);
      return new Response('page');
    });
    const server = await start(app);
    const received = await get(server.port);
    expect(received.informational.map((i) => i.link)).toEqual([STYLE, SCRIPT]);
    expect(received.status).toBe(200);
  });

  it('passes other fields given through the environ, each checked', async () => {
    const app: App = (environ, startResponse) => {
      const sent = environ['tsgi.early_hints']!(environ, [
        ['Link', STYLE],
        ['X-Hint', 'yes'],
      ]);
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode(String(sent))];
    };
    const server = await start(app);
    const received = await get(server.port);
    expect(received.informational).toHaveLength(1);
    expect(received.informational[0]!.headers['x-hint']).toBe('yes');
    expect(received.body).toBe('true');
  });

  it('sends nothing for fields without a Link (answers false)', async () => {
    const app: App = (environ, startResponse) => {
      const sent = environ['tsgi.early_hints']!(environ, [['X-Hint', 'yes']]);
      startResponse('200 OK', []);
      return [new TextEncoder().encode(String(sent))];
    };
    const server = await start(app);
    const received = await get(server.port);
    expect(received.informational).toEqual([]);
    expect(received.body).toBe('false');
  });

  it('sends no 103 to an HTTP/1.0 client (RFC 8297 §3), and answers false', async () => {
    const results: boolean[] = [];
    const server = await start(hinting(STYLE, results));
    const { raw } = await rawExchange(server.port, 'GET / HTTP/1.0\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(raw).not.toContain('103');
    expect(raw).not.toContain('style.css');
    expect(raw.endsWith('page')).toBe(true);
    expect(results).toEqual([false]);
  });

  it('ignores hints once the head is out (answers false, the body is untouched)', async () => {
    const results: boolean[] = [];
    const app = lateHints(results);
    const server = await start(app);
    const received = await get(server.port);
    expect(received.informational).toEqual([]);
    expect(received.body).toBe('one,two');
    expect(results).toEqual([false]);
  });

  it('ignores hints asked for right after the first chunk, while the head still waits for the second step (answers false)', async () => {
    const results: boolean[] = [];
    const server = await start(secondStepHints(results));
    for (let i = 0; i < 3; i++) {
      const received = await get(server.port);
      expect(received.informational).toEqual([]);
      expect(received.body).toBe('one,two');
    }
    expect(results).toEqual([false, false, false]);
  });

  it('refuses a field that would inject a line, with a TypeError, and sends nothing', async () => {
    const errors: unknown[] = [];
    const app = Request.application((req) => {
      for (const attempt of [
        () => req.sendEarlyHints(`${STYLE}\r\nSet-Cookie: a=1`),
        () => req.sendEarlyHints([STYLE, '</x.js>; rel=preload\nX: y']),
        () => req.environ['tsgi.early_hints']!(req.environ, [['Link', STYLE], ['Set-Cookie\r\nX', 'a']]),
        () => req.environ['tsgi.early_hints']!(req.environ, [['Link', STYLE], ['X-Hint', 'a\r\nSet-Cookie: b']]),
      ]) {
        try {
          attempt();
        } catch (error) {
          errors.push(error);
        }
      }
      return new Response('page');
    });
    const server = await start(app);
    const received = await get(server.port);
    expect(errors).toHaveLength(4);
    for (const error of errors) expect(error).toBeInstanceOf(TypeError);
    expect(received.informational).toEqual([]);
    expect(received.body).toBe('page');
  });

  it('refuses a Link value that is not one link-value, an empty list, and hop-by-hop fields', async () => {
    const req = Request.blank('/');
    expect(() => req.sendEarlyHints('style.css')).toThrow(TypeError);
    expect(() => req.sendEarlyHints(`${STYLE}, ${SCRIPT}`)).toThrow(/one link/);
    expect(() => req.sendEarlyHints([])).toThrow(TypeError);
    await expectRefusedOnNode([['Link', STYLE], ['Connection', 'close']]);
  });

  it('refuses two links joined by a comma without a space, or one hidden in a parameter value (a path put in a link unescaped)', () => {
    const req = Request.blank('/');
    expect(() => req.sendEarlyHints('</style.css>; rel=preload,</app.js>; rel=preload')).toThrow(/one link/);
    const path = 'x>; rel=preload; as=script,<https://evil.example/a.js';
    expect(() => req.sendEarlyHints(`<${path}>; rel=preload`)).toThrow(/one link/);
    expect(() => req.sendEarlyHints('</a.css>; rel=preload; as=style; type="text/css,x"')).not.toThrow();
    expect(() => req.sendEarlyHints('</a.css>; rel=preload; type=text/css')).not.toThrow();
  });

  it("refuses a quoted parameter value holding a space or a ';' (Node's writeEarlyHints would), as docs/response.md says", () => {
    const req = Request.blank('/');
    // What React's onHeaders gives for a responsive image: fine in the 200's Link, not in a 103.
    expect(() => req.sendEarlyHints('</hero.png>; rel=preload; as=image; imagesrcset="/a.png 1x, /b.png 2x"')).toThrow(/one link/);
    expect(() => req.sendEarlyHints('</a.css>; rel=preload; as=style; title="Main style"')).toThrow(/one link/);
    expect(() => req.sendEarlyHints('</a.css>; rel=preload; as=style; title="a;b"')).toThrow(/one link/);
  });

  it('refuses Content-Length in early hints (RFC 9110 §8.6: never in a 1xx), and sends nothing', async () => {
    await expectRefusedOnNode([['Link', STYLE], ['Content-Length', '20']]);
  });

  it('keeps Expect: 100-continue working: 103 first, then 100 when the app reads, then the answer', async () => {
    const app = Request.application(async (req) => {
      req.sendEarlyHints(STYLE);
      await sleep(5);
      return new Response(`got ${await req.text()}`);
    });
    const server = await start(app);
    const received = await get(server.port, '/', {
      method: 'POST',
      headers: { Expect: '100-continue', 'Content-Type': 'text/plain', 'Content-Length': '5' },
      body: 'hello',
    });
    expect(received.informational.map((i) => i.status)).toEqual([103, 100]);
    expect(received.status).toBe(200);
    expect(received.body).toBe('got hello');
  });

  it('reaches an app below mount() and proxyFix()', async () => {
    const results: boolean[] = [];
    const server = await start(proxyFix(mount({ '/blog': hinting(STYLE, results) })));
    const received = await get(server.port, '/blog/post', { headers: { 'X-Forwarded-For': '10.0.0.1' } });
    expect(received.informational.map((i) => i.link)).toEqual([STYLE]);
    expect(received.body).toBe('page');
    expect(results).toEqual([true]);
  });

  it('reaches an app that was handed a copy of the environ', async () => {
    const results: boolean[] = [];
    const inner = hinting(STYLE, results);
    const copying: App = (environ, startResponse) => inner({ ...environ }, startResponse);
    const server = await start(copying);
    const received = await get(server.port);
    expect(received.informational.map((i) => i.link)).toEqual([STYLE]);
    expect(results).toEqual([true]);
  });
});

describe('103 Early Hints under toNodeHandler (a server of your own, Express)', () => {
  it('sends the 103 through the response it was handed', async () => {
    const results: boolean[] = [];
    const server = http.createServer(toNodeHandler(hinting(STYLE, results)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const received = await get((server.address() as AddressInfo).port);
      expect(received.informational.map((i) => i.link)).toEqual([STYLE]);
      expect(received.body).toBe('page');
      expect(results).toEqual([true]);
      const late: boolean[] = [];
      server.removeAllListeners('request');
      server.on('request', toNodeHandler(secondStepHints(late)));
      const afterFirst = await get((server.address() as AddressInfo).port);
      expect(afterFirst.informational).toEqual([]);
      expect(afterFirst.body).toBe('one,two');
      expect(late).toEqual([false]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('103 Early Hints over HTTP/2', () => {
  it('sends a HEADERS frame with :status 103 and the links, then the answer (h2c)', async () => {
    const results: boolean[] = [];
    const server = await start(hinting([STYLE, SCRIPT], results), { http2: 'h2c' });
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    try {
      const { hints, status, body } = await h2Get(session, '/');
      expect(hints).toHaveLength(1);
      expect(hints[0]![':status']).toBe(103);
      expect(hints[0]!.link).toBe(`${STYLE}, ${SCRIPT}`);
      expect(status).toBe(200);
      expect(body).toBe('page');
      expect(results).toEqual([true]);
    } finally {
      session.close();
    }
  });

  it('sends nothing for hints too large for one HTTP/2 header block (answers false); the answer and the session go on', async () => {
    const results: boolean[] = [];
    const huge = `</${'a'.repeat(70_000)}.css>; rel=preload`;
    const server = await start(hinting([huge], results), { http2: 'h2c' });
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    session.on('error', () => {});
    try {
      for (const path of ['/one', '/two']) {
        const { hints, status, body } = await h2Get(session, path);
        expect([hints.length, status, body]).toEqual([0, 200, 'page']);
      }
      expect(results).toEqual([false, false]);
    } finally {
      session.close();
    }
  });

  it('sends nothing for hints asked for right after the first chunk (answers false)', async () => {
    const results: boolean[] = [];
    const server = await start(secondStepHints(results), { http2: 'h2c' });
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    try {
      const { hints, status, body } = await h2Get(session, '/');
      expect([hints.length, status, body]).toEqual([0, 200, 'one,two']);
      expect(results).toEqual([false]);
    } finally {
      session.close();
    }
  });
});

describe('the test client', () => {
  it('records the hints sent, one entry per 103, as res.earlyHints', async () => {
    const app = Request.application((req) => {
      req.sendEarlyHints([STYLE, SCRIPT]);
      req.sendEarlyHints(STYLE);
      return new Response('page');
    });
    const res = await new TestClient(app).get('/');
    expect(res.earlyHints).toEqual([
      [
        ['Link', STYLE],
        ['Link', SCRIPT],
      ],
      [['Link', STYLE]],
    ]);
    expect(await new TestClient(Request.application(() => new Response('x'))).get('/').then((r) => r.earlyHints)).toEqual([]);
  });

  it('records nothing once the head is out, nor for HTTP/1.0, and refuses injection', async () => {
    const results: boolean[] = [];
    const late = lateHints(results);
    const res = await new TestClient(late).get('/');
    expect(res.earlyHints).toEqual([]);
    expect(await res.text()).toBe('one,two');
    expect(results).toEqual([false]);

    for (const buffered of [true, false]) {
      const afterFirst = await new TestClient(secondStepHints(results)).get('/', { buffered });
      expect(afterFirst.earlyHints).toEqual([]);
      expect(await afterFirst.text()).toBe('one,two');
    }
    expect(results).toEqual([false, false, false]);
    results.length = 1;

    const old = await new TestClient(hinting(STYLE, results)).get('/', { environ: { SERVER_PROTOCOL: 'HTTP/1.0' } });
    expect(old.earlyHints).toEqual([]);
    expect(results).toEqual([false, false]);

    const injecting = Request.application((req) => {
      req.sendEarlyHints(`${STYLE}\r\nSet-Cookie: a=1`);
      return new Response('page');
    });
    const refused = await new TestClient(injecting).get('/', { status: 500, allowErrors: true });
    expect(refused.errors).toMatch(/TypeError/);
    expect(refused.earlyHints).toEqual([]);
  });
});

describe('servers that cannot send 1xx', () => {
  it('the fetch adapter leaves tsgi.early_hints out: sendEarlyHints answers false, the answer is unchanged', async () => {
    let environ: Environ | undefined;
    const results: boolean[] = [];
    const app = Request.application((req) => {
      environ = req.environ;
      results.push(req.sendEarlyHints(STYLE));
      return new Response('page');
    });
    const res = await toFetchHandler(app)(new globalThis.Request('http://example.com/'));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('page');
    expect(results).toEqual([false]);
    expect(environ).not.toHaveProperty('tsgi.early_hints');
  });

  it('Request.blank has none either, yet still checks what it is given', () => {
    const req = Request.blank('/');
    expect(req.sendEarlyHints(STYLE)).toBe(false);
    expect(() => req.sendEarlyHints(`${STYLE}\r\nX: y`)).toThrow(TypeError);
  });
});

describe('the upstream proxy', () => {
  const upstreams: http.Server[] = [];
  afterEach(async () => {
    for (const server of upstreams.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  /** An upstream that sends `hints` as 103s (Node's writeEarlyHints), then its page. */
  async function upstream(hints: Array<Record<string, string | string[]>>): Promise<string> {
    const server = http.createServer((_req, res) => {
      for (const hint of hints) res.writeEarlyHints(hint);
      setTimeout(() => res.end('upstream page'), 5);
    });
    upstreams.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("passes the upstream's 103 Early Hints on to the client, one link per field", async () => {
    const url = await upstream([{ link: [STYLE, SCRIPT] }, { link: '</font.woff2>; rel=preload; as=font; crossorigin', 'x-other': 'dropped' }]);
    const app = proxy(url);
    try {
      const server = await start(app);
      const received = await get(server.port);
      expect(received.informational.map((i) => i.status)).toEqual([103, 103]);
      expect(received.informational.map((i) => i.link)).toEqual([`${STYLE}, ${SCRIPT}`, '</font.woff2>; rel=preload; as=font; crossorigin']);
      expect(received.informational[1]!.headers['x-other']).toBeUndefined();
      expect(received.status).toBe(200);
      expect(received.body).toBe('upstream page');
    } finally {
      await app.close();
    }
  });

  it("has rewriteLocation map the 103's links to the public URL, as it maps the answer's Link", async () => {
    const url = await upstream([{ link: ['</style.css>; rel=preload; as=style', '<http://old.example.com/app.js>; rel=preload; as=script', '<https://cdn.example/x.js>; rel=preload; as=script'] }]);
    const app = proxy(url);
    try {
      const server = await start(mount({ '/legacy': rewriteLocation(app, { upstream: [url, 'http://old.example.com'] }) }));
      const received = await get(server.port, '/legacy/page', { headers: { Host: 'www.example.com' } });
      expect(received.informational.map((i) => i.link)).toEqual([
        '</legacy/style.css>; rel=preload; as=style, <http://www.example.com/legacy/app.js>; rel=preload; as=script, <https://cdn.example/x.js>; rel=preload; as=script',
      ]);
      expect(received.body).toBe('upstream page');
    } finally {
      await app.close();
    }
  });

  it('drops the links responseHeaders removes', async () => {
    const url = await upstream([{ link: STYLE }]);
    const removing = proxy(url, { responseHeaders: { remove: ['link'] } });
    try {
      const server = await start(removing);
      const received = await get(server.port);
      expect(received.informational).toEqual([]);
      expect(received.body).toBe('upstream page');
    } finally {
      await removing.close();
    }
  });

  /**
   * What a client of `proxy` receives when the upstream, a raw socket, writes `informational`
   * (its 103s) and then, 5 ms later, a `200` whose body is `ok`.
   */
  async function throughProxy(informational: string): Promise<Received> {
    const raw = net.createServer((socket) => {
      socket.once('data', () => {
        socket.write(informational);
        setTimeout(() => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'), 5);
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const app = proxy(`http://127.0.0.1:${(raw.address() as AddressInfo).port}`);
    try {
      const server = await start(app);
      return await get(server.port);
    } finally {
      await app.close();
      await new Promise((resolve) => raw.close(resolve));
    }
  }

  it('splits a Link field of several links, and drops a link the server could not send', async () => {
    const received = await throughProxy('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload; as=style, </b.js>; rel=preload; title="a b", <c>; rel=x\r\n\r\n');
    expect(received.informational.map((i) => i.link)).toEqual(['</a.css>; rel=preload; as=style, <c>; rel=x']);
    expect(received.body).toBe('ok');
  });

  it("passes on only the first 8 of an upstream's 103s: a flood of them cannot fill the server's memory", async () => {
    const flood = Array.from({ length: 50 }, (_, i) => `HTTP/1.1 103 Early Hints\r\nLink: </${i}.css>; rel=preload; as=style\r\n\r\n`).join('');
    const received = await throughProxy(flood);
    expect(received.informational.map((i) => i.link)).toEqual(Array.from({ length: 8 }, (_, i) => `</${i}.css>; rel=preload; as=style`));
    expect(received.body).toBe('ok');
  });

  it('records the forwarded hints in the test client', async () => {
    const url = await upstream([{ link: STYLE }]);
    const app = proxy(url);
    try {
      const res = await new TestClient(app).get('/');
      expect(res.earlyHints).toEqual([[['Link', STYLE]]]);
      expect(await res.text()).toBe('upstream page');
    } finally {
      await app.close();
    }
  });
});
