/**
 * Requests without a body (no `Content-Length`, no `Transfer-Encoding`) under `serve()`, which
 * asks Node to skip their request stream's events (`optimizeEmptyRequests`: the stream is ended,
 * destroyed and closed before the app runs, and never emits `end` or `close`). Every scenario
 * runs against a server with the option (the default) and one without it
 * (`server: { optimizeEmptyRequests: false }`), over real sockets, and must see the same:
 * body reads, `tsgi.signal` when the client hangs up (a slow GET, a streamed answer), the
 * access log's 499, pipelined and keep-alive GETs, HTTP/1.0, `Expect: 100-continue` without a
 * length, an `Upgrade` with and without an upgrade handler, `maxConcurrentRequests`, HTTPS,
 * and HTTP/1.1 on `http2: true` and `'h2c'` servers.
 */
import https from 'node:https';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import type { ServeOptions } from 'tsgi/node';
import { accessLog } from 'tsgi/middleware';
import { deferred, parseRaw, rawExchange, start, within } from './node-helpers.ts';
import { type TestCertificate, makeCertificate } from './tls-helpers.ts';

const MODES = [
  ['with optimizeEmptyRequests (the default)', {}],
  ['without it', { server: { optimizeEmptyRequests: false } }],
] as const satisfies readonly (readonly [string, ServeOptions])[];

/** An app reading the body every way and answering what it got, as JSON. */
const reader = Request.application(async (req) => {
  const text = await req.text();
  const bytes = await req.bytes();
  let chunks = 0;
  for await (const _chunk of req.stream()) chunks++;
  const form = await req.form();
  return Response.json({ method: req.method, text, bytes: bytes.byteLength, chunks, form: [...form.keys()], length: req.contentLength });
});

const bodyOf = (raw: string) => parseRaw(raw).rest;

/** Opens a raw connection, writes `head` and keeps it open; errors ignored. */
function open(port: number, head: string): net.Socket {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(head);
  return socket;
}

let certificate: TestCertificate;
beforeAll(async () => {
  certificate = await makeCertificate();
});
afterAll(() => certificate.remove());

describe.each(MODES)('a request without a body, %s', (_name, mode) => {
  it('reads as empty: text, bytes, stream, form (GET, DELETE, HTTP/1.0, Expect: 100-continue)', async () => {
    const server = await start(reader, mode);
    const expected = (method: string) => ({ method, text: '', bytes: 0, chunks: 0, form: [], length: null });
    const get = await rawExchange(server.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(JSON.parse(bodyOf(get.raw))).toEqual(expected('GET'));
    const del = await rawExchange(server.port, 'DELETE / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(JSON.parse(bodyOf(del.raw))).toEqual(expected('DELETE'));
    const old = await rawExchange(server.port, 'GET / HTTP/1.0\r\n\r\n');
    expect(parseRaw(old.raw).status).toBe(200);
    expect(JSON.parse(bodyOf(old.raw))).toEqual(expected('GET'));
    const expect100 = await rawExchange(server.port, 'POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
    // Node answers the expectation before the app runs, with or without the option.
    expect(expect100.raw).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    expect(JSON.parse(bodyOf(expect100.raw.slice('HTTP/1.1 100 Continue\r\n\r\n'.length)))).toEqual(expected('POST'));
    expect(server.log.text).toBe('');
  });

  it('answers pipelined GETs in order, and keeps the connection for the next', async () => {
    const server = await start(Request.application((req) => req.pathInfo), mode);
    const socket = open(server.port, 'GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n');
    let raw = '';
    socket.on('data', (chunk: Buffer) => (raw += chunk.toString('latin1')));
    expect(await within(() => raw.includes('/b'), 2000)).toBe(true);
    socket.write('GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    expect(raw.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(3);
    expect([raw.indexOf('\r\n\r\n/a'), raw.indexOf('\r\n\r\n/b'), raw.indexOf('\r\n\r\n/c')].every((i, n, all) => i > 0 && (n === 0 || i > all[n - 1]!))).toBe(true);
  });

  it('aborts tsgi.signal and logs 499 when the client hangs up on a slow GET', async () => {
    const entered = deferred();
    const aborted = deferred<string>();
    const lines: { status: number }[] = [];
    const app: App = async (environ, startResponse) => {
      const signal = environ['tsgi.signal'] as AbortSignal;
      entered.resolve();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          aborted.resolve(String((signal.reason as Error | undefined)?.name));
          resolve();
        });
      });
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode('late')];
    };
    const server = await start(accessLog(app, { format: 'json', log: { write: (line: string) => void lines.push(JSON.parse(line) as { status: number }) } }), mode);
    const socket = open(server.port, 'GET /slow HTTP/1.1\r\nHost: a\r\n\r\n');
    await entered.promise;
    socket.destroy();
    expect(await Promise.race([aborted.promise, new Promise((resolve) => setTimeout(() => resolve('not aborted'), 2000))])).not.toBe('not aborted');
    expect(await within(() => lines.length > 0, 2000)).toBe(true);
    expect(lines.map((line) => line.status)).toEqual([499]);
  });

  it('aborts tsgi.signal and closes a streamed answer when the client hangs up in its middle', async () => {
    const finished = deferred<boolean>();
    const app = Request.application((req) => {
      const signal = req.environ['tsgi.signal'] as AbortSignal;
      async function* ticks() {
        try {
          for (let i = 0; i < 500; i++) {
            yield new TextEncoder().encode(`tick ${i}\n`);
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        } finally {
          // The server closes the body once the client is gone; the signal says why.
          await within(() => signal.aborted, 1000);
          finished.resolve(signal.aborted);
        }
      }
      return new Response(ticks(), { contentType: 'text/plain' });
    });
    const server = await start(app, mode);
    const socket = open(server.port, 'GET /stream HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise((resolve) => socket.once('data', resolve));
    socket.destroy();
    expect(await Promise.race([finished.promise, new Promise((resolve) => setTimeout(() => resolve('still streaming'), 3000))])).toBe(true);
  });

  it('counts a GET in maxConcurrentRequests until it is answered, then frees its place', async () => {
    const release = deferred();
    const entered = deferred();
    const app = Request.application(async (req) => {
      if (req.pathInfo === '/hold') {
        entered.resolve();
        await release.promise;
      }
      return 'ok';
    });
    const server = await start(app, { ...mode, maxConcurrentRequests: 1 });
    for (let i = 0; i < 3; i++) {
      const res = await rawExchange(server.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      expect(parseRaw(res.raw).status).toBe(200);
    }
    const held = rawExchange(server.port, 'GET /hold HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    await entered.promise;
    const refused = await rawExchange(server.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(parseRaw(refused.raw).status).toBe(503);
    release.resolve();
    expect(parseRaw((await held).raw).status).toBe(200);
    const after = await rawExchange(server.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(parseRaw(after.raw).status).toBe(200);
  });

  it('frees the maxConcurrentRequests place of a GET whose client hung up, once its app stops on tsgi.signal', async () => {
    const entered = deferred();
    const app: App = async (environ, startResponse) => {
      if (environ.PATH_INFO === '/hold') {
        entered.resolve();
        const signal = environ['tsgi.signal'] as AbortSignal;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000);
          signal.addEventListener('abort', () => (clearTimeout(timer), resolve()));
        });
      }
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode('ok')];
    };
    const server = await start(app, { ...mode, maxConcurrentRequests: 1 });
    const socket = open(server.port, 'GET /hold HTTP/1.1\r\nHost: a\r\n\r\n');
    await entered.promise;
    socket.destroy();
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      status = parseRaw((await rawExchange(server.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')).raw).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe(200);
  });

  it('hands an Upgrade request to the app without an upgrade handler, and to the handler with one', async () => {
    const upgrade = 'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
    const plain = await start(reader, mode);
    const res = await rawExchange(plain.port, upgrade.replace('Connection: Upgrade', 'Connection: Upgrade, close'));
    // Without a handler the app answers it, and the connection closes after (no upgrade).
    expect(parseRaw(res.raw).status).toBe(200);
    expect(JSON.parse(bodyOf(res.raw)).bytes).toBe(0);
    const handled = await start(reader, {
      ...mode,
      upgrade: (_req, socket) => {
        socket.end('HTTP/1.1 418 Teapot\r\nConnection: close\r\n\r\n');
      },
    });
    const upgraded = await rawExchange(handled.port, upgrade);
    expect(upgraded.raw).toContain('418 Teapot');
  });

  it('reads as empty over HTTPS, and over HTTP/1.1 to http2: true and h2c servers', async () => {
    const tls = { cert: certificate.cert, key: certificate.key };
    const expected = { method: 'GET', text: '', bytes: 0, chunks: 0, form: [], length: null };
    for (const options of [{ tls }, { tls, http2: true as const }]) {
      const server = await start(reader, { ...mode, ...options });
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port: server.port, path: '/', rejectUnauthorized: false, agent: false }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      expect(JSON.parse(body)).toEqual(expected);
    }
    const h2c = await start(reader, { ...mode, http2: 'h2c' });
    const res = await rawExchange(h2c.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(JSON.parse(bodyOf(res.raw))).toEqual(expected);
  });
});
