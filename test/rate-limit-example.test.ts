/**
 * examples/rate-limit.ts, a middleware written as a package of its own would be: the burst
 * then 429 with Retry-After, the refill on an injected clock, buckets per client address (the
 * test client's `environ`, then `proxyFix` over a real socket), options checked at once, a
 * request without an address refused, the typed key the app below reads, and one rule of a
 * `RouteMap` limited (docs/routing.md).
 */
import { describe, expect, it } from 'vitest';
import { Request, Response, compose, serve } from 'tsgi';
import { proxyFix, requestId } from 'tsgi/middleware';
import { RouteMap, routeArgsKey } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';
import { toFetchHandler } from 'tsgi/fetch';
import { app, rateLimit, remainingKey } from '../examples/rate-limit.ts';
import { gc } from './gc.ts';

const left = Request.application((req) => new Response(`${remainingKey.get(req)} left`));

describe('examples/rate-limit.ts', () => {
  it('answers its capacity, then 429 with Retry-After', async () => {
    const client = new TestClient(app);
    expect((await client.get('/')).textBody).toBe('2 left\n');
    await client.get('/');
    expect((await client.get('/')).textBody).toBe('0 left\n');
    const refused = await client.get('/', { status: 429, headers: { accept: 'application/json' } });
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ code: 429, message: 'Too many requests.' });
  });

  it('refills at refillPerSecond, on the clock it is given', async () => {
    let now = 0;
    const client = new TestClient(rateLimit(left, { capacity: 2, refillPerSecond: 0.5, now: () => now }));
    await client.get('/');
    await client.get('/');
    expect((await client.get('/', { status: 429 })).headers.get('retry-after')).toBe('2');
    now = 1000;
    expect((await client.get('/', { status: 429 })).headers.get('retry-after')).toBe('1');
    now = 2000;
    expect((await client.get('/')).textBody).toBe('0 left');
  });

  it('keeps a bucket per client address, and one per rateLimit() call', async () => {
    const limited = rateLimit(left, { capacity: 1 });
    const client = new TestClient(limited);
    await client.get('/', { environ: { REMOTE_ADDR: '203.0.113.1' } });
    await client.get('/', { environ: { REMOTE_ADDR: '203.0.113.2' } });
    await client.get('/', { environ: { REMOTE_ADDR: '203.0.113.1' }, status: 429 });
    await new TestClient(rateLimit(left, { capacity: 1 })).get('/', { environ: { REMOTE_ADDR: '203.0.113.1' } });
  });

  it('limits one rule of a RouteMap, made once and answered from its handler', async () => {
    const routes = new RouteMap({ home: '/', login: { path: '/login/<name>', methods: ['POST'] } });
    const login = rateLimit(Request.application((req) => new Response(`hello ${String(routeArgsKey.get(req)?.values.name)}`)), { capacity: 1 });
    const client = new TestClient(routes.app({ home: () => 'home', login: () => login }));
    expect((await client.post('/login/ada')).textBody).toBe('hello ada');
    await client.post('/login/ada', { status: 429 });
    await client.get('/');
    await client.get('/');
  });

  it('forgets a client once its bucket is full again, so a stream of new addresses holds no memory', async () => {
    // A bucket full again is the one a new client gets: dropping it changes no answer. Kept for
    // ever, one per address ever seen (an IPv6 /64 holds 2^64), they grew without bound.
    let now = 0;
    let client = 0;
    const limited = rateLimit(left, { capacity: 2, refillPerSecond: 1, now: () => now, key: () => `2001:db8::${(client++).toString(16)}` });
    const run = async (count: number) => {
      for (let i = 0; i < count; i++, now += 5000) await limited(Request.blank('/').environ, () => () => {});
    };
    await run(1000);
    gc();
    const before = process.memoryUsage().heapUsed;
    await run(100_000);
    gc();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(4 * 1024 * 1024);
  });

  it('checks its options at once', () => {
    expect(() => rateLimit(left, { capacity: 0 })).toThrow(RangeError);
    expect(() => rateLimit(left, { refillPerSecond: 0 })).toThrow('refillPerSecond must be above 0');
  });

  it('refuses a request without a client address (a fetch handler given no runtime argument)', async () => {
    const res = await toFetchHandler(rateLimit(left))(new globalThis.Request('http://localhost/'));
    expect(res.status).toBe(429);
    expect(await res.text()).toContain('No client address to count against.');
  });

  it('counts the forwarded client behind proxyFix over a socket, under requestId', async () => {
    const stack = compose(requestId, (inner) => proxyFix(inner, { xFor: 1, trust: 'loopback' }), (inner) => rateLimit(inner, { capacity: 1 }));
    const server = await serve(stack(left), { host: '127.0.0.1', port: 0 });
    try {
      const from = (address: string) => fetch(server.url, { headers: { 'x-forwarded-for': address } });
      expect((await from('198.51.100.7')).status).toBe(200);
      expect((await from('198.51.100.8')).status).toBe(200);
      const refused = await from('198.51.100.7');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.headers.get('x-request-id')).toBeTruthy();
    } finally {
      await server.close();
    }
  });

  it('counts an IPv6 client by its /56, so a client cannot pick a new address of its own prefix for each guess', async () => {
    // An ISP gives each customer a /64 or a /56, and any address in it is theirs to send from:
    // keyed on the whole address, a login limit was no limit (express-rate-limit's ipv6Subnet).
    const stack = compose((inner) => proxyFix(inner, { xFor: 1, trust: 'loopback' }), (inner) => rateLimit(inner, { capacity: 1, refillPerSecond: 0.001 }));
    const server = await serve(stack(left), { host: '127.0.0.1', port: 0 });
    try {
      const from = (address: string) => fetch(server.url, { headers: { 'x-forwarded-for': address } });
      expect((await from('2001:db8:1:2::1')).status).toBe(200);
      expect((await from('2001:db8:1:2::2')).status).toBe(429);
      expect((await from('2001:DB8:1:FF:0:0:0:7')).status).toBe(429); // the same /56, written otherwise
      expect((await from('2001:db8:1:100::1')).status).toBe(200); // the next /56
      // IPv4 clients (mapped, as a dual-stack socket reports them) stay one bucket per address.
      expect((await from('::ffff:198.51.100.7')).status).toBe(200);
      expect((await from('::ffff:198.51.100.8')).status).toBe(200);
      expect((await from('198.51.100.7')).status).toBe(429);
    } finally {
      await server.close();
    }
  });

  it('takes ipv6Subnet: 128 for a bucket per address, and checks it at once', async () => {
    const client = new TestClient(rateLimit(left, { capacity: 1, ipv6Subnet: 128 }));
    await client.get('/', { environ: { REMOTE_ADDR: '2001:db8::1' } });
    await client.get('/', { environ: { REMOTE_ADDR: '2001:db8::2' } });
    await client.get('/', { environ: { REMOTE_ADDR: '2001:db8:0::1' }, status: 429 });
    expect(() => rateLimit(left, { ipv6Subnet: 0 })).toThrow(RangeError);
    expect(() => rateLimit(left, { ipv6Subnet: 56.5 })).toThrow('ipv6Subnet must be a whole number from 1 to 128');
  });
});
