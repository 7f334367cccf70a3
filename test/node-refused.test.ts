/**
 * `serve({ onRefused })`: each request the server answers itself, without calling the app, is
 * reported once its answer is out (status, reason, request line and fields when parsed, the
 * client's address, the body's size), over a real socket; a listener that throws is logged and
 * the server goes on.
 */
import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import type { RefusedRequest } from 'tsgi/node';
import { parseRaw, rawExchange, start, until } from './node-helpers.ts';

/** An app that counts its calls. */
function counted(): { app: App; calls: string[] } {
  const calls: string[] = [];
  const app = Request.application((req) => {
    calls.push(req.pathInfo);
    return new Response('ok');
  });
  return { app, calls };
}

/** Starts a server whose refusals are collected. */
async function refusing(options: Parameters<typeof start>[1] = {}) {
  const refused: RefusedRequest[] = [];
  const { app, calls } = counted();
  const server = await start(app, { ...options, onRefused: (r) => refused.push(r) });
  return { server, refused, calls };
}

/** Sends `request`, answers the status and body, and waits for the report of it. */
async function exchange(server: { port: number }, refused: RefusedRequest[], request: string) {
  const before = refused.length;
  const res = parseRaw((await rawExchange(server.port, request)).raw);
  await until(() => refused.length > before);
  return { res, report: refused.at(-1)! };
}

describe('serve({ onRefused })', () => {
  it('reports a request Node’s parser refused: status, reason, the peer, no request line', async () => {
    const { server, refused, calls } = await refusing();
    const { res, report } = await exchange(server, refused, 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(res.status).toBe(400);
    expect(report).toMatchObject({ status: 400, reason: 'malformed request line', method: undefined, target: undefined, protocol: undefined, headers: undefined, remoteAddress: '127.0.0.1' });
    expect(report.bytes).toBe(Buffer.byteLength(res.rest));
    expect(report.time).toBeInstanceOf(Date);
    expect(calls).toEqual([]);
  });

  it('reports a head too large (431) and a bad Host (400) with the request line and fields', async () => {
    const { server, refused } = await refusing({ server: { maxHeaderSize: 1024 } });
    const big = await exchange(server, refused, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`);
    expect(big.report).toMatchObject({ status: 431, reason: 'the header section has more fields or bytes than the server accepts' });
    const host = await exchange(server, refused, 'GET /where?q=1 HTTP/1.1\r\nHost: bad host\r\nUser-Agent: probe\r\nConnection: close\r\n\r\n');
    expect(host.res.status).toBe(400);
    expect(host.report).toMatchObject({ status: 400, reason: 'invalid Host header', method: 'GET', target: '/where?q=1', protocol: 'HTTP/1.1', remoteAddress: '127.0.0.1' });
    expect(host.report.headers).toMatchObject({ 'user-agent': 'probe', host: 'bad host' });
    expect(host.report.bytes).toBe(Buffer.byteLength(host.res.rest));
  });

  it('reports 413 past maxBodySize, 417 for an unknown expectation, 501 for CONNECT, 404 outside scriptName', async () => {
    const { server, refused, calls } = await refusing({ maxBodySize: 10, scriptName: '/app' });
    const cases: Array<[string, number, string]> = [
      ['POST /app/x HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nConnection: close\r\n\r\n01234567890', 413, 'maxBodySize exceeded: the request body is larger than 10 bytes'],
      ['GET /app/x HTTP/1.1\r\nHost: x\r\nExpect: magic\r\nConnection: close\r\n\r\n', 417, 'the only expectation this server meets is 100-continue'],
      ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 501, 'CONNECT is not supported: this server is no proxy'],
      ['GET /elsewhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404, expect.any(String) as unknown as string],
    ];
    for (const [request, status, reason] of cases) {
      const { res, report } = await exchange(server, refused, request);
      expect(res.status, request).toBe(status);
      expect(report, request).toMatchObject({ status, reason, method: request.split(' ')[0] });
    }
    expect(calls).toEqual([]);
  });

  it('reports 503 past maxConcurrentRequests; requests the app answers are not reported', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const refused: RefusedRequest[] = [];
    // The second request once the first holds the only place (not 100 ms after asking for it).
    let holdingPlace!: () => void;
    const placeHeld = new Promise<void>((resolve) => (holdingPlace = resolve));
    const app = Request.application(async (req) => {
      if (req.pathInfo === '/hold') {
        holdingPlace();
        await held;
      }
      return new Response('ok');
    });
    const server = await start(app, { maxConcurrentRequests: 1, onRefused: (r) => refused.push(r) });
    const holding = fetch(`${server.url}/hold`);
    await placeHeld;
    const busy = await fetch(`${server.url}/other`);
    expect(busy.status).toBe(503);
    await busy.text();
    await until(() => refused.length === 1);
    expect(refused[0]).toMatchObject({ status: 503, reason: 'too many requests in flight', method: 'GET', target: '/other' });
    release();
    expect((await holding).status).toBe(200);
    expect((await fetch(`${server.url}/fine`)).status).toBe(200);
    expect(refused).toHaveLength(1);
  });

  it('reports over HTTP/2 with the protocol HTTP/2.0', async () => {
    const { server, refused } = await refusing({ http2: 'h2c', maxBodySize: 4 });
    const session = http2.connect(server.url);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/x', 'content-length': '10' });
        stream.on('response', (headers) => resolve(Number(headers[':status'])));
        stream.on('error', reject);
        stream.end('0123456789');
      });
      expect(status).toBe(413);
      await until(() => refused.length === 1);
      expect(refused[0]).toMatchObject({ status: 413, method: 'POST', target: '/x', protocol: 'HTTP/2.0', remoteAddress: '127.0.0.1' });
    } finally {
      session.close();
    }
  });

  it('logs a listener that throws, and goes on serving', async () => {
    const { app } = counted();
    const server = await start(app, {
      onRefused: () => {
        throw new Error('listener broke');
      },
    });
    const first = parseRaw((await rawExchange(server.port, 'GET /a b HTTP/1.1\r\n\r\n')).raw);
    expect(first.status).toBe(400);
    await until(() => server.log.text.includes('listener broke'));
    expect(server.log.text).toMatch(/onRefused threw/);
    expect((await fetch(`${server.url}/`)).status).toBe(200);
  });

  it('logs a listener whose promise rejects (an async one), with no unhandled rejection', async () => {
    const { app } = counted();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const server = await start(app, {
        onRefused: async () => {
          await Promise.resolve();
          throw new Error('async listener broke');
        },
      });
      const first = parseRaw((await rawExchange(server.port, 'GET /a b HTTP/1.1\r\n\r\n')).raw);
      expect(first.status).toBe(400);
      await until(() => server.log.text.includes('async listener broke'));
      expect(server.log.text).toMatch(/onRefused threw/);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      expect((await fetch(`${server.url}/`)).status).toBe(200);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('refuses an onRefused that is not a function, at once', async () => {
    const { app } = counted();
    await expect(start(app, { onRefused: 'log' as never })).rejects.toThrow(new TypeError('onRefused must be a function'));
  });
});
