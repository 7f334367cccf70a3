/**
 * proxy()'s default pool opens at most 256 connections to its upstream (`connections`): more
 * requests at once wait for a free one, and the wait counts in `headersTimeout`. Counted on a
 * real node:http upstream's `connection` events, through serve() on 127.0.0.1.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyApp, type ProxyOptions, proxy } from 'tsgi/proxy';
import { request, sleep, start } from './node-helpers.ts';

let upstream: http.Server;
let origin = '';
let connections = 0;
/** How long the upstream holds each answer, ms (`/fast` none, `/stream` streams for 2 s). */
const SLOW = 300;
/** The burst of the first test: its answers are held until all of it is in, or for 3 s. */
const BURST = 300;
/** The held answers of `/gate`, or null once they were let go. */
let gated: http.ServerResponse[] | null = [];

function openGate(): void {
  for (const res of gated ?? []) res.end('ok');
  gated = null;
}
const proxies: ProxyApp[] = [];

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    if (req.url === '/gate') {
      if (gated === null) return void res.end('ok');
      if (gated.push(res) === 1) setTimeout(openGate, 3000);
      if (gated.length === BURST) openGate();
      return;
    }
    if (req.url === '/fast') return void res.end('ok');
    if (req.url === '/stream') {
      // A streamed answer that holds its connection for 2 s, its head and first chunk at once.
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('streaming ');
      return void setTimeout(() => res.end('done'), 2000);
    }
    setTimeout(() => res.end('ok'), SLOW);
  });
  upstream.maxConnections = 10_000;
  upstream.on('connection', () => connections++);
  await new Promise<void>((resolve) => upstream.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, resolve));
  origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

async function gateway(options?: ProxyOptions) {
  const app = proxy(origin, options);
  proxies.push(app);
  return start(app);
}

/** `count` requests at once through `url`: their statuses. */
function burst(url: string, count: number): Promise<number[]> {
  return Promise.all(Array.from({ length: count }, () => request(url).then((res) => res.status)));
}

describe('the default pool', () => {
  it('opens at most 256 connections for 300 requests at once to an upstream that holds them', async () => {
    const server = await gateway();
    connections = 0;
    const statuses = await burst(`${server.url}/gate`, BURST);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(connections).toBeGreaterThan(0);
    expect(connections).toBeLessThanOrEqual(256);
  }, 60_000);

  it('opens at most `connections`', async () => {
    const server = await gateway({ connections: 4 });
    connections = 0;
    const statuses = await burst(`${server.url}/slow`, 20);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(connections).toBeLessThanOrEqual(4);
  }, 30_000);

  it('answers 504 to a request that waits past headersTimeout for a free connection', async () => {
    const server = await gateway({ connections: 1, headersTimeout: 300 });
    // The one connection streams an answer for 2 s: a second request waits for it.
    const held = request(`${server.url}/stream`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    const waiting = await request(`${server.url}/fast`);
    expect(waiting.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(server.log.text).toMatch(/504: upstream .*no connection to the upstream was ready within headersTimeout/);
    const stream = await held;
    expect([stream.status, stream.body.toString()]).toEqual([200, 'streaming done']);
    // The connection is free again: the next request goes through.
    expect((await request(`${server.url}/fast`)).status).toBe(200);
  }, 30_000);

  it('keeps the connection a request given up while waiting (client gone, or past headersTimeout) would have taken: the next one reuses it, and its body raises no uncaught error', async () => {
    // undici reads a body once (`read(0)`) as its turn comes, before it asks to start it: that
    // read of the client's upload fails (the client gone, or the 504 sent), heard by nobody
    // once the start was refused, unless the body has its own listener.
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      for (const giveUp of ['timeout', 'client gone'] as const) {
        const server = await gateway({ connections: 1, headersTimeout: giveUp === 'timeout' ? 300 : 60_000 });
        const held = request(`${server.url}/stream`);
        await sleep(100);
        if (giveUp === 'timeout') expect((await request(`${server.url}/fast`, { method: 'POST', body: 'abc' })).status).toBe(504);
        else {
          const client = net.connect(server.port, '127.0.0.1', () => client.write('POST /fast HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc'));
          client.on('error', () => undefined);
          await sleep(200);
          client.destroy();
        }
        connections = 0;
        expect((await held).status).toBe(200);
        // The kept-alive connection of the stream takes the next request: none opened (a new one each time it was destroyed).
        expect((await request(`${server.url}/fast`)).status).toBe(200);
        expect(connections, giveUp).toBe(0);
        await sleep(50);
        expect(uncaught, giveUp).toEqual([]);
      }
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  }, 30_000);

  it('answers a request whose client leaves while it waits for a free connection at once: a graceful close() does not wait for it', async () => {
    const app = proxy(origin, { connections: 1 });
    proxies.push(app);
    // One server streams through the one connection for 2 s; the other's request waits for it.
    const streaming = await start(app);
    const gatewayServer = await start(app);
    const held = request(`${streaming.url}/stream`);
    await sleep(100);
    const client = net.connect(gatewayServer.port, '127.0.0.1', () => client.write('GET /fast HTTP/1.1\r\nHost: x\r\n\r\n'));
    client.on('error', () => undefined);
    await sleep(200);
    client.destroy();
    await sleep(100);
    // Its app settled when its client left (499), not when the connection frees: close() waited 2 s for it.
    const started = Date.now();
    await gatewayServer.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await held).status).toBe(200);
  }, 30_000);

  it('refuses a connections that is no positive whole number, or one given with dispatcher', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, '8']) {
      expect(() => proxy(origin, { connections: bad as number })).toThrow(TypeError);
    }
    expect(() => proxy(origin, { connections: 8, dispatcher: {} as never })).toThrow(/connections/);
    const unbounded = proxy(origin, { connections: Infinity });
    proxies.push(unbounded);
  });
});
