/**
 * Scenario: a live-updates service (server-sent events) in production, built from the docs
 * (docs/response.md "Server-sent events", docs/middleware*.md, docs/proxy.md, docs/server.md)
 * as a developer used to Hono's `streamSSE` and Express's `res.write` would: `GET /events`
 * streams JSON notes from an in-process pub/sub with `id:` lines, a `retry:` hint, heartbeats
 * and `Last-Event-ID` replay, behind a bearer token; `POST /publish` fans a note out to every
 * client. The stack in front is `proxyFix`, `accessLog`, `errors` and `compress`, and a
 * gateway (`proxy`) forwards the feed from another server. Driven over real sockets on
 * 127.0.0.1: the refusals, each event arriving while the next has not been published (direct,
 * gzip, through the gateway), the heartbeat, the replay, 200 subscribers and their hang-ups,
 * HTTP/2 streams cancelled by the client, and the graceful close with 50 streams open (plain
 * and compressed) and a silent spare connection, which resolves at once, every stream's
 * `finally` run by then (the compressed ones' `req.signal` aborted too) and the access log
 * holding a line with its bytes for each.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, HTTPBadRequest, HTTPMethodNotAllowed, Request, Response, type ServerHandle, type ServerSentEvent, compose, serve } from 'tsgi';
import { accessLog, bearerAuth, compress, errors, mount, proxyFix } from 'tsgi/middleware';
import { type ProxyApp, proxy } from 'tsgi/proxy';
import { errorLog, until } from './node-helpers.ts';

type Note = ServerSentEvent & { id: string };

/** The feed: an in-process pub/sub, its apps behind the production stack, and what it counts. */
function feed(heartbeat: number) {
  const clients = new Set<{ queue: Note[]; behind: boolean; wake: () => void }>();
  const history: Note[] = [];
  let seq = 0;
  const stats = { subscribers: 0, finalized: 0 };
  const log: Record<string, unknown>[] = [];
  function publish(data: unknown): void {
    const note: Note = { id: String(++seq), event: 'note', data: JSON.stringify(data) };
    history.push(note);
    if (history.length > 1000) history.shift();
    for (const client of clients) {
      // Bounded where events are pushed: a client that stopped reading holds its generator at
      // a `yield`, where no check of its own runs (docs/response.md, "A live dashboard").
      if (client.queue.length >= 100) client.behind = true;
      else client.queue.push(note);
      client.wake();
    }
  }
  const events = Request.application((req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HTTPMethodNotAllowed(['GET', 'HEAD']);
    const after = Number(req.headers.get('last-event-id') ?? seq);
    if (!Number.isSafeInteger(after) || after < 0) throw new HTTPBadRequest('Last-Event-ID must be a sequence number.');
    return Response.eventStream(
      (async function* () {
        const client = { queue: history.filter((note) => Number(note.id) > after), behind: false, wake: () => {} };
        clients.add(client);
        stats.subscribers++;
        try {
          yield { retry: 2000 };
          while (!req.signal.aborted && (client.queue.length > 0 || !client.behind)) {
            const note = client.queue.shift();
            if (note) yield note;
            else
              await new Promise<void>((wake) => {
                client.wake = wake;
                req.signal.addEventListener('abort', () => wake(), { once: true });
              });
          }
        } finally {
          clients.delete(client);
          stats.subscribers--;
          stats.finalized++;
        }
      })(),
      { heartbeat },
    );
  });
  const publishApp = Request.application(async (req) => {
    if (req.method !== 'POST') throw new HTTPMethodNotAllowed(['POST']);
    publish(await req.json());
    return Response.json({ id: seq, delivered: clients.size });
  });
  const app: App = compose(
    (inner) => proxyFix(inner, { xFor: 1, xProto: 1, xHost: 1 }),
    (inner) => accessLog(inner, { format: 'json', log: { write: (line: string) => void log.push(JSON.parse(line)) } }),
    errors,
    compress,
  )(
    mount({
      '/events': bearerAuth(events, { realm: 'feed', verify: (token) => (token === 'secret' ? 'reader' : null) }),
      '/publish': publishApp,
    }),
  );
  const queued = () => Math.max(0, ...[...clients].map((client) => client.queue.length));
  return { app, stats, log, publish, queued };
}

const AUTH = { authorization: 'Bearer secret' };

/** An open event stream: what it has read so far (decoded), and its request's end. */
interface Subscription {
  head: http.IncomingMessage;
  text: () => string;
  /** The ids read so far. */
  ids: () => number;
  ended: Promise<void>;
  hangUp: () => void;
}

/** Opens `/events` on `base` and answers at its head; the body is read (and gunzipped) as it comes. */
function subscribe(base: string, headers: http.OutgoingHttpHeaders = {}, agent?: http.Agent): Promise<Subscription> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}/events`, { headers: { ...AUTH, ...headers }, agent }, (head) => {
      let text = '';
      let ids = 0;
      let carry = '';
      const body = head.headers['content-encoding'] === 'gzip' ? head.pipe(zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH })) : head;
      body.setEncoding('utf8');
      body.on('data', (chunk: string) => {
        // Large events are counted, not kept; an `id:` line cut between two chunks counts once.
        ids += count(carry + chunk, /^id: /gm) - count(carry, /^id: /gm);
        carry = (carry + chunk).slice(-16);
        text += chunk.length > 4096 ? '' : chunk;
      });
      body.on('error', () => undefined);
      const ended = new Promise<void>((done) => {
        body.on('end', done).on('close', done);
        head.on('close', done);
      });
      resolve({ head, text: () => text, ids: () => ids, ended, hangUp: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

const count = (text: string, pattern: RegExp): number => (text.match(pattern) ?? []).length;

describe('scenario: a live-updates feed (server-sent events)', () => {
  let service: ReturnType<typeof feed>;
  let upstream: ServerHandle;
  let gateway: ServerHandle;
  let gatewayApp: ProxyApp;

  beforeAll(async () => {
    service = feed(15);
    upstream = await serve(service.app, { host: '127.0.0.1', port: 0 });
    gatewayApp = proxy(upstream.url);
    gateway = await serve(gatewayApp, { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await gateway.close({ timeout: 0 });
    await gatewayApp.close();
    await upstream.close({ timeout: 0 });
  });

  it('refuses what it must: no token 401, a bad Last-Event-ID 400, a POST 405, a bad JSON note 400', async () => {
    const none = await fetch(`${upstream.url}/events`);
    expect([none.status, none.headers.get('www-authenticate')]).toEqual([401, 'Bearer realm="feed"']);
    const wrong = await fetch(`${upstream.url}/events`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const bad = await fetch(`${upstream.url}/events`, { headers: { ...AUTH, 'last-event-id': 'abc' } });
    expect([bad.status, await bad.text()]).toEqual([400, expect.stringContaining('Last-Event-ID must be a sequence number.')]);
    expect((await fetch(`${upstream.url}/events`, { method: 'POST', headers: AUTH, body: 'x' })).status).toBe(405);
    const json = await fetch(`${upstream.url}/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad' });
    expect(json.status).toBe(400);
    await Promise.all([none.text(), wrong.text(), json.text()]);
  });

  for (const [label, via, encoding] of [
    ['directly', 'upstream', undefined],
    ['through compress (gzip)', 'upstream', 'gzip'],
    ['through the gateway, gzip', 'gateway', 'gzip'],
  ] as const) {
    it(`sends each event as it is published, ${label}`, async () => {
      const base = via === 'upstream' ? upstream.url : gateway.url;
      const sub = await subscribe(base, encoding ? { 'accept-encoding': encoding } : {});
      expect(sub.head.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(sub.head.headers['x-accel-buffering']).toBe('no');
      expect(sub.head.headers['content-encoding']).toBe(encoding);
      await until(() => sub.text().includes('retry: 2000'));
      for (let i = 0; i < 3; i++) {
        const before = count(sub.text(), /^id: /gm);
        const res = await fetch(`${upstream.url}/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ i }) });
        expect(((await res.json()) as { delivered: number }).delivered).toBeGreaterThanOrEqual(1);
        // Each event arrives before the next is published (a buffering layer would hold it
        // until 16 KiB or the end); the test's timeout bounds the wait.
        await until(() => count(sub.text(), /^id: /gm) > before);
        expect(sub.text()).toContain(`data: {"i":${i}}`);
      }
      sub.hangUp();
      await until(() => service.stats.subscribers === 0);
    });
  }

  it('sends a heartbeat comment while idle', async () => {
    const quick = feed(0.05);
    const server = await serve(quick.app, { host: '127.0.0.1', port: 0 });
    try {
      const sub = await subscribe(server.url);
      await until(() => count(sub.text(), /^: ping$/gm) >= 2);
      sub.hangUp();
      await until(() => quick.stats.subscribers === 0);
    } finally {
      await server.close({ timeout: 0 });
    }
  });

  it('replays the events after Last-Event-ID', async () => {
    for (let i = 0; i < 3; i++) service.publish({ replay: i });
    const sub = await subscribe(upstream.url, { 'last-event-id': '0' });
    await until(() => sub.text().includes('"replay":2'));
    const ids = [...sub.text().matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids[0]).toBe(1);
    sub.hangUp();
    await until(() => service.stats.subscribers === 0);
  });

  it('fans a note out to 200 subscribers, and forgets each one that hangs up', async () => {
    const agent = new http.Agent({ maxSockets: 500 });
    try {
      const subs = await Promise.all(Array.from({ length: 200 }, (_, i) => subscribe(upstream.url, i % 2 ? { 'accept-encoding': 'gzip' } : {}, agent)));
      await until(() => service.stats.subscribers === 200);
      service.publish({ broadcast: true });
      await until(() => subs.every((sub) => sub.text().includes('"broadcast":true')));
      for (const sub of subs) sub.hangUp();
      await until(() => service.stats.subscribers === 0);
    } finally {
      agent.destroy();
    }
  });

  it('holds at most 100 events for a client that stopped reading, while the others get every one', async () => {
    const slow = net.connect(Number(new URL(upstream.url).port), '127.0.0.1').on('error', () => undefined);
    slow.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer secret\r\n\r\n');
    slow.pause();
    const reader = await subscribe(upstream.url, { 'accept-encoding': 'gzip' });
    await until(() => service.stats.subscribers === 2 && reader.text().includes('retry: 2000'));
    const big = 'x'.repeat(64 * 1024);
    const before = reader.ids();
    for (let i = 1; i <= 300; i++) {
      service.publish({ i, big });
      // The reader keeps up; the slow client's socket buffers fill and its stream stops.
      await until(() => reader.ids() === before + i);
    }
    // Full: its stream was pulled no further than its socket took (backpressure), and the
    // queue stopped at the bound the app set.
    expect(service.queued()).toBe(100);
    slow.destroy();
    reader.hangUp();
    await until(() => service.stats.subscribers === 0);
  });

  it('ends the generator of each HTTP/2 stream the client cancels', async () => {
    const h2 = feed(15);
    const server = await serve(h2.app, { host: '127.0.0.1', port: 0, http2: 'h2c' });
    const session = http2.connect(server.url);
    session.on('error', () => undefined);
    try {
      const streams = Array.from({ length: 10 }, (_, i) => {
        const stream = session.request({ ':path': '/events', ...AUTH, ...(i % 2 ? { 'accept-encoding': 'gzip' } : {}) });
        stream.on('error', () => undefined);
        stream.resume();
        return stream;
      });
      await until(() => h2.stats.subscribers === 10);
      for (const stream of streams.slice(0, 5)) stream.close(http2.constants.NGHTTP2_CANCEL);
      for (const stream of streams.slice(5)) stream.close();
      await until(() => h2.stats.subscribers === 0);
      expect(h2.stats.finalized).toBe(10);
    } finally {
      session.destroy();
      await server.close({ timeout: 0 });
    }
  });

  it('ends 50 open streams at the graceful close, plain and compressed: each finally run, each logged with its bytes', async () => {
    const closing = feed(15);
    const server = await serve(closing.app, { host: '127.0.0.1', port: 0 });
    const agent = new http.Agent({ maxSockets: 100 });
    try {
      const subs = await Promise.all(Array.from({ length: 50 }, (_, i) => subscribe(server.url, i % 2 ? { 'accept-encoding': 'gzip' } : {}, agent)));
      await until(() => closing.stats.subscribers === 50 && subs.every((sub) => sub.text().includes('retry: 2000')));
      closing.publish({ last: true });
      await until(() => subs.every((sub) => sub.text().includes('"last":true')));
      // A connection opened for the next request and silent yet (undici's, a browser's
      // preconnect) is closed too: it held the close 10 s, long after the streams had ended.
      const accepted = new Promise((resolve) => (server.server as net.Server).once('connection', resolve));
      let spareClosed = false;
      const spare = net.connect(Number(new URL(server.url).port), '127.0.0.1').on('error', () => undefined);
      spare.on('close', () => (spareClosed = true)).resume();
      await accepted;
      const started = performance.now();
      await server.close();
      expect(performance.now() - started).toBeLessThan(3000);
      await until(() => spareClosed);
      // Every stream's `finally` has run by then: the compressed ones' too, whose wait on
      // `req.signal` must be woken as the plain ones' is.
      expect(closing.stats).toEqual({ subscribers: 0, finalized: 50 });
      await Promise.all(subs.map((sub) => sub.ended));
      expect(subs.every((sub) => sub.text().endsWith('\n\n'))).toBe(true);
      const lines = closing.log.filter((entry) => entry.url === '/events');
      expect(lines).toHaveLength(50);
      for (const line of lines) expect(line).toMatchObject({ status: 200, outcome: 'end', remote_user: 'reader', bytes: expect.any(Number) });
      expect(lines.every((line) => (line.bytes as number) > 0)).toBe(true);
    } finally {
      agent.destroy();
      await server.close({ timeout: 0 });
    }
  });

  it("ends the gateway's proxied streams at its graceful close, the upstream's gzip ones too, cleanly and without an error logged", async () => {
    const behind = feed(15);
    const server = await serve(behind.app, { host: '127.0.0.1', port: 0 });
    const api = proxy(server.url);
    const log = errorLog();
    const front = await serve(api, { host: '127.0.0.1', port: 0, log });
    try {
      const subs = await Promise.all(Array.from({ length: 4 }, (_, i) => subscribe(front.url, i % 2 ? { 'accept-encoding': 'gzip' } : {})));
      await until(() => behind.stats.subscribers === 4 && subs.every((sub) => sub.text().includes('retry: 2000')));
      await front.close();
      await Promise.all(subs.map((sub) => sub.ended));
      // Each upstream request was let go, and the upstream's generators ended.
      await until(() => behind.stats.subscribers === 0);
      expect(log.text).toBe('');
    } finally {
      await front.close({ timeout: 0 });
      await api.close();
      await server.close({ timeout: 0 });
    }
  });
});
