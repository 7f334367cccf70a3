/**
 * Scenario: a WebSocket chat service moved from Express + `ws` to tsgi, built from the docs
 * alone (docs/server.md's WebSockets recipe, docs/sessions.md) and driven over real sockets on
 * 127.0.0.1: the login from the app's signed session on the upgrade request (401), the
 * `Origin` check (403), `ws`'s own refusals and `maxPayload` (1009), a broadcast to every
 * member, the heartbeat dropping a peer gone without a close, a member that stops reading,
 * tsgi's `proxy` in front (501), and `close()` with WebSockets open: 1001 for each, and every
 * one told to `onUpgradeClosed` (an access log line) by the time `close()` resolves.
 */
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { HTTPForbidden, HTTPNotFound, HTTPSeeOther, HTTPUnauthorized, HTTPUpgradeRequired, Request, Response, type ServerHandle, serve } from 'tsgi';
import { CookieSessions, sessionOf } from 'tsgi/middleware';
import type { ClosedUpgrade, UpgradeContext } from 'tsgi/node';
import { proxy } from 'tsgi/proxy';
import { heartbeat } from './websocket-helpers.ts';

/** What a broadcast skips: a member with more than this many bytes waiting (it stopped reading). */
const MAX_BUFFERED = 256 * 1024;

/** The chat service: its app, its upgrade handler, its room and what `onUpgradeClosed` heard. */
function chatService(origin: () => string, pingMs: number) {
  const sessions = new CookieSessions({ secret: 's'.repeat(32), secure: false });
  const history: string[] = [];
  const app = sessions.middleware(
    Request.application(async (req) => {
      const session = sessionOf(req);
      if (req.pathInfo === '/login' && req.method === 'POST') {
        const user = (await req.form()).get('user') ?? '';
        if (!/^[a-z]{1,20}$/.test(user)) return new Response('bad user\n', { status: 400 });
        session.clear();
        session.set('user', user);
        return new HTTPSeeOther('/');
      }
      if (req.pathInfo === '/') return new Response('<!doctype html><title>chat</title>', { contentType: 'text/html' });
      if (req.pathInfo === '/history') return Response.json(history);
      throw new HTTPNotFound();
    }),
  );
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const room = new Set<WebSocket>();
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, { shutdown, environ }: UpgradeContext) => {
    const request = new Request(environ);
    if (request.pathInfo !== '/ws') throw new HTTPNotFound();
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') throw new HTTPUpgradeRequired(undefined, { upgrade: 'websocket' });
    if (request.headers.get('Origin') !== origin()) throw new HTTPForbidden('Not from this origin.');
    const user = sessions.load(request)?.data.get('user');
    if (typeof user !== 'string') throw new HTTPUnauthorized('Log in first.');
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      room.add(ws);
      heartbeat(ws, pingMs);
      const goAway = () => (ws.close(1001, 'server shutting down'), setTimeout(() => ws.terminate(), 2_000).unref());
      shutdown.addEventListener('abort', goAway, { once: true });
      ws.on('close', () => (room.delete(ws), shutdown.removeEventListener('abort', goAway)));
      ws.on('message', (data) => {
        const line = `${user}: ${String(data)}`;
        history.push(line);
        for (const peer of room) if (peer.bufferedAmount < MAX_BUFFERED) peer.send(line);
      });
    });
  };
  return { app, upgrade, room, history };
}

const handles: ServerHandle[] = [];
afterEach(async () => {
  for (const handle of handles.splice(0)) await handle.close({ timeout: 0 });
});

/** Serves the chat service; answers it with its URL and the cookie of a logged-in `bob`. */
async function started(pingMs = 30_000) {
  let url = '';
  const told: ClosedUpgrade[] = [];
  const service = chatService(() => url, pingMs);
  const server = await serve(service.app, { host: '127.0.0.1', port: 0, upgrade: service.upgrade, onUpgradeClosed: (closed) => void told.push(closed), log: { write() {} } });
  handles.push(server);
  url = server.url;
  const login = await fetch(`${url}/login`, { method: 'POST', body: new URLSearchParams({ user: 'bob' }), redirect: 'manual' });
  expect(login.status).toBe(303);
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  return { ...service, server, url, cookie, told };
}

/** Opens a WebSocket to `/ws` of `url`; resolves once open, rejects with `refused <status>`. */
function open(url: string, headers: Record<string, string>): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** The handshake of `/ws` on a raw socket, `extra` fields added. */
function handshake(version: string, extra: string, key = 'dGhlIHNhbXBsZSBub25jZQ=='): string {
  return `GET /ws HTTP/${version}\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

/** Sends `request` on a raw connection to `url`; answers the first line of what comes back until the server closes. */
function rawStatus(url: string, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1', () => socket.write(request));
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (got += chunk));
    socket.on('end', () => resolve(got.split('\r\n')[0]!));
    socket.on('error', reject);
  });
}

/** Waits until `done()` holds, polling every 10 ms (5 s at most). */
async function waitUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(done()).toBe(true);
}

describe('scenario: a WebSocket chat service', () => {
  it('refuses the handshake before it: 401 without a valid session, 403 from another origin; ws refuses a bad key', async () => {
    const { url, cookie } = await started();
    await expect(open(url, { Origin: url })).rejects.toThrow('refused 401');
    await expect(open(url, { Origin: url, Cookie: `${cookie.slice(0, -4)}AAAA` })).rejects.toThrow('refused 401');
    await expect(open(url, { Origin: 'https://evil.test', Cookie: cookie })).rejects.toThrow('refused 403');
    await expect(open(url, { Cookie: cookie })).rejects.toThrow('refused 403');
    expect(await rawStatus(url, handshake('1.1', `Origin: ${url}\r\nCookie: ${cookie}\r\n`, 'short'))).toBe('HTTP/1.1 400 Bad Request');
    // HTTP/1.0 cannot upgrade (RFC 9110 §7.8): the app answers, and it has no /ws.
    expect(await rawStatus(url, handshake('1.0', `Origin: ${url}\r\nCookie: ${cookie}\r\n`))).toBe('HTTP/1.1 404 Not Found');
  });

  it('broadcasts to every member, keeps the history, and closes a message over maxPayload with 1009', async () => {
    const { url, cookie } = await started();
    const members = await Promise.all(Array.from({ length: 30 }, () => open(url, { Origin: url, Cookie: cookie })));
    const heard = Promise.all(members.map((ws) => new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))))));
    members[0]!.send('hello room');
    expect(new Set(await heard)).toEqual(new Set(['bob: hello room']));
    expect(await (await fetch(`${url}/history`)).json()).toEqual(['bob: hello room']);
    const big = members[1]!;
    const code = new Promise<number>((resolve) => big.once('close', (closed) => resolve(closed)));
    big.on('error', () => {});
    big.send('x'.repeat(5000));
    expect(await code).toBe(1009);
    for (const ws of members) ws.terminate();
  });

  it('drops a peer gone without a close at the heartbeat', async () => {
    const { url, cookie, room, told } = await started(100);
    // A client that completes the handshake, then never reads again: no pong, no close.
    const gone = net.connect(Number(new URL(url).port), '127.0.0.1');
    gone.write(handshake('1.1', `Origin: ${url}\r\nCookie: ${cookie}\r\n`));
    await new Promise((resolve) => gone.once('data', resolve));
    gone.pause();
    await waitUntil(() => room.size === 1);
    await waitUntil(() => room.size === 0 && told.length === 1);
    expect(told[0]!.status).toBe(101);
    gone.destroy();
  });

  it('holds what waits for a member that stops reading to the broadcast\'s bound (ws bufferedAmount)', async () => {
    const { url, cookie, room } = await started();
    const stuck = net.connect(Number(new URL(url).port), '127.0.0.1');
    stuck.write(handshake('1.1', `Origin: ${url}\r\nCookie: ${cookie}\r\n`));
    await new Promise((resolve) => stuck.once('data', resolve));
    stuck.pause();
    const talker = await open(url, { Origin: url, Cookie: cookie });
    const peers = [...room];
    const COUNT = 3000;
    let echoed = 0;
    talker.on('message', () => echoed++);
    for (let i = 0; i < COUNT; i++) talker.send('y'.repeat(4000));
    // 12 MB broadcast, more than the loopback's socket buffers take: the stuck member's queue
    // stops growing at the bound (plus the message that crossed it).
    await waitUntil(() => echoed === COUNT);
    const waiting = peers.map((peer) => peer.bufferedAmount);
    expect(Math.max(...waiting)).toBeGreaterThan(0);
    expect(Math.max(...waiting)).toBeLessThan(MAX_BUFFERED + 8192);
    stuck.destroy();
    talker.terminate();
  });

  it("answers 501 through tsgi's proxy, which forwards no Upgrade", async () => {
    const { url, cookie } = await started();
    const front = await serve(proxy(url), { host: '127.0.0.1', port: 0, log: { write() {} } });
    handles.push(front);
    await expect(open(front.url, { Origin: url, Cookie: cookie })).rejects.toThrow('refused 501');
  });

  it('closes every WebSocket with 1001 on close(), and has told onUpgradeClosed of each when close() resolves', async () => {
    const { url, cookie, server, told } = await started();
    const members = await Promise.all(Array.from({ length: 50 }, () => open(url, { Origin: url, Cookie: cookie })));
    const codes = Promise.all(members.map((ws) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))));
    const started_ = Date.now();
    await server.close({ timeout: 5_000 });
    expect(Date.now() - started_).toBeLessThan(4_000);
    // Resolved: each WebSocket's log line is there (`await server.close(); process.exit()`).
    expect(told.map((closed) => `${closed.status} ${closed.environ.PATH_INFO}`)).toEqual(Array(50).fill('101 /ws'));
    expect(new Set(await codes)).toEqual(new Set([1001]));
  });
});
