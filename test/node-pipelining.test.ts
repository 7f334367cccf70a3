/**
 * Requests pipelined on one HTTP/1.1 connection, over a real socket: the app gets them one at a
 * time, in order, each once the answer before it is done, and the connection is not read while
 * a request waits for its turn (Node's own server would run the app for every request of a read
 * at once and read on). Also under `toNodeHandler`.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { toNodeHandler } from 'tsgi/node';
import { rawExchange, sleep, start } from './node-helpers.ts';

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

  it('behind a slow request, the connection is not read without bound, and every request is answered once it is done', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const app = Request.application(async (req) => {
      calls++;
      if (req.path === '/hold') await held;
      return new Response(req.path);
    });
    const server = await start(app);
    let parsed = 0;
    server.server.on('request', () => parsed++);
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const received: Buffer[] = [];
    let receivedBytes = 0;
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      receivedBytes += chunk.byteLength;
    });
    socket.write('GET /hold HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    // 1.1 MB of small GETs, 40,000 requests, sent with backpressure.
    const block = Buffer.from('GET /q HTTP/1.1\r\nHost: 1\r\n\r\n'.repeat(2000));
    const count = 20 * 2000;
    for (let i = 0; i < 20; i++) {
      if (!socket.write(block)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    await sleep(500);
    // Node parses a read at a time (64 KiB: about 2,400 of these) before it stops; unpaused it
    // parsed all 40,000 in well under the 500 ms.
    expect(parsed).toBeLessThan(10_000);
    expect(calls).toBe(1);
    release();
    // Until the answers stop coming (300 ms without a byte), at most 15 s.
    for (let waited = 0, before = -1; receivedBytes !== before && waited < 15_000; waited += 300) {
      before = receivedBytes;
      await sleep(300);
    }
    const answers = Buffer.concat(received).toString('latin1').split('HTTP/1.1 200 OK').length - 1;
    expect(answers).toBe(count + 1);
    expect(calls).toBe(count + 1);
    socket.destroy();
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
});
