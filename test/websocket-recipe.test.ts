/**
 * docs/server.md's WebSocket recipe as a security review reads it, over real sockets: the
 * handshake of a page on another origin refused (Cross-Site WebSocket Hijacking: the browser
 * sends the user's cookies with it, and no CORS applies), the login read from the app's signed
 * session (forged, logged-out: 403 on the raw socket before any 101), and a heartbeat that
 * cuts a peer gone without a close, which `ws` alone would keep open for ever.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { HTTPForbidden, HTTPNotFound, HTTPUpgradeRequired, Request, Response, type ServeOptions, type ServerHandle, serve } from 'tsgi';
import { AuthTickets, CookieSessions, sessionOf } from 'tsgi/middleware';
import { heartbeat } from './websocket-helpers.ts';

const sessions = new CookieSessions({ secret: 's'.repeat(32), secure: false });
const app = sessions.middleware(
  Request.application((req) => {
    const session = sessionOf(req);
    if (req.pathInfo === '/login') session.set('user', 'ann');
    if (req.pathInfo === '/logout') session.clear();
    return new Response('ok');
  }),
);
const ORIGINS = new Set(['http://app.test']);
/** docs/server.md's `WebSocketServer`: the subprotocol it speaks chosen, never the client's first offer. */
const server = () => new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, handleProtocols: (offered) => (offered.has('chat.v1') ? 'chat.v1' : false) });

/** The user logged in, from the app's signed session (docs/server.md), or `undefined`. */
const fromSession = (request: Request): unknown => sessions.load(request)?.data.get('user');

/** docs/server.md's handler, its heartbeat every `interval` ms (30 s there), the login read by `login`. */
function chat(wss: WebSocketServer, interval: number, login = fromSession): NonNullable<ServeOptions['upgrade']> {
  return (req, socket, head, { shutdown, environ }) => {
    const request = new Request(environ);
    if (request.pathInfo !== '/chat') throw new HTTPNotFound();
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') throw new HTTPUpgradeRequired(undefined, { upgrade: 'websocket' });
    if (!ORIGINS.has(request.headers.get('Origin') ?? '')) throw new HTTPForbidden('Not from this origin.');
    const user = login(request);
    if (typeof user !== 'string') throw new HTTPForbidden('Log in first.');
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      heartbeat(ws, interval);
      const goAway = () => ws.close(1001, 'server shutting down');
      shutdown.addEventListener('abort', goAway, { once: true });
      ws.on('close', () => shutdown.removeEventListener('abort', goAway));
      ws.on('message', (data) => ws.send(`${user}: ${String(data)}`));
    });
  };
}

/** docs/server.md's handler with an `AuthTickets` login, which closes the WebSocket when the ticket expires. */
function ticketChat(wss: WebSocketServer, tickets: AuthTickets): NonNullable<ServeOptions['upgrade']> {
  return (req, socket, head, { environ }) => {
    const request = new Request(environ);
    if (!ORIGINS.has(request.headers.get('Origin') ?? '')) throw new HTTPForbidden('Not from this origin.');
    const ticket = tickets.read(request);
    if (ticket === null) throw new HTTPForbidden('Log in first.');
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      const expiry = setTimeout(() => ws.close(1008, 'login expired'), Math.min(ticket.expires * 1000 - Date.now(), 2 ** 31 - 1));
      ws.on('close', () => clearTimeout(expiry));
      ws.on('message', (data) => ws.send(`${ticket.user}: ${String(data)}`));
    });
  };
}

let handle: ServerHandle | undefined;
afterEach(async () => {
  await handle?.close({ timeout: 0 });
  handle = undefined;
});

const HANDSHAKE = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

/** Sends a handshake to /chat with `fields` on a raw connection; resolves with what came back once closed, or after `wait` ms. */
function handshake(fields: string, wait = 2_000): Promise<{ got: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(handle!.port, '127.0.0.1', () => socket.write(`GET /chat HTTP/1.1\r\nHost: app.test\r\n${HANDSHAKE}${fields}\r\n`));
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (got += chunk));
    const timer = setTimeout(() => (socket.destroy(), resolve({ got, closed: false })), wait);
    socket.on('close', () => (clearTimeout(timer), resolve({ got, closed: true })));
    socket.on('error', reject);
  });
}

/** The session cookie of a login (`/login`) or of a logout after it (`/logout`). */
async function cookieOf(path: string, cookie?: string): Promise<string> {
  const answer = await fetch(`${handle!.url}${path}`, cookie ? { headers: { Cookie: cookie } } : {});
  return answer.headers.get('set-cookie')!.split(';')[0]!;
}

/** Opens a WebSocket to `path` from the app's origin with the session `cookie`, sends `hi`, answers the reply. */
async function chatOnce(path: string, cookie: string): Promise<string> {
  const ws = new WebSocket(`${handle!.url.replace('http', 'ws')}${path}`, { headers: { Origin: 'http://app.test', Cookie: cookie } });
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  ws.send('hi');
  const [message] = await new Promise<unknown[]>((resolve) => ws.once('message', (...args) => resolve(args)));
  ws.terminate();
  return String(message);
}

describe("docs/server.md's WebSocket recipe", () => {
  it("serves its path under serve()'s scriptName (a proxy's prefix): the recipe compares pathInfo, not path", async () => {
    handle = await serve(app, { port: 0, scriptName: '/app', upgrade: chat(server(), 30_000) });
    const login = await cookieOf('/app/login');
    expect(await chatOnce('/app/chat', login)).toBe('ann: hi');
  });

  it('refuses, with 403 before any 101, a handshake from another origin or without a valid login in the signed session', async () => {
    handle = await serve(app, { port: 0, upgrade: chat(server(), 30_000) });
    const login = await cookieOf('/login');
    const logout = await cookieOf('/logout', login);
    for (const fields of [
      `Origin: http://evil.test\r\nCookie: ${login}\r\n`, // a page on another site: the browser sends the user's cookie
      `Origin: null\r\nCookie: ${login}\r\n`, // a sandboxed frame, a file: page
      `Cookie: ${login}\r\n`, // no Origin: no browser page
      'Origin: http://app.test\r\nCookie: user=ann\r\n', // a plain cookie is no login
      `Origin: http://app.test\r\nCookie: ${login.slice(0, -2)}xx\r\n`, // forged
      `Origin: http://app.test\r\nCookie: ${logout}\r\n`, // logged out
    ]) {
      const { got, closed } = await handshake(fields);
      expect([got.split('\r\n')[0], closed]).toEqual(['HTTP/1.1 403 Forbidden', true]);
    }
    expect(await chatOnce('/chat', login)).toBe('ann: hi');
  });

  it('cuts a peer that answers no ping within two heartbeats, and keeps one that does', async () => {
    handle = await serve(app, { port: 0, upgrade: chat(server(), 100) });
    const login = await cookieOf('/login');
    const live = new WebSocket(`${handle.url.replace('http', 'ws')}/chat`, { headers: { Origin: 'http://app.test', Cookie: login } });
    let liveClosed = false;
    live.on('close', () => (liveClosed = true));
    await new Promise((resolve, reject) => (live.once('open', resolve), live.once('error', reject)));
    // A raw connection takes the 101 and then stays silent: no pong, no close, as a vanished peer.
    const { got, closed } = await handshake(`Origin: http://app.test\r\nCookie: ${login}\r\n`, 1_500);
    expect(got.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect(closed).toBe(true);
    expect(liveClosed).toBe(false);
    live.terminate();
  });

  it('answers the subprotocol the server speaks, and none for a client offering only others (ws echoes the first offered by default)', async () => {
    handle = await serve(app, { port: 0, upgrade: chat(server(), 30_000) });
    const login = await cookieOf('/login');
    const both = await handshake(`Origin: http://app.test\r\nCookie: ${login}\r\nSec-WebSocket-Protocol: evil, chat.v1\r\n`, 300);
    expect(both.got).toMatch(/^HTTP\/1\.1 101 [^]*\r\nSec-WebSocket-Protocol: chat\.v1\r\n/);
    const other = await handshake(`Origin: http://app.test\r\nCookie: ${login}\r\nSec-WebSocket-Protocol: evil\r\n`, 300);
    expect(other.got).toMatch(/^HTTP\/1\.1 101 /);
    expect(other.got.split('\r\n\r\n')[0]).not.toMatch(/Sec-WebSocket-Protocol/i);
    // A client that asked for protocols and got none fails the connection (RFC 6455 §4.1).
    const ws = new WebSocket(`${handle.url.replace('http', 'ws')}/chat`, ['evil'], { headers: { Origin: 'http://app.test', Cookie: login } });
    await expect(new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))).rejects.toThrow(/subprotocol/);
  });

  it('closes with 1008 a WebSocket whose AuthTickets ticket expires, and refuses the expired ticket with 403 (docs/server.md)', async () => {
    const tickets = new AuthTickets({ secret: 't'.repeat(32), secure: false });
    handle = await serve(app, { port: 0, upgrade: ticketChat(server(), tickets) });
    const cookie = `${tickets.cookieName}=${tickets.sign('bo', { maxAge: 1 }).value}`;
    const ws = new WebSocket(`${handle.url.replace('http', 'ws')}/chat`, { headers: { Origin: 'http://app.test', Cookie: cookie } });
    ws.on('error', () => {});
    const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, String(reason)])));
    await new Promise((resolve) => ws.once('open', resolve));
    const started = Date.now();
    // Issued in whole seconds: expired within two.
    expect(await closed).toEqual([1008, 'login expired']);
    expect(Date.now() - started).toBeLessThan(2_500);
    const expired = await handshake(`Origin: http://app.test\r\nCookie: ${cookie}\r\n`);
    expect([expired.got.split('\r\n')[0], expired.closed]).toEqual(['HTTP/1.1 403 Forbidden', true]);
  });

  it("says to read the session with sessions.load when a handler asks sessionOf, which only the app's requests have", async () => {
    const logged: string[] = [];
    handle = await serve(app, {
      port: 0,
      log: { write: (line: string) => void logged.push(line) },
      upgrade: chat(server(), 30_000, (request) => sessionOf(request).get('user')),
    });
    const { got } = await handshake(`Origin: http://app.test\r\nCookie: ${await cookieOf('/login')}\r\n`);
    expect(got.split('\r\n')[0]).toBe('HTTP/1.1 500 Internal Server Error');
    expect(logged.join('')).toMatch(/sessions\.load\(/);
  });

  it('survives a message over maxPayload and a malformed frame: the client gets 1009 or 1002, the process goes on', async () => {
    handle = await serve(app, { port: 0, upgrade: chat(server(), 30_000) });
    const login = await cookieOf('/login');
    const ws = new WebSocket(`${handle.url.replace('http', 'ws')}/chat`, { headers: { Origin: 'http://app.test', Cookie: login } });
    ws.on('error', () => {});
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(64 * 1024 + 1));
    expect(await closed).toBe(1009);
    // A frame with RSV2 set (no extension allows it) on a raw connection, after its 101.
    const socket = net.connect(handle.port, '127.0.0.1', () =>
      socket.write(`GET /chat HTTP/1.1\r\nHost: app.test\r\n${HANDSHAKE}Origin: http://app.test\r\nCookie: ${login}\r\n\r\n`),
    );
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('data', resolve));
    socket.write(Buffer.from([0xa1, 0x80, 0, 0, 0, 0]));
    const [frame] = await new Promise<Buffer[]>((resolve) => socket.once('data', (...args) => resolve(args)));
    // A close frame (0x88) with code 1002, "protocol error".
    expect([frame![0], frame!.readUInt16BE(2)]).toEqual([0x88, 1002]);
    socket.destroy();
    const again = new WebSocket(`${handle.url.replace('http', 'ws')}/chat`, { headers: { Origin: 'http://app.test', Cookie: login } });
    await new Promise((resolve, reject) => (again.once('open', resolve), again.once('error', reject)));
    again.terminate();
  });
});
