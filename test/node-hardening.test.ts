/**
 * Slow and abusive clients, and faulty framing, over a real socket: the send timeout cuts a
 * client that stops reading (and frees what its response held), a silent connection is let go
 * after the first-byte timeout, a slowloris head gets 408, the connection caps hold, HTTP/1.0
 * with Transfer-Encoding is a 400 and an unknown transfer coding a 501, and a normal client is
 * answered promptly all along (a bounded version of bench/slow-clients.ts).
 */
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type App, Request, Response, type ServerHandle, serve } from 'tsgi';
import { toNodeHandler } from 'tsgi/node';
import { fileApp } from 'tsgi/middleware';
import { parseRaw, rawExchange, request, sleep, start, within } from './node-helpers.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-hardening-'));
const bigFile = path.join(dir, 'big.bin');
writeFileSync(bigFile, Buffer.alloc(8 * 1024 * 1024, 'x'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Open file descriptors of this process pointing at `file`. */
function openFds(file: string): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === file) count++;
    } catch {
      // closed meanwhile
    }
  }
  return count;
}

/**
 * A connection that sends `head` and then never reads (paused, so the kernel buffers fill).
 * `closed` resolves, with the milliseconds it took, when the server closes its side: a paused
 * client sees nothing, so it is watched from the server.
 */
/** The watchers of each server's new connections: one `connection` listener per server, however many clients wait. */
const watchers = new WeakMap<ServerHandle, Set<(conn: net.Socket) => void>>();

/**
 * Calls `then` with the server's side of the connection whose client port `port` resolves
 * with, once both are known. The client's port is awaited, not read when the server's
 * `connection` comes: on a loaded machine the server may take the connection before the
 * client's own `connect` ran, when the client socket does not tell its port yet (it is still
 * connecting), and the connection then never matched (the test hung).
 */
function onConnectionFrom(server: ServerHandle, port: Promise<number>, then: (conn: net.Socket) => void): void {
  let set = watchers.get(server);
  if (set === undefined) {
    const created = new Set<(conn: net.Socket) => void>();
    watchers.set(server, (set = created));
    server.server.on('connection', (conn: net.Socket) => {
      for (const watch of created) watch(conn);
    });
  }
  const watching = set;
  const watch = (conn: net.Socket) => {
    const remote = conn.remotePort;
    void port.then((local) => {
      if (remote !== local || !watching.has(watch)) return;
      watching.delete(watch);
      then(conn);
    });
  };
  watching.add(watch);
}

function nonReader(server: ServerHandle, head: string): { closed: Promise<number>; accepted: Promise<void>; socket: net.Socket } {
  const t0 = Date.now();
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => undefined);
  let accept!: () => void;
  /** Resolves once the server has the connection (its own `connection` listeners, which count it, ran first). */
  const accepted = new Promise<void>((resolve) => (accept = resolve));
  const port = new Promise<number>((resolve) => socket.once('connect', () => resolve(socket.localPort!)));
  const closed = new Promise<number>((resolve) => {
    onConnectionFrom(server, port, (conn) => {
      accept();
      if (conn.destroyed) resolve(Date.now() - t0);
      else conn.once('close', () => resolve(Date.now() - t0));
    });
  });
  socket.on('connect', () => {
    socket.write(head);
    socket.pause();
  });
  return { closed, accepted, socket };
}

/** A connection the server should close at once: resolves with the milliseconds it took, and what it received. */
function refused(port: number, head: string): Promise<{ ms: number; received: number }> {
  const t0 = Date.now();
  const socket = net.connect(port, '127.0.0.1');
  let received = 0;
  socket.on('data', (chunk) => (received += chunk.byteLength));
  socket.on('error', () => undefined);
  socket.on('connect', () => socket.write(head));
  return new Promise((resolve) => socket.on('close', () => resolve({ ms: Date.now() - t0, received })));
}

describe('slow readers: the send timeout', () => {
  it('cuts a client that stops reading a file, and closes the file', async () => {
    const server = await start(fileApp(bigFile), { sendTimeout: 300 });
    const before = openFds(bigFile);
    const clients = Array.from({ length: 5 }, () => nonReader(server, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(await within(() => openFds(bigFile) === before + 5, 5000)).toBe(true);
    const times = await Promise.all(clients.map((c) => c.closed));
    for (const ms of times) expect(ms).toBeLessThan(10_000);
    expect(await within(() => openFds(bigFile) === before, 5000)).toBe(true);
    await server.close();
  });

  it('cuts a client that stops reading a body held in memory', async () => {
    const big = new Uint8Array(16 * 1024 * 1024);
    const server = await start(Request.application(() => new Response(big)), { sendTimeout: 300 });
    const { closed } = nonReader(server, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await closed).toBeLessThan(10_000);
    await server.close();
  });

  it('cuts a client that stops reading a stream of one large chunk (sent whole, with its length)', async () => {
    const big = new Uint8Array(16 * 1024 * 1024);
    const oneChunk: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      return (async function* () {
        yield big;
      })();
    };
    const server = await start(oneChunk, { sendTimeout: 300 });
    const { closed } = nonReader(server, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await Promise.race([closed, sleep(5000).then(() => 'still open')])).toBeLessThan(5000);
    await server.close({ timeout: 100 });
  });

  it('keeps a slow but steady reader, and a long poll that sends nothing for a while', async () => {
    let finished = false;
    const stream: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      return (async function* () {
        for (let i = 0; i < 20; i++) yield new Uint8Array(256 * 1024);
        await sleep(1500); // quiet for longer than the send timeout
        yield new Uint8Array(10);
        finished = true;
      })();
    };
    const server = await start(stream, { sendTimeout: 1000 });
    const socket = net.connect(server.port, '127.0.0.1');
    let received = 0;
    socket.on('data', (chunk) => {
      received += chunk.byteLength;
      socket.pause();
      setTimeout(() => socket.resume(), 5); // reads a little at a time, steadily
    });
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await new Promise((resolve) => socket.on('close', resolve));
    expect(finished).toBe(true);
    expect(received).toBeGreaterThan(20 * 256 * 1024);
    await server.close();
  });

  it("refuses a sendTimeout past setTimeout's limit, or no number, which Node would turn into 1 ms (a cut at every full write)", async () => {
    const app = Request.application(() => new Response('ok'));
    for (const sendTimeout of [2 ** 31, Number.POSITIVE_INFINITY, Number.NaN, -1, '60000']) {
      await expect(serve(app, { port: 0, sendTimeout } as never)).rejects.toThrow(
        /^sendTimeout must be a non-negative number of milliseconds, at most 2147483647 \(0 turns it off\)/,
      );
      expect(() => toNodeHandler(app, { sendTimeout } as never)).toThrow(TypeError);
    }
    // The limit itself is taken.
    const server = await start(app, { sendTimeout: 2 ** 31 - 1 });
    expect((await request(server.url)).status).toBe(200);
  });
});

describe('idle and abusive connections', () => {
  it('refuses a firstByteTimeout that is no non-negative number, which ended the process at the first connection (socket.setTimeout threw); Infinity is the timer limit', async () => {
    const app = Request.application(() => new Response('ok'));
    for (const firstByteTimeout of [Number.NaN, -1, '10000']) {
      await expect(serve(app, { port: 0, firstByteTimeout } as never)).rejects.toThrow(
        /^serve: firstByteTimeout must be a non-negative number of milliseconds \(0 turns it off\)/,
      );
    }
    // A value past setTimeout's limit, Infinity too, is that limit, over HTTP/1.1 and h2c alike.
    const uncaught = vi.fn();
    process.on('uncaughtException', uncaught);
    try {
      for (const firstByteTimeout of [2 ** 31 - 1, Number.POSITIVE_INFINITY]) {
        for (const http2 of [false, 'h2c'] as const) {
          const server = await start(app, { firstByteTimeout, http2 });
          expect((await request(server.url)).status).toBe(200);
        }
      }
    } finally {
      process.off('uncaughtException', uncaught);
    }
    expect(uncaught).not.toHaveBeenCalled();
  });

  it('closes a connection that sends nothing after firstByteTimeout', async () => {
    const server = await start(() => [], { firstByteTimeout: 200 });
    const { closed } = nonReader(server, '');
    const ms = await closed;
    expect(ms).toBeGreaterThanOrEqual(150);
    expect(ms).toBeLessThan(2000);
    await server.close();
  });

  it('closes, without an answer or onRefused, a head that stalls partway for firstByteTimeout, before headersTimeout would answer 408', async () => {
    const refused: number[] = [];
    // The bytes come 200 ms into a 600 ms wait: without the restart the close would follow them
    // by 400 ms, with it by 600. (A 100 ms sleep into a 200 ms wait left a loaded machine too
    // little room: the wait could end before the bytes went, and the close seem too early.)
    const server = await start(() => [], { headersTimeout: 5000, firstByteTimeout: 600, onRefused: (r) => refused.push(r.status) });
    const socket = net.connect(server.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    await sleep(200);
    // Bytes of the head restart the wait (it counts silence), then nothing more comes.
    socket.write('GET / HTTP/1.1\r\nHo');
    const t0 = Date.now();
    await new Promise((resolve) => socket.on('close', resolve));
    const ms = Date.now() - t0;
    expect(answer).toBe('');
    expect(ms).toBeGreaterThanOrEqual(500);
    expect(ms).toBeLessThan(4000);
    expect(refused).toEqual([]);
    await server.close();
  });

  it('answers 408 to a head trickled past headersTimeout (slowloris)', async () => {
    // firstByteTimeout well above the trickle's 100 ms gaps: on a loaded machine a gap of 200 ms
    // closed the connection unanswered (firstByteTimeout's way) before headersTimeout's 408.
    const server = await start(() => [], { headersTimeout: 400, firstByteTimeout: 1000 });
    const socket = net.connect(server.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => socket.write('X-A: b\r\n'), 100);
    const t0 = Date.now();
    await new Promise((resolve) => socket.on('close', resolve));
    clearInterval(trickle);
    expect(answer.startsWith('HTTP/1.1 408')).toBe(true);
    expect(Date.now() - t0).toBeLessThan(3000);
    await server.close();
  });

  it('refuses a maxConnections or maxConnectionsPerClient that is no count (NaN from Number(process.env.X) left every connection uncapped, a negative one refused them all)', async () => {
    const app = Request.application(() => 'ok');
    for (const maxConnections of [Number.NaN, -1, 0, 2.5, '100']) {
      await expect(serve(app, { port: 0, maxConnections } as never)).rejects.toThrow(/^serve: maxConnections must be a positive integer/);
    }
    for (const maxConnectionsPerClient of [Number.NaN, -1, 2.5, '10']) {
      await expect(serve(app, { port: 0, maxConnectionsPerClient } as never)).rejects.toThrow(
        /^serve: maxConnectionsPerClient must be a non-negative integer \(0: no cap\)/,
      );
    }
  });

  it('refuses a maxHeaders that is no positive integer: NaN (Number(process.env.X) of an unset variable) lifted both its own count and Node\'s maxHeadersCount', async () => {
    const app = Request.application(() => 'ok');
    for (const maxHeaders of [Number.NaN, 0, -1, 2.5, '50']) {
      await expect(serve(app, { port: 0, maxHeaders } as never)).rejects.toThrow(/^serve: maxHeaders must be a positive integer/);
    }
  });

  it('caps open connections, and connections per client address', async () => {
    const server = await start(Request.application(() => 'ok'), { maxConnections: 3, firstByteTimeout: 0 });
    // The connections the cap counts are the server's before the next one comes: a fixed 100 ms
    // let a loaded machine try the fourth before it had them all (and answer it).
    const idle = Array.from({ length: 3 }, () => nonReader(server, ''));
    await Promise.all(idle.map((c) => c.accepted));
    expect(await refused(server.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toMatchObject({ received: 0 });
    for (const c of idle) c.socket.destroy();
    await Promise.all(idle.map((c) => c.closed));
    expect((await request(server.url)).status).toBe(200);
    await server.close();

    const perClient = await start(Request.application(() => 'ok'), { maxConnectionsPerClient: 2, firstByteTimeout: 0 });
    const two = Array.from({ length: 2 }, () => nonReader(perClient, ''));
    await Promise.all(two.map((c) => c.accepted));
    expect(await refused(perClient.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toMatchObject({ received: 0 });
    for (const c of two) c.socket.destroy();
    await Promise.all(two.map((c) => c.closed));
    expect((await request(perClient.url)).status).toBe(200);
    await perClient.close();
  });

  it('answers a normal client promptly while slowloris clients and slow readers hang on', async () => {
    const server = await start(
      Request.application((req) => (req.pathInfo === '/big' ? new Response(new Uint8Array(4 * 1024 * 1024)) : 'ok')),
      { sendTimeout: 1000, headersTimeout: 1000, firstByteTimeout: 1000, keepAliveTimeout: 1000 },
    );
    const quick = async () => {
      const t0 = performance.now();
      expect((await request(server.url)).status).toBe(200);
      return performance.now() - t0;
    };
    const calm = await quick();
    const loris = Array.from({ length: 100 }, () => {
      const socket = net.connect(server.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      return socket;
    });
    const readers = Array.from({ length: 20 }, () => nonReader(server, 'GET /big HTTP/1.1\r\nHost: x\r\n\r\n'));
    await sleep(200);
    const busy = [];
    for (let i = 0; i < 10; i++) busy.push(await quick());
    busy.sort((a, b) => a - b);
    expect(busy[5]!).toBeLessThan(Math.max(200, calm * 20));
    // Every slow reader is cut; every slowloris gets its 408 and goes.
    await Promise.all(readers.map((r) => r.closed));
    await Promise.all(loris.map((socket) => new Promise((resolve) => (socket.destroyed ? resolve(null) : socket.on('close', resolve)))));
    await server.close();
  }, 30_000);
});

describe('framing (RFC 9112 §6.1)', () => {
  it('refuses Transfer-Encoding in an HTTP/1.0 request with 400 and closes, ignoring what was pipelined', async () => {
    let calls = 0;
    const server = await start(() => {
      calls++;
      return [];
    });
    const result = await rawExchange(
      server.port,
      'POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const res = parseRaw(result.raw);
    expect(res.status).toBe(400);
    expect(res.rest).toContain('Transfer-Encoding in an HTTP/1.0 request');
    expect(result.raw.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(calls).toBe(0);
    await server.close();
  });

  it('answers 501 to a transfer coding other than chunked, without calling the app', async () => {
    let calls = 0;
    const server = await start(() => {
      calls++;
      return [];
    });
    const result = await rawExchange(server.port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    const res = parseRaw(result.raw);
    expect(res.status).toBe(501);
    expect(res.rest).toContain('"gzip"');
    expect(calls).toBe(0);
    await server.close();
  });
});
