/**
 * Requests pipelined on one HTTP/1.1 connection, over a real socket: the app gets them one at a
 * time, in order, each once the answer before it is done (Node's own server would run the app
 * for every request of a read at once and read on), and past 100 waiting the connection is
 * closed. Also under `toNodeHandler`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { toNodeHandler } from 'tsgi/node';
import { rawExchange, rawExchangeStrict, sleep, start, until } from './node-helpers.ts';
import { makeCertificate } from './tls-helpers.ts';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** `count` GETs of `/0` … `/<count - 1>` in one write, the last closing the connection. */
function pipelined(count: number): string {
  let text = '';
  for (let i = 0; i < count; i++) text += `GET /${i} HTTP/1.1\r\nHost: 127.0.0.1\r\n${i === count - 1 ? 'Connection: close\r\n' : ''}\r\n`;
  return text;
}

/** The bodies of the `200` answers in `raw`, in order. */
const bodiesOf = (raw: string): string[] => raw.split('HTTP/1.1 200 OK').slice(1).map((answer) => answer.slice(answer.indexOf('\r\n\r\n') + 4));

/** An app answering its path after `ms`, counting how many of it run at once. */
function slowApp(ms: number): { app: App; most: () => number } {
  let running = 0;
  let most = 0;
  const app = Request.application(async (req) => {
    most = Math.max(most, ++running);
    await sleep(ms);
    running--;
    return new Response(req.path);
  });
  return { app, most: () => most };
}

describe('pipelined requests', () => {
  it('reach the app one at a time and are answered in order', async () => {
    const { app, most } = slowApp(5);
    const server = await start(app);
    const { raw } = await rawExchange(server.port, pipelined(20));
    expect(bodiesOf(raw)).toEqual(Array.from({ length: 20 }, (_, i) => `/${i}`));
    expect(most()).toBe(1);
  });

  it('one at a time under toNodeHandler too', async () => {
    const { app, most } = slowApp(5);
    const server = http.createServer(toNodeHandler(app));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { raw } = await rawExchange((server.address() as net.AddressInfo).port, pipelined(10));
    expect(bodiesOf(raw)).toEqual(Array.from({ length: 10 }, (_, i) => `/${i}`));
    expect(most()).toBe(1);
  });

  /** An app holding `/hold` until `release()`, answering any other path at once, counting its calls. */
  function holdingApp(): { app: App; release: () => void; calls: () => number } {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const app = Request.application(async (req) => {
      calls++;
      if (req.path === '/hold') await held;
      return new Response(req.path);
    });
    return { app, release, calls: () => calls };
  }

  it('up to 100 waiting behind a slow request are all answered, in order, once it is done', async () => {
    const { app, release, calls } = holdingApp();
    const server = await start(app);
    // Strict: on Node 22 a reset here would pass for the clean close this test asserts (rawExchangeStrict).
    const exchange = rawExchangeStrict(server.port, `GET /hold HTTP/1.1\r\nHost: 1\r\n\r\n${pipelined(100)}`);
    // /hold reached the app (polled: a fixed 200 ms could end first on a loaded machine), and
    // none of those behind it while it holds.
    await until(() => calls() >= 1);
    await sleep(100);
    expect(calls()).toBe(1);
    release();
    const { raw, clean } = await exchange;
    expect(bodiesOf(raw)).toEqual(['/hold', ...Array.from({ length: 100 }, (_, i) => `/${i}`)]);
    expect([clean, calls()]).toEqual([true, 101]);
  });

  it('a flood behind a slow request closes the connection once more than 100 wait, parsed a read at a time, the app never run for it', async () => {
    const { app, release, calls } = holdingApp();
    const server = await start(app);
    let parsed = 0;
    server.server.on('request', () => parsed++);
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.resume();
    socket.write('GET /hold HTTP/1.1\r\nHost: 1\r\n\r\n');
    // 1.1 MB of small GETs, 40,000 requests, as long as the connection takes them: the server
    // parsed all of them (and would any number) when nothing bounded the waiting ones.
    const block = Buffer.from('GET /q HTTP/1.1\r\nHost: 1\r\n\r\n'.repeat(2000));
    for (let i = 0; i < 20 && !socket.destroyed; i++) {
      if (!socket.write(block)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed]);
    }
    expect(await Promise.race([closed.then(() => 'closed'), sleep(5000).then(() => 'open')])).toBe('closed');
    expect(parsed).toBeLessThan(10_000);
    expect(calls()).toBe(1);
    release();
  });

  it('101 waiting: the connection is closed', async () => {
    const { app, release } = holdingApp();
    const server = await start(app);
    const exchange = rawExchange(server.port, `GET /hold HTTP/1.1\r\nHost: 1\r\n\r\n${pipelined(101)}`);
    const { raw } = await Promise.race([exchange, sleep(5000).then(() => ({ raw: 'still open' }))]);
    expect(raw).toBe('');
    release();
  });

  it('a request pipelined behind another is not counted against maxConcurrentRequests with it', async () => {
    const { app } = slowApp(20);
    const server = await start(app, { maxConcurrentRequests: 1 });
    const { raw } = await rawExchange(server.port, pipelined(5));
    expect(bodiesOf(raw)).toEqual(['/0', '/1', '/2', '/3', '/4']);
  });

  it('over TLS, requests pipelined behind a slow one all arrive whole', async () => {
    const certificate = await makeCertificate();
    try {
      const { app, release, calls } = holdingApp();
      const server = await start(app, { tls: { cert: certificate.cert, key: certificate.key } });
      const socket = tls.connect({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false });
      socket.on('error', () => {});
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      const closed = new Promise((resolve) => socket.once('close', resolve));
      await new Promise((resolve) => socket.once('secureConnect', resolve));
      // Some 2,700 bytes over TLS records: a paused parser would refuse the rest of a record.
      socket.write(`GET /hold HTTP/1.1\r\nHost: 1\r\n\r\n${pipelined(90)}`);
      await until(() => calls() >= 1);
      await sleep(100);
      expect(calls()).toBe(1);
      release();
      await Promise.race([closed, sleep(10_000)]);
      expect(bodiesOf(Buffer.concat(received).toString('latin1'))).toEqual(['/hold', ...Array.from({ length: 90 }, (_, i) => `/${i}`)]);
    } finally {
      certificate.remove();
    }
  });

  it('a pipelined POST waiting for its turn gets its whole body then', async () => {
    const app = Request.application(async (req) => {
      if (req.method === 'POST') return new Response(`got ${(await req.bytes()).byteLength}`);
      await sleep(50);
      return new Response(req.path);
    });
    const server = await start(app);
    const body = 'x'.repeat(300_000);
    const { raw } = await rawExchange(
      server.port,
      `GET /slow HTTP/1.1\r\nHost: 1\r\n\r\nPOST /up HTTP/1.1\r\nHost: 1\r\nContent-Length: ${body.length}\r\n\r\n${body}GET /last HTTP/1.1\r\nHost: 1\r\nConnection: close\r\n\r\n`,
    );
    expect(bodiesOf(raw)).toEqual(['/slow', `got ${body.length}`, '/last']);
  });

  it("each runs in its own request's async context, as OpenTelemetry's http instrumentation sets it around the server's request event", async () => {
    // As @opentelemetry/instrumentation-http does: the request event runs inside the request's span.
    const spans = new AsyncLocalStorage<string>();
    const seen: string[] = [];
    const app = Request.application(async (req) => {
      seen.push(`${req.path} in ${spans.getStore()}`);
      await sleep(5);
      return new Response(req.path);
    });
    const server = await start(app);
    const target = server.server as unknown as { emit: (event: string | symbol, ...args: unknown[]) => boolean };
    const emit = target.emit.bind(target);
    target.emit = (event, ...args) =>
      event === 'request' ? spans.run(`span of ${(args[0] as http.IncomingMessage).url}`, () => emit(event, ...args)) : emit(event, ...args);
    const { raw } = await rawExchange(server.port, pipelined(3));
    expect(bodiesOf(raw)).toEqual(['/0', '/1', '/2']);
    expect(seen).toEqual(['/0 in span of /0', '/1 in span of /1', '/2 in span of /2']);
  });

  it.each([
    ['a 426', true],
    ['a plain 200', false],
  ])('an Upgrade request answered without 101 (%s) closes the connection at once, so the client retries what it pipelined behind it', async (_name, refuse) => {
    const app = Request.application((req) =>
      refuse && req.headers.has('upgrade')
        ? new Response('upgrade required\n', { status: 426, headers: { Upgrade: 'websocket' } })
        : new Response(req.path),
    );
    const server = await start(app);
    const started = Date.now();
    // Node stops parsing the read after an upgrade request: GET /next is never seen.
    const { raw, clean } = await rawExchangeStrict(
      server.port,
      'GET /ws HTTP/1.1\r\nHost: 1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /next HTTP/1.1\r\nHost: 1\r\n\r\n',
    );
    expect(Date.now() - started).toBeLessThan(4000); // not the keep-alive timeout (5 s)
    expect(clean).toBe(true);
    const head = raw.slice(0, raw.indexOf('\r\n\r\n')).toLowerCase();
    expect(head).toMatch(refuse ? /^http\/1\.1 426 / : /^http\/1\.1 200 /);
    expect(head).toContain(refuse ? 'connection: close, upgrade' : 'connection: close');
    expect(raw.split('HTTP/1.1 ').length).toBe(2); // one answer; the client sends /next again
    // A request that only names Upgrade (no `Connection: upgrade`) is parsed on: the connection stays.
    const { raw: both } = await rawExchange(server.port, 'GET /a HTTP/1.1\r\nHost: 1\r\nUpgrade: websocket\r\n\r\nGET /b HTTP/1.1\r\nHost: 1\r\nConnection: close\r\n\r\n');
    expect(both.split('HTTP/1.1 ').length).toBe(3);
  });

  // A request Node parses in the same read after an answer that closed the connection (an unread
  // chunked body: lingering close) found no answer ahead of it and got the socket at once: the
  // app ran for it (a POST's side effects) and its answer went nowhere, so the client, which sees
  // the connection close after the first answer, sends it again.
  it.each([
    ['an unread chunked body', 'POST /upload HTTP/1.1\r\nHost: 1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 200],
    ["the server's 413 to a declared body past maxBodySize", 'POST /upload HTTP/1.1\r\nHost: 1\r\nContent-Length: 11\r\n\r\nhello world', 413],
    ["the server's 417 to an Expect it does not meet", 'POST /upload HTTP/1.1\r\nHost: 1\r\nExpect: x\r\nContent-Length: 5\r\n\r\nhello', 417],
  ])('a request pipelined behind an answer that closed the connection (%s) never reaches the app', async (_, first, status) => {
    const seen: string[] = [];
    const server = await start(
      Request.application((req) => {
        seen.push(`${req.method} ${req.path}`);
        return new Response(req.path);
      }),
      { maxBodySize: 10 },
    );
    const { raw } = await rawExchange(server.port, `${first}POST /charge HTTP/1.1\r\nHost: 1\r\nContent-Length: 0\r\n\r\n`);
    expect(raw).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(raw.toLowerCase()).toContain('connection: close');
    expect(raw.split('HTTP/1.1 ').length).toBe(2); // one answer; the client sends /charge again
    await sleep(50);
    expect(seen).toEqual(status === 200 ? ['POST /upload'] : []);
    expect(server.log.text).toBe('');
  });
});
