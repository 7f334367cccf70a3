/**
 * Scenario: an API gateway in front of three upstreams, built from the docs (docs/proxy.md "An
 * API gateway", docs/middleware-auth.md, examples/rate-limit.ts) as an engineer used to nginx
 * and Envoy would: path routing to a slow service, one that resets connections and one that
 * streams; a bearer token checked at the gateway, the user id forwarded as `X-User-Id` (a
 * client's own copy dropped); a rate limit per caller; the request id; `X-Forwarded-*` and
 * `Via`; hop-by-hop fields dropped both ways; redirects and cookies mapped under the prefix;
 * upstream timeouts (connect, head, body); an upload and a download streamed; `Expect:
 * 100-continue`; a HEAD on a kept-alive upstream connection. Each answer, and what each
 * upstream saw, is checked against what nginx (`proxy_pass`) or Envoy does, over real sockets
 * on 127.0.0.1. The deliberate differences are in docs/proxy.md.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, type ServerHandle, serve } from 'tsgi';
import { authUserKey, bearerAuth, mount, requestId } from 'tsgi/middleware';
import { type ProxyApp, type ProxyOptions, proxy, rewriteLocation } from 'tsgi/proxy';
import { rateLimit } from '../examples/rate-limit.ts';
import { errorLog, rawExchange } from './node-helpers.ts';

interface Seen {
  service: string;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bytes: number;
}
const seen: Seen[] = [];
const connections: Record<string, number> = { slow: 0, stream: 0 };
const listen = async (server: net.Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

/** The slow service: its head after 400 ms at /late, a stalled body at /stall, hop-by-hop fields at /hop, a redirect, a 500. */
const slow = http.createServer((req, res) => {
  seen.push({ service: 'slow', method: req.method!, url: req.url!, headers: req.headers, bytes: 0 });
  const origin = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
  switch (req.url) {
    case '/late':
      return void setTimeout(() => res.end('late'), 400);
    case '/stall':
      res.writeHead(200, { 'content-length': '10' });
      return void res.write('abcde');
    case '/hop':
      res.writeHead(200, { connection: 'x-internal', 'x-internal': 'secret', 'keep-alive': 'timeout=5', 'proxy-authenticate': 'Basic', trailer: 'x-sum', via: '1.1 inner' });
      return void res.end('hop');
    case '/redirect':
      res.writeHead(302, { location: `${origin}/landing?x=1`, 'set-cookie': ['sid=1; Domain=127.0.0.1; Path=/', 'pref=2; Path=/settings'] });
      return void res.end();
    case '/boom':
      res.writeHead(500, { 'content-type': 'text/plain' });
      return void res.end('Error at /srv/app/index.js:12');
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  res.end(req.method === 'HEAD' ? undefined : 'ok');
});
slow.on('connection', () => connections.slow!++);

/** The service that resets each connection once it has read a request. */
const resets = net.createServer((socket) => {
  seen.push({ service: 'resets', method: '', url: '', headers: {}, bytes: 0 });
  socket.on('error', () => undefined);
  socket.once('data', () => socket.resetAndDestroy());
});

const DOWNLOAD = 8 * 2 ** 20;
/** The streaming service: counts an upload at /upload, streams 8 MiB at /download. */
const stream = http.createServer((req, res) => {
  const entry: Seen = { service: 'stream', method: req.method!, url: req.url!, headers: req.headers, bytes: 0 };
  seen.push(entry);
  if (req.url === '/upload') {
    req.on('data', (chunk: Buffer) => (entry.bytes += chunk.length));
    req.on('end', () => res.end(String(entry.bytes)));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(DOWNLOAD) });
  const chunk = Buffer.alloc(64 * 1024, 120);
  let sent = 0;
  const pump = () => {
    while (sent < DOWNLOAD) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
});
stream.on('connection', () => connections.stream!++);

const TOKENS: Record<string, { id: string }> = { 'token-ada': { id: 'ada' }, 'token-bob': { id: 'bob' } };
const proxies: ProxyApp[] = [];
let handle: ServerHandle;
const log = errorLog();

beforeAll(async () => {
  const [slowUrl, resetsUrl, streamUrl] = [await listen(slow), await listen(resets), await listen(stream)];
  /** The user id from the token, never the client's; no token upstream (docs/proxy.md, "An API gateway"). */
  const options: ProxyOptions = {
    headersTimeout: 300,
    bodyTimeout: 300,
    requestHeaders: (headers, environ) => {
      headers.delete('authorization');
      headers.delete('x-user-id');
      const user = authUserKey.get(environ) as { id: string } | undefined;
      if (user) headers.set('x-user-id', user.id);
    },
  };
  const service = (url: string): App => {
    const app = proxy(url, options);
    proxies.push(app);
    return rewriteLocation(app, { upstream: url });
  };
  const routes = mount({ '/slow': service(slowUrl), '/resets': service(resetsUrl), '/stream': service(streamUrl) });
  const limited = rateLimit(routes, { capacity: 20, refillPerSecond: 0.001, key: (req) => (authUserKey.get(req.environ) as { id: string } | undefined)?.id ?? null });
  const app = requestId(bearerAuth(limited, { realm: 'api', verify: (token) => TOKENS[token] ?? null }));
  handle = await serve(app, { port: 0, host: '127.0.0.1', log });
});

afterAll(async () => {
  await handle.close({ timeout: 0 });
  await Promise.all(proxies.map((p) => p.close()));
  for (const server of [slow, resets, stream]) server.close();
});

const auth = (user = 'ada') => ({ authorization: `Bearer token-${user}` });
const last = (service: string) => seen.filter((entry) => entry.service === service).at(-1)!;

describe('scenario: an API gateway in front of three upstreams', () => {
  it('checks the token at the gateway and forwards the user id, never the token or a client-sent id', async () => {
    expect((await fetch(`${handle.url}/slow/x`)).status).toBe(401);
    const res = await fetch(`${handle.url}/slow/x?q=1`, { headers: { ...auth(), 'x-user-id': 'admin', 'x-request-id': 'trace-1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('trace-1');
    expect(res.headers.get('via')).toBe('1.1 tsgi');
    const got = last('slow');
    expect(got.url).toBe('/x?q=1');
    expect(got.headers).toMatchObject({ 'x-user-id': 'ada', 'x-request-id': 'trace-1', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-prefix': '/slow', via: '1.1 tsgi' });
    expect(got.headers.authorization).toBeUndefined();
    // No Forwarded of its own, as Envoy by default; nor a client's (its claims would be trusted).
    expect(got.headers.forwarded).toBeUndefined();
  });

  it('drops hop-by-hop fields both ways and appends to Via and X-Forwarded-For', async () => {
    const raw = await rawExchange(
      handle.port,
      'GET /slow/hop HTTP/1.1\r\nHost: gw.example\r\nAuthorization: Bearer token-ada\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nTE: trailers\r\n' +
        'Keep-Alive: timeout=5\r\nProxy-Authorization: Basic eDp5\r\nProxy-Connection: keep-alive\r\nTrailer: X-Sum\r\nUpgrade: h2c\r\nVia: 1.1 front\r\nX-Forwarded-For: 203.0.113.7\r\nForwarded: for=1.2.3.4\r\nProxy: http://attacker.example:8080\r\n\r\n',
    );
    const got = last('slow').headers;
    for (const name of ['x-hop', 'te', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'trailer', 'upgrade', 'forwarded', 'proxy']) expect(got[name], name).toBeUndefined();
    expect(got.via).toBe('1.1 front, 1.1 tsgi');
    expect(got['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(got['x-forwarded-host']).toBe('gw.example');
    const head = raw.raw.slice(0, raw.raw.indexOf('\r\n\r\n')).toLowerCase();
    expect(head).toMatch(/^http\/1\.1 200/);
    for (const name of ['x-internal', 'keep-alive', 'proxy-authenticate', 'trailer']) expect(head, name).not.toContain(`\r\n${name}:`);
    expect(head).toContain('\r\nvia: 1.1 inner, 1.1 tsgi');
  });

  it('maps the upstream redirect and cookies under the prefix, and passes its 500 as it is', async () => {
    const res = await fetch(`${handle.url}/slow/redirect`, { headers: auth(), redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${handle.url}/slow/landing?x=1`);
    // The public host is an IP address here: the Domain goes (docs/proxy.md, rewriteLocation).
    expect(res.headers.getSetCookie()).toEqual(['sid=1; Path=/slow', 'pref=2; Path=/slow/settings']);
    const boom = await fetch(`${handle.url}/slow/boom`, { headers: auth() });
    expect(boom.status).toBe(500);
    expect(await boom.text()).toBe('Error at /srv/app/index.js:12');
  });

  it('answers 504 past headersTimeout, cuts a stalled body, and 502s a reset without sending a POST again', async () => {
    const late = await fetch(`${handle.url}/slow/late`, { headers: auth() });
    expect(late.status).toBe(504);
    await late.text();
    const stalled = await rawExchange(handle.port, 'GET /slow/stall HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer token-ada\r\n\r\n');
    expect(stalled.raw).toMatch(/^HTTP\/1\.1 200/);
    expect(stalled.raw.endsWith('abcde')).toBe(true); // cut short: 5 of 10 bytes, never a clean end
    const before = seen.filter((entry) => entry.service === 'resets').length;
    const reset = await fetch(`${handle.url}/resets/x`, { method: 'POST', body: 'data', headers: auth() });
    expect(reset.status).toBe(502);
    expect(seen.filter((entry) => entry.service === 'resets').length).toBe(before + 1);
    expect(log.text).toMatch(/502 request_id=[\w-]+: upstream http:\/\/127\.0\.0\.1:\d+: connection closed or reset/);
  });

  it('streams an upload after 100 Continue and a download to a slow reader, and HEAD keeps the upstream connection', async () => {
    const size = 4 * 2 ** 20;
    const uploaded = await new Promise<{ status: number; continued: boolean; body: string }>((resolve, reject) => {
      let continued = false;
      const req = http.request(`${handle.url}/stream/upload`, { method: 'PUT', agent: false, headers: { ...auth('bob'), 'content-length': size, expect: '100-continue' } });
      req.on('continue', () => {
        continued = true;
        req.end(Buffer.alloc(size, 1));
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, continued, body }));
      });
      req.on('error', reject);
    });
    expect(uploaded).toEqual({ status: 200, continued: true, body: String(size) });
    expect(last('stream').headers.expect).toBeUndefined();

    const download = await fetch(`${handle.url}/stream/download`, { headers: auth('bob') });
    const reader = download.body!.getReader();
    let received = 0;
    await new Promise((resolve) => setTimeout(resolve, 200)); // a slow client: nothing read for a while
    for (let step = await reader.read(); !step.done; step = await reader.read()) received += step.value.length;
    expect(received).toBe(DOWNLOAD);

    const before = connections.slow!;
    for (let i = 0; i < 3; i++) {
      const head = await fetch(`${handle.url}/slow/ping`, { method: 'HEAD', headers: auth('bob') });
      expect(head.status).toBe(200);
    }
    expect(last('slow').headers.connection).toBe('keep-alive');
    expect(connections.slow! - before).toBeLessThanOrEqual(1);
  });

  it('limits each caller on its own: a token past its bucket is 429 with Retry-After, another caller passes', async () => {
    let status = 0;
    let retryAfter: string | null = null;
    for (let i = 0; i < 25 && status !== 429; i++) {
      const res = await fetch(`${handle.url}/slow/x`, { headers: auth('ada') });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      await res.text();
    }
    expect(status).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect((await fetch(`${handle.url}/slow/x`, { headers: auth('bob') })).status).toBe(200);
  });
});
