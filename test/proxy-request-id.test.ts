/**
 * requestId() outside proxy(): one id end to end, as Envoy keeps its `x-request-id`. The
 * gateway's id goes upstream in the request, and the client's answer carries the gateway's id
 * (the one its log lines hold), not a differing one the upstream answered with. Over real
 * sockets: a node:http upstream on 127.0.0.1 and serve() in front.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessLog, requestId } from 'tsgi/middleware';
import { proxy, type ProxyApp } from 'tsgi/proxy';
import { request, start } from './node-helpers.ts';

let upstream: http.Server;
let origin = '';
/** The `X-Request-Id` of each request the upstream received. */
const received: Array<string | undefined> = [];
const proxies: ProxyApp[] = [];

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const id = req.headers['x-request-id'];
    received.push(typeof id === 'string' ? id : undefined);
    // `/own` answers an id of its own; `/echo` the one it was given; `/none` none.
    if (req.url === '/own') res.setHeader('X-Request-Id', 'upstream-own-id');
    if (req.url === '/echo' && typeof id === 'string') res.setHeader('X-Request-Id', id);
    if (req.url === '/trace') res.setHeader('X-Trace', 'upstream-trace');
    res.end('ok');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

function gateway(options: Parameters<typeof requestId>[1] = {}) {
  const lines: string[] = [];
  const upstreamApp = proxy(origin);
  proxies.push(upstreamApp);
  const app = requestId(accessLog(upstreamApp, { format: 'json', log: { write: (line: string) => void lines.push(line) } }), options);
  return { app, lines };
}

describe('requestId outside proxy', () => {
  it("forwards the gateway's id and answers it, not the upstream's own", async () => {
    const { app, lines } = gateway();
    const server = await start(app);
    received.length = 0;
    const res = await request(`${server.url}/own`);
    expect(res.status).toBe(200);
    const sent = received[0];
    expect(sent).toMatch(/^[0-9a-f-]{36}$/);
    // One field, the gateway's id: what the upstream got, and what the log line holds.
    expect(res.rawHeaders.filter((_, i) => i % 2 === 0 && res.rawHeaders[i]!.toLowerCase() === 'x-request-id')).toHaveLength(1);
    expect(res.headers['x-request-id']).toBe(sent);
    await expect.poll(() => lines.length).toBe(1);
    expect(JSON.parse(lines[0]!).request_id).toBe(sent);
  });

  it("keeps a trusted client's id end to end", async () => {
    const { app } = gateway();
    const server = await start(app);
    received.length = 0;
    const res = await request(`${server.url}/own`, { headers: { 'X-Request-Id': 'client-id-1' } });
    expect(received[0]).toBe('client-id-1');
    expect(res.headers['x-request-id']).toBe('client-id-1');
  });

  it('answers one field when the upstream echoes the id', async () => {
    const { app } = gateway();
    const server = await start(app);
    received.length = 0;
    const res = await request(`${server.url}/echo`);
    expect(res.headers['x-request-id']).toBe(received[0]);
    expect(res.rawHeaders.filter((name) => name.toLowerCase() === 'x-request-id')).toHaveLength(1);
  });

  it('uses the field requestId was told to', async () => {
    const { app } = gateway({ header: 'X-Trace' });
    const server = await start(app);
    received.length = 0;
    const res = await request(`${server.url}/trace`);
    expect(res.headers['x-trace']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['x-trace']).not.toBe('upstream-trace');
  });
});

describe('proxy without requestId', () => {
  it("passes the upstream's X-Request-Id on", async () => {
    const upstreamApp = proxy(origin);
    proxies.push(upstreamApp);
    const server = await start(upstreamApp);
    const res = await request(`${server.url}/own`);
    expect(res.headers['x-request-id']).toBe('upstream-own-id');
  });
});
