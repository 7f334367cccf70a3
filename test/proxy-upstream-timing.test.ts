/**
 * proxy() records the upstream's timing in `tsgi.upstream_timing` (nginx's
 * `$upstream_header_time` and `$upstream_response_time`), and accessLog's `json` format and format
 * functions show it. Over real sockets: a slow node:http upstream on 127.0.0.1, serve() in front.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { type AccessLogEntry, accessLog } from 'tsgi/middleware';
import { type ProxyApp, proxy, upstreamTimingKey } from 'tsgi/proxy';
import { request, start } from './node-helpers.ts';

const HEAD_DELAY = 150;
const BODY_DELAY = 150;

let upstream: http.Server;
let origin = '';
const proxies: ProxyApp[] = [];
/** Called when the next request reaches the upstream. */
let arrived: (() => void) | undefined;

beforeAll(async () => {
  // The head after HEAD_DELAY ms, a first chunk, the end BODY_DELAY ms later.
  upstream = http.createServer((req, res) => {
    arrived?.();
    // A 304 with the Content-Length of the 200 it stands for (RFC 9110 §8.6 allows it).
    if (req.url === '/304') return void res.writeHead(304, { ETag: '"v1"', 'Content-Length': '100' }).end();
    // Never answered: the client leaves first, however late its close is read.
    if (req.url === '/hang') return;
    setTimeout(() => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('first ');
      setTimeout(() => res.end('last'), BODY_DELAY);
    }, HEAD_DELAY);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

function logged(app: Parameters<typeof accessLog>[0], format: 'json' | ((entry: AccessLogEntry) => string) = 'json') {
  const lines: string[] = [];
  return { app: accessLog(app, { format, log: { write: (line: string) => void lines.push(line) } }), lines };
}

function upstreamApp(url = origin): ProxyApp {
  const app = proxy(url);
  proxies.push(app);
  return app;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('upstream timing', () => {
  it('logs the time to the head and to the end of the answer in the json format', async () => {
    const { app, lines } = logged(upstreamApp());
    const server = await start(app);
    const res = await request(`${server.url}/slow`);
    expect(res.body.toString()).toBe('first last');
    await expect.poll(() => lines.length).toBe(1);
    const line = JSON.parse(lines[0]!);
    expect(line.upstream_header_ms).toBeGreaterThanOrEqual(HEAD_DELAY - 5);
    expect(line.upstream_response_ms).toBeGreaterThanOrEqual(HEAD_DELAY + BODY_DELAY - 10);
    expect(line.upstream_response_ms).toBeGreaterThan(line.upstream_header_ms);
    expect(line.upstream_response_ms).toBeLessThanOrEqual(line.duration_ms);
    // Milliseconds to the microsecond, as duration_ms.
    expect(Math.round(line.upstream_response_ms * 1000)).toBe(line.upstream_response_ms * 1000);
  });

  it('gives a format function the times, and the environ the key', async () => {
    let seen: unknown;
    const { app, lines } = logged(upstreamApp(), (e) => {
      seen = upstreamTimingKey.get(e.environ);
      const s = (ms: number | null) => (ms === null ? '-' : (ms / 1000).toFixed(3));
      return `${e.status} ${s(e.upstreamHeaderTime)} ${s(e.upstreamResponseTime)}`;
    });
    const server = await start(app);
    await request(`${server.url}/slow`);
    await expect.poll(() => lines.length).toBe(1);
    // nginx's $upstream_header_time $upstream_response_time: seconds, to the millisecond.
    const [, header, response] = /^200 (\d+\.\d{3}) (\d+\.\d{3})\n$/.exec(lines[0]!)!;
    expect(Number(header)).toBeGreaterThanOrEqual((HEAD_DELAY - 5) / 1000);
    expect(Number(response)).toBeGreaterThanOrEqual((HEAD_DELAY + BODY_DELAY - 10) / 1000);
    expect(seen).toEqual({ header: expect.any(Number), response: expect.any(Number) });
  });

  it('logs no head time, and the time to the failure, for an upstream that refuses', async () => {
    const { app, lines } = logged(upstreamApp(`http://127.0.0.1:${await closedPort()}`));
    const server = await start(app);
    const res = await request(`${server.url}/x`);
    expect(res.status).toBe(502);
    await expect.poll(() => lines.length).toBe(1);
    const line = JSON.parse(lines[0]!);
    expect(line.upstream_header_ms).toBeNull();
    expect(line.upstream_response_ms).toEqual(expect.any(Number));
  });

  it('logs the time to the abort for a client that leaves before the head (499), as nginx logs $upstream_response_time', async () => {
    const { app, lines } = logged(upstreamApp());
    const server = await start(app);
    const upstreamHasIt = new Promise<void>((resolve) => (arrived = resolve));
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.on('error', () => undefined);
    // The client leaves once the request is upstream, before any head.
    await upstreamHasIt;
    arrived = undefined;
    socket.destroy();
    await expect.poll(() => lines.length).toBe(1);
    const line = JSON.parse(lines[0]!);
    expect(line.status).toBe(499);
    // A proxied request: both keys, the head never came, the exchange ended at the abort.
    expect(line.upstream_header_ms).toBeNull();
    expect(line.upstream_response_ms).toEqual(expect.any(Number));
    expect(line.upstream_response_ms).toBeLessThanOrEqual(line.duration_ms);
  });

  it('logs the time to the head as the end of a 304, whose Content-Length announces no body', async () => {
    const { app, lines } = logged(upstreamApp());
    const server = await start(app);
    const res = await request(`${server.url}/304`, { headers: { 'if-none-match': '"v1"' } });
    expect(res.status).toBe(304);
    await expect.poll(() => lines.length).toBe(1);
    const line = JSON.parse(lines[0]!);
    expect(line.upstream_header_ms).toEqual(expect.any(Number));
    // nginx: a 304 has no body (length 0), its exchange is over with its head.
    expect(line.upstream_response_ms).toBe(line.upstream_header_ms);
  });

  it("knows the head's time when responseHeaders runs: a Server-Timing field", async () => {
    const app = proxy(origin, {
      responseHeaders: (headers, environ) => {
        const header = upstreamTimingKey.get(environ)?.header;
        if (typeof header === 'number') headers.set('server-timing', `upstream;dur=${header.toFixed(1)}`);
      },
    });
    proxies.push(app);
    const server = await start(app);
    const res = await request(`${server.url}/slow`);
    const [, dur] = /^upstream;dur=(\d+\.\d)$/.exec(String(res.headers['server-timing']))!;
    expect(Number(dur)).toBeGreaterThanOrEqual(HEAD_DELAY - 5);
  });

  it('leaves the keys out of the line of a request no proxy answered', async () => {
    const { app, lines } = logged(Request.application(() => new Response('here')));
    const server = await start(app);
    await request(`${server.url}/`);
    await expect.poll(() => lines.length).toBe(1);
    const line = JSON.parse(lines[0]!);
    expect('upstream_header_ms' in line).toBe(false);
    expect('upstream_response_ms' in line).toBe(false);
  });
});
