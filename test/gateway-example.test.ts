/**
 * examples/gateway.ts, an API gateway in front of three services (docs/proxy.md, "An API
 * gateway"), over real sockets on 127.0.0.1: the JWT check (signature, alg, exp) and the
 * user id passed on instead of the token, prefixes stripped and redirects and cookie paths
 * mapped back, a rate limit per caller, CORS preflights answered at the gateway, the request
 * id and trace context passed on, and WebSockets tunnelled to the service under the prefix
 * (the token checked, refusals passed back, a service down answered 502, the tunnel ended by
 * the server's close, an idle timeout, a cap on open tunnels, Connection-named fields dropped;
 * aud and iss checked when configured).
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { type ServerHandle, serve } from 'tsgi';
import { TestClient } from 'tsgi/testing';
import { type Gateway, app as exampleApp, createGateway, hmacKey, signJwt, websocketTunnel } from '../examples/gateway.ts';

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** A service that echoes what it got as JSON, redirects at /redirect, refuses WebSockets at /ws/forbidden and echoes them elsewhere. */
async function service(name: string, seen: Seen[]): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers });
    if (req.url === '/redirect') {
      res.writeHead(302, { location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/landing`, 'set-cookie': 'sid=1; Path=/; HttpOnly' });
      res.end();
      return;
    }
    // A service with a CORS policy of its own, which the gateway's must replace.
    res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
    res.end(JSON.stringify({ name, url: req.url, user: req.headers['x-user-id'] ?? null }));
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    seen.push({ url: req.url!, headers: req.headers });
    if (req.url === '/ws/slow') {
      setTimeout(() => wss.handleUpgrade(req, socket, head, () => undefined), 300);
      return;
    }
    if (req.url === '/ws/forbidden') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nNot here\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data) => ws.send(`${name} ${String(req.headers['x-user-id'])}: ${String(data)}`)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

// 32 bytes: HS256 wants a key as long as its hash (RFC 7518 §3.2).
const SECRET = 'a test secret of thirty-two bytes';
const seen: Seen[] = [];
let services: http.Server[];
let gateway: Gateway;
let handle: ServerHandle;
let token: string;
const url = (server: http.Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

beforeAll(async () => {
  services = [await service('users', seen), await service('orders', seen)];
  // A port nothing listens on: the third service is down.
  const down = http.createServer();
  await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
  const downUrl = url(down);
  await new Promise((resolve) => down.close(resolve));
  gateway = await createGateway({
    services: { '/users': url(services[0]!), '/orders': url(services[1]!), '/files': downUrl },
    secret: SECRET,
    origins: ['https://app.example'],
    burst: 3,
    maxBodySize: { '/orders': 10 },
  });
  handle = await serve(gateway.app, { port: 0, host: '127.0.0.1', upgrade: gateway.upgrade });
  token = await signJwt({ sub: 42, exp: Math.floor(Date.now() / 1000) + 600 }, await hmacKey(SECRET));
});

afterEach(() => {
  seen.length = 0;
});

afterAll(async () => {
  await handle.close({ timeout: 0 });
  await gateway.close();
  for (const server of services) server.close();
});

/** A token for a caller of its own, so the rate limit per caller does not interfere. */
const fresh = async () => signJwt({ sub: crypto.randomUUID(), exp: Math.floor(Date.now() / 1000) + 600 }, await hmacKey(SECRET));

/** A GET through the gateway with a fresh caller's token (or the headers' own). */
const get = async (path: string, headers: Record<string, string> = {}) =>
  fetch(`${handle.url}${path}`, { headers: { authorization: `Bearer ${await fresh()}`, ...headers }, redirect: 'manual' });

/** Opens a WebSocket to `path` through the gateway, resolving once open or rejecting with the status of the refusal. */
function open(path: string, headers: Record<string, string> = { authorization: `Bearer ${token}` }): Promise<WebSocket> {
  const ws = new WebSocket(`${handle.url.replace('http', 'ws')}${path}`, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += String(chunk)));
      res.on('end', () => reject(new Error(`${res.statusCode} ${body.trim()}`)));
    });
    ws.once('error', reject);
  });
}

const reply = (ws: WebSocket) => new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));

describe('examples/gateway.ts', () => {
  it('forwards under the prefix with the user id, never the token or a forged id; keeps the request id and traceparent', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const res = await get('/users/a%2Fb?q=1', { authorization: `Bearer ${token}`, 'x-user-id': '1', 'x-request-id': 'req-1', traceparent });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 'users', url: '/a%2Fb?q=1', user: '42' });
    const { headers } = seen[0]!;
    expect(headers.authorization).toBeUndefined();
    expect(headers['x-request-id']).toBe('req-1');
    expect(headers.traceparent).toBe(traceparent);
    expect(headers['x-forwarded-prefix']).toBe('/users');
    expect(res.headers.get('x-request-id')).toBe('req-1');
  });

  it('refuses a key shorter than HS256 needs, and starts without JWT_SECRET on a random key no token matches', async () => {
    await expect(createGateway({ services: {}, secret: 'change me' })).rejects.toThrow(TypeError);
    await expect(hmacKey(new Uint8Array(31))).rejects.toThrow(/32 bytes/);
    // docs/proxy.md's `secret: process.env.JWT_SECRET!` with the variable unset.
    await expect(hmacKey(undefined as never)).rejects.toThrow(/32 bytes/);
    // The module's own gateway (no JWT_SECRET here): a token signed with the old default is refused.
    const oldDefault = await crypto.subtle.importKey('raw', new TextEncoder().encode('change me'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const guessed = await signJwt({ sub: 1, exp: Math.floor(Date.now() / 1000) + 60 }, oldDefault);
    await new TestClient(exampleApp).get('/users/x', { headers: { authorization: `Bearer ${guessed}` }, status: 401 });
  });

  it('refuses a missing, forged, alg-swapped or expired token with 401 before any service is asked', async () => {
    const key = await hmacKey(SECRET);
    const now = Math.floor(Date.now() / 1000);
    const expired = await signJwt({ sub: 42, exp: now - 120 }, key);
    const [header, payload] = token.split('.');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    const forged = `${header}.${Buffer.from('{"sub":1}').toString('base64url')}.${token.split('.')[2]}`;
    const other = await signJwt({ sub: 42, exp: now + 600 }, await hmacKey('another secret, also thirty-two bytes'));
    // Signed with the key as it is, under a header naming something else: the header's alg is checked, not only the signature.
    const signedAs = async (head: object, claims: object) => {
      const unsigned = `${Buffer.from(JSON.stringify(head)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
      const signature = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(unsigned));
      return `${unsigned}.${Buffer.from(signature).toString('base64url')}`;
    };
    const swapped = await signedAs({ alg: 'HS512', typ: 'JWT' }, { sub: 42, exp: now + 600 });
    // An extension the gateway does not implement, marked critical (RFC 7515 §4.1.11).
    const critical = await signedAs({ alg: 'HS256', crit: ['b64'], b64: false }, { sub: 42, exp: now + 600 });
    // No exp: a token that never expires; an exp or nbf that is no NumericDate (RFC 7519 §2).
    const eternal = await signJwt({ sub: 42 }, key);
    const textExp = await signJwt({ sub: 42, exp: String(now - 3600) }, key);
    const textNbf = await signJwt({ sub: 42, exp: now + 600, nbf: String(now + 3600) }, key);
    for (const bad of [undefined, expired, none, forged, other, swapped, critical, eternal, textExp, textNbf]) {
      const auth: Record<string, string> = bad === undefined ? {} : { authorization: `Bearer ${bad}` };
      const res = await fetch(`${handle.url}/users/x`, { headers: auth });
      expect(res.status, String(bad)).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="api"/);
    }
    expect(seen).toEqual([]);
  });

  it('allows 30 s of clock skew between the issuer and the gateway for exp and nbf, no more', async () => {
    const key = await hmacKey(SECRET);
    const now = Math.floor(Date.now() / 1000);
    const status = async (claims: object) => (await get('/users/x', { authorization: `Bearer ${await signJwt({ sub: crypto.randomUUID(), ...claims }, key)}` })).status;
    expect(await status({ exp: now - 10 })).toBe(200);
    expect(await status({ exp: now + 600, nbf: now + 10 })).toBe(200);
    expect(await status({ exp: now - 40 })).toBe(401);
    expect(await status({ exp: now + 600, nbf: now + 40 })).toBe(401);
  });

  it('checks aud and iss when the gateway names an audience and issuer (RFC 7519 §4.1.1, §4.1.3): a token for another is 401', async () => {
    const own = await createGateway({ services: { '/users': url(services[0]!) }, secret: SECRET, audience: 'api.example', issuer: 'https://id.example' });
    const server = await serve(own.app, { port: 0, host: '127.0.0.1' });
    try {
      const key = await hmacKey(SECRET);
      const exp = Math.floor(Date.now() / 1000) + 600;
      const status = async (claims: object) =>
        (await fetch(`${server.url}/users/x`, { headers: { authorization: `Bearer ${await signJwt({ sub: crypto.randomUUID(), exp, ...claims }, key)}` } })).status;
      expect(await status({ aud: 'api.example', iss: 'https://id.example' })).toBe(200);
      expect(await status({ aud: ['other.example', 'api.example'], iss: 'https://id.example' })).toBe(200);
      expect(await status({ aud: 'other.example', iss: 'https://id.example' })).toBe(401);
      expect(await status({ aud: ['other.example'], iss: 'https://id.example' })).toBe(401);
      expect(await status({ iss: 'https://id.example' })).toBe(401);
      expect(await status({ aud: 'api.example', iss: 'https://other.example' })).toBe(401);
      expect(await status({ aud: 'api.example' })).toBe(401);
      // A gateway that names neither takes a token with any aud and iss, as before.
      expect((await get('/users/x', { authorization: `Bearer ${await signJwt({ sub: crypto.randomUUID(), exp, aud: 'x', iss: 'y' }, key)}` })).status).toBe(200);
    } finally {
      await server.close({ timeout: 0 });
      await own.close();
    }
  });

  it('maps the service’s redirect and cookie path under the prefix', async () => {
    const res = await get('/orders/redirect');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${handle.url}/orders/landing`);
    expect(res.headers.get('set-cookie')).toBe('sid=1; Path=/orders; HttpOnly');
  });

  it('limits each caller on its own, whatever X-Api-Key says: 429 with Retry-After past the burst', async () => {
    const [a, b] = [await fresh(), await fresh()];
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await get('/users/x', { authorization: `Bearer ${a}`, 'x-api-key': crypto.randomUUID() })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await get('/users/x', { authorization: `Bearer ${a}` });
    expect(refused.headers.get('retry-after')).toBe('1');
    expect((await get('/users/x', { authorization: `Bearer ${b}` })).status).toBe(200);
  });

  it('answers CORS preflights itself: no token needed, nothing forwarded', async () => {
    const res = await fetch(`${handle.url}/orders/1`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(seen).toEqual([]);
  });

  it('answers with its own CORS policy, not the service’s', async () => {
    const allowed = await get('/users/x', { origin: 'https://app.example' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await get('/users/x', { origin: 'https://evil.example' });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('limits request bodies per prefix: 413 before forwarding a declared length, and once a chunked body passes the limit', async () => {
    const post = async (path: string, body: string | ReadableStream<Uint8Array>) =>
      fetch(`${handle.url}${path}`, { method: 'POST', body, duplex: 'half', headers: { authorization: `Bearer ${await fresh()}` } } as RequestInit);
    expect((await post('/orders/x', 'a'.repeat(11))).status).toBe(413);
    expect(seen).toEqual([]);
    const chunked = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('a'.repeat(11)));
        controller.close();
      },
    });
    expect((await post('/orders/x', chunked)).status).toBe(413);
    expect((await post('/orders/x', 'a'.repeat(10))).status).toBe(200);
    expect((await post('/users/x', 'a'.repeat(11))).status).toBe(200);
  });

  it('answers 502 for a service that is down, saying so', async () => {
    const res = await get('/files/report.csv', { accept: 'text/plain' });
    expect(res.status).toBe(502);
    expect(await res.text()).toContain('refused the connection');
  });

  it('tunnels a WebSocket to the service under the prefix, with the user id and without the token', async () => {
    const ws = await open('/orders/ws/feed?since=1');
    const answer = reply(ws);
    ws.send('hello');
    expect(await answer).toBe('orders 42: hello');
    const { url: path, headers } = seen[0]!;
    expect(path).toBe('/ws/feed?since=1');
    expect(headers.authorization).toBeUndefined();
    expect(headers['x-forwarded-prefix']).toBe('/orders');
    expect(headers['x-request-id']).toMatch(/^[\w-]+$/);
    ws.close();
  });

  it('gives a WebSocket handshake the request id requestId would: the client’s when well formed, else a new one', async () => {
    const idOf = async (id: string) => {
      seen.length = 0;
      const ws = await open('/users/ws', { authorization: `Bearer ${token}`, 'x-request-id': id });
      ws.close();
      return seen[0]!.headers['x-request-id'];
    };
    expect(await idOf('req-2')).toBe('req-2');
    expect(await idOf('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1')).toBe('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1');
    for (const forged of ['a" level="admin', 'a b', 'x'.repeat(201)]) expect(await idOf(forged)).toMatch(/^[\da-f]{8}-[\da-f]{4}-/);
  });

  it('passes on no claim of the client’s about itself: no X-Forwarded-* but its own, Forwarded, Via, Front-End-Https, X-Url-Scheme, True-Client-IP…', async () => {
    const claims = { 'x-forwarded-port': '1', 'x-forwarded-ssl': 'on', 'front-end-https': 'on', 'x-url-scheme': 'https', forwarded: 'for=10.0.0.1', 'true-client-ip': '10.0.0.1', 'cf-connecting-ip': '10.0.0.1', 'x-client-ip': '10.0.0.1', via: '1.1 trusted' };
    const ws = await open('/users/ws', { authorization: `Bearer ${token}`, ...claims });
    ws.close();
    const { headers } = seen[0]!;
    for (const name of Object.keys(claims)) expect(headers[name], name).toBeUndefined();
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('drops the fields the client’s Connection names, as proxy() does (RFC 9110 §7.6.1), and keeps Upgrade and Connection: upgrade', async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(new URL(handle.url).port), '127.0.0.1', () =>
        socket.write(
          `GET /users/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, X-Hop-Secret, Cookie\r\nUpgrade: websocket\r\n` +
            `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Hop-Secret: 1\r\nCookie: sid=1\r\nX-Kept: 2\r\nAuthorization: Bearer ${token}\r\n\r\n`,
        ),
      );
      let text = '';
      socket.on('data', (chunk) => {
        text += String(chunk);
        if (text.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(text);
        }
      });
    });
    expect(answer).toMatch(/^HTTP\/1\.1 101 /);
    const { headers } = seen[0]!;
    expect(headers['x-hop-secret']).toBeUndefined();
    expect(headers.cookie).toBeUndefined();
    expect(headers['x-kept']).toBe('2');
    expect(headers.connection).toBe('Upgrade');
    expect(headers.upgrade).toBe('websocket');
  });

  it('routes a WebSocket to the service of the longest prefix, as mount routes a request', async () => {
    const nested = await createGateway({ services: { '/users': url(services[0]!), '/users/orders': url(services[1]!) }, secret: SECRET });
    const own = await serve(nested.app, { port: 0, host: '127.0.0.1', upgrade: nested.upgrade });
    try {
      const res = await fetch(`${own.url}/users/orders/x`, { headers: { authorization: `Bearer ${await fresh()}` } });
      expect(((await res.json()) as { name: string }).name).toBe('orders');
      const ws = new WebSocket(`${own.url.replace('http', 'ws')}/users/orders/ws`, { headers: { authorization: `Bearer ${token}` } });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const answer = reply(ws);
      ws.send('hi');
      expect(await answer).toBe('orders 42: hi');
      ws.close();
    } finally {
      await own.close({ timeout: 0 });
      await nested.close();
    }
  });

  it('reads the WebSocket’s token as bearerAuth reads a request’s: the scheme in any case (RFC 9110 §11.1)', async () => {
    const ws = await open('/users/ws', { authorization: `bearer ${token}` });
    const answer = reply(ws);
    ws.send('hi');
    expect(await answer).toBe('users 42: hi');
    ws.close();
    expect((await get('/users/x', { authorization: `bearer ${token}` })).status).toBe(200);
  });

  it('refuses a WebSocket without a valid token (401), passes a service’s refusal back, and answers 502 for a service that is down', async () => {
    await expect(open('/orders/ws/feed', {})).rejects.toThrow(/^401 /);
    await expect(open('/orders/ws/forbidden')).rejects.toThrow('403 Not here');
    await expect(open('/files/ws')).rejects.toThrow(/^502 .*could not be reached/s);
    await expect(open('/nowhere/ws')).rejects.toThrow(/^404 /);
    expect(seen.map((s) => s.url)).toEqual(['/ws/forbidden']);
    // A client that sends dot segments as they are (ws and browsers resolve them first).
    const dotted = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(new URL(handle.url).port), '127.0.0.1', () =>
        socket.write(`GET /users/../orders/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nAuthorization: Bearer ${token}\r\n\r\n`),
      );
      let text = '';
      socket.on('data', (chunk) => (text += String(chunk)));
      socket.on('close', () => resolve(text));
    });
    expect(dotted).toMatch(/^HTTP\/1\.1 400 /);
    expect(seen.map((s) => s.url)).toEqual(['/ws/forbidden']);
  });

  /** A WebSocket service that answers nothing, refuses /refuse with 403, and tells when its side of a connection closes. */
  async function quietService() {
    const server = http.createServer();
    const wss = new WebSocketServer({ noServer: true });
    const sockets: WebSocket[] = [];
    server.on('upgrade', (req, socket, head) => {
      if (req.url === '/refuse') return void socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      wss.handleUpgrade(req, socket, head, (ws) => sockets.push(ws));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, sockets };
  }

  /** A gateway of its own in front of `target`, with `websocket` options, served on a port of its own. */
  async function ownGateway(target: http.Server, websocket: { idleTimeout?: number; maxTunnels?: number }) {
    const own = await createGateway({ services: { '/q': url(target) }, secret: SECRET, websocket });
    const server = await serve(own.app, { port: 0, host: '127.0.0.1', upgrade: own.upgrade });
    const connect = (path: string, headers: Record<string, string> = { authorization: `Bearer ${token}` }) => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}${path}`, { headers });
      return new Promise<WebSocket>((resolve, reject) => {
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_req, res) => reject(new Error(String(res.statusCode))));
        ws.once('error', reject);
      });
    };
    return { url: server.url, connect, close: async () => (await server.close({ timeout: 0 }), await own.close(), target.close()) };
  }

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const closeOf = (ws: WebSocket) => new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once('close', () => resolve())));

  it('ends a tunnel idle both ways for idleTimeout (nginx’s proxy_read_timeout): traffic either way keeps it open', async () => {
    const { server, sockets } = await quietService();
    // 300 ms, with a message every 40 ms: a loaded machine stalling one of those waits past a
    // 150 ms timeout closed the tunnel while the traffic was still meant to keep it open.
    const own = await ownGateway(server, { idleTimeout: 300 });
    try {
      const ws = await own.connect('/q/ws');
      let closedAt = 0;
      const closed = closeOf(ws).then(() => (closedAt = Date.now()));
      // Client to service only, then service to client only: each alone keeps the tunnel open.
      let lastSent = 0;
      for (let i = 0; i < 8; i++) (ws.send('tick'), await sleep(40));
      for (let i = 0; i < 8; i++) (sockets[0]!.send('tock'), (lastSent = Date.now()), await sleep(40));
      expect(closedAt).toBe(0);
      await closed;
      // Idle from the last byte through (not from the end of the wait after it, which a loaded
      // machine stretches): no sooner than the timeout after it, and not much later.
      expect(closedAt - lastSent).toBeGreaterThanOrEqual(290);
      expect(closedAt - lastSent).toBeLessThan(1300);
      await closeOf(sockets[0]!);
    } finally {
      await own.close();
    }
  });

  it('a tunnel reset at either end, mid-traffic, is only over: no uncaught error, and the next tunnel opens', async () => {
    const { server, sockets } = await quietService();
    const own = await ownGateway(server, {});
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      // The client's end: its TCP connection reset while the service sends.
      const client = await own.connect('/q/ws');
      client.on('error', () => undefined);
      for (let i = 0; i < 100 && sockets.length < 1; i++) await sleep(10);
      expect(sockets).toHaveLength(1);
      sockets[0]!.send('x'.repeat(100_000));
      (client as unknown as { _socket: net.Socket })._socket.resetAndDestroy();
      await closeOf(sockets[0]!);
      // The service's end: reset while the client sends.
      const other = await own.connect('/q/ws');
      other.on('error', () => undefined);
      for (let i = 0; i < 100 && sockets.length < 2; i++) await sleep(10);
      expect(sockets).toHaveLength(2);
      other.send('y'.repeat(100_000));
      (sockets[1]! as unknown as { _socket: net.Socket })._socket.resetAndDestroy();
      await closeOf(other);
      await sleep(100);
      const next = await own.connect('/q/ws');
      next.close();
    } finally {
      process.off('uncaughtException', onUncaught);
      await own.close();
    }
    expect(uncaught).toEqual([]);
  });

  it('answers 503 on the raw socket past maxTunnels open, counting neither refusals nor ended tunnels', async () => {
    const { server } = await quietService();
    const own = await ownGateway(server, { maxTunnels: 1 });
    try {
      await expect(own.connect('/q/ws', {})).rejects.toThrow('401');
      await expect(own.connect('/q/refuse')).rejects.toThrow('403');
      const first = await own.connect('/q/ws');
      await expect(own.connect('/q/ws')).rejects.toThrow('503');
      first.close();
      await closeOf(first);
      let again: WebSocket | undefined;
      for (let i = 0; i < 50 && again === undefined; i++) again = await own.connect('/q/ws').catch(async () => void (await sleep(20)));
      expect(again).toBeDefined();
      again!.close();
    } finally {
      await own.close();
    }
  });

  it('gives a refusal cut short back its place under maxTunnels: the service gone mid-answer is 502, the client gone mid-answer frees it too', async () => {
    const { server, sockets } = await quietService();
    // /cut: a refusal whose body stops half way, the service then gone; /stall: one whose body never ends.
    // The client leaves once the service is half way through its refusal, and the next tunnel is
    // tried until the place is back: fixed 150 ms and 50 ms sleeps could, on a loaded machine,
    // leave before the handshake got there, or try before the gateway had seen the client go.
    let stalling!: () => void;
    const halfAnswered = new Promise<void>((resolve) => (stalling = resolve));
    const [accept] = server.listeners('upgrade') as [(...args: unknown[]) => void];
    server.removeAllListeners('upgrade');
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      if (req.url === '/cut') socket.write('HTTP/1.1 403 Forbidden\r\nContent-Length: 100\r\n\r\nhalf', () => setTimeout(() => socket.destroy(), 20));
      else if (req.url === '/stall') socket.write('HTTP/1.1 403 Forbidden\r\nContent-Length: 100\r\n\r\nhalf', stalling);
      else accept(req, socket, head);
    });
    const own = await ownGateway(server, { maxTunnels: 1 });
    try {
      await expect(own.connect('/q/cut')).rejects.toThrow('502');
      const stalled = net.connect(Number(new URL(own.url).port), '127.0.0.1');
      stalled.write(`GET /q/stall HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      await halfAnswered;
      stalled.resetAndDestroy();
      let ws: WebSocket | undefined;
      for (let i = 0; i < 100 && ws === undefined; i++) ws = await own.connect('/q/ws').catch(async () => void (await sleep(20)));
      expect(ws).toBeDefined();
      ws!.close();
      expect(sockets).toHaveLength(1);
    } finally {
      await own.close();
    }
  });

  it('ends at once a tunnel whose client left before the service’s 101 came, and gives its place under maxTunnels back', async () => {
    const { server, sockets } = await quietService();
    // A slow token check: the client leaves while it runs, before the handler watches its socket.
    // It runs 150 ms from when it begins; the client leaves once it has (not 50 ms after its
    // handshake was written, which a loaded machine could spend before the gateway had it).
    let checking!: () => void;
    const checkBegun = new Promise<void>((resolve) => (checking = resolve));
    const slow = async () => (checking(), await sleep(150), { id: '42' });
    const upgrade = websocketTunnel({ '/q': url(server) }, slow, { maxTunnels: 1 });
    const own = await serve(() => [], { port: 0, host: '127.0.0.1', upgrade });
    try {
      const gone = net.connect(Number(new URL(own.url).port), '127.0.0.1');
      gone.write('GET /q/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer x\r\n\r\n');
      await checkBegun;
      gone.resetAndDestroy();
      // The service accepted it; its side is ended with the tunnel, not held.
      for (let i = 0; i < 50 && sockets.length === 0; i++) await sleep(20);
      expect(sockets).toHaveLength(1);
      await closeOf(sockets[0]!);
      const ws = new WebSocket(`${own.url.replace('http', 'ws')}/q/ws`, { headers: { authorization: 'Bearer x' } });
      const status = await new Promise<number>((resolve, reject) => {
        ws.once('upgrade', (res) => resolve(res.statusCode!));
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode!));
        ws.once('error', reject);
      });
      expect(status).toBe(101);
      ws.close();
    } finally {
      await own.close({ timeout: 0 });
      server.close();
    }
  });

  it('throws a TypeError at once for an idleTimeout setTimeout cannot wait (it would end every tunnel in 1 ms) or a maxTunnels that is no positive count', async () => {
    const verify = async () => ({ id: '42' });
    const services = { '/q': 'http://127.0.0.1:9' };
    for (const idleTimeout of [2 ** 31, -1, Number.NaN, Infinity]) expect(() => websocketTunnel(services, verify, { idleTimeout })).toThrow(TypeError);
    for (const maxTunnels of [0, -1, 1.5, Number.NaN]) expect(() => websocketTunnel(services, verify, { maxTunnels })).toThrow(TypeError);
    expect(() => websocketTunnel(services, verify, { idleTimeout: 0, maxTunnels: 1 })).not.toThrow();
    expect(() => websocketTunnel(services, verify, { idleTimeout: 2 ** 31 - 1 })).not.toThrow();
  });

  it('ends the tunnel when the server closes, and close() does not wait for its timeout', async () => {
    const own = await serve(gateway.app, { port: 0, host: '127.0.0.1', upgrade: gateway.upgrade });
    const ws = new WebSocket(`${own.url.replace('http', 'ws')}/users/ws`, { headers: { authorization: `Bearer ${token}` } });
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise((resolve) => ws.once('close', resolve));
    const started = Date.now();
    await own.close({ timeout: 5000 });
    await closed;
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('answers 503 to a handshake the service completes after close() began, instead of a tunnel close() would wait for', async () => {
    const own = await serve(gateway.app, { port: 0, host: '127.0.0.1', upgrade: gateway.upgrade });
    const ws = new WebSocket(`${own.url.replace('http', 'ws')}/users/ws/slow`, { headers: { authorization: `Bearer ${token}` } });
    const refused = new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode!)));
    ws.on('error', () => undefined);
    // close() begins once the service has the handshake (it completes it 300 ms later), not
    // 100 ms after the client sent it: a loaded machine could begin it before the gateway had it.
    while (!seen.some((request) => request.url === '/ws/slow')) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    await own.close({ timeout: 5000 });
    expect(await refused).toBe(503);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
