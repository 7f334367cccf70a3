/**
 * The graceful close and a connection that has sent nothing yet (a browser's preconnect, a
 * client that opened a connection for its next request): under `idle: 'close'` (the default)
 * it is closed at once, as an idle keep-alive connection is (uvicorn does so); it held
 * `close()` until `firstByteTimeout` or the close's own `timeout`, 10 s each by default, where
 * every stream and request had long ended. One whose request has begun (part of a head sent)
 * is still answered.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Request, Response, serve } from 'tsgi';
import { until } from './node-helpers.ts';

const app = Request.application((req) => new Response(`hello ${req.path}\n`));

/** A raw connection to `url`, with what it has read and whether it closed. */
async function connect(url: string) {
  const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
  const seen = { text: '', closed: false };
  socket.on('data', (chunk: Buffer) => (seen.text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('close', () => (seen.closed = true));
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, seen };
}

describe('close() and a connection that has sent nothing', () => {
  for (const http2 of [undefined, 'h2c'] as const) {
    it(`closes it at once${http2 ? ' (h2c)' : ''}, instead of waiting for firstByteTimeout or the close's timeout`, async () => {
      const server = await serve(app, { host: '127.0.0.1', port: 0, ...(http2 ? { http2 } : {}) });
      // The server has accepted it before the close begins.
      const accepted = new Promise((resolve) => (server.server as net.Server).once('connection', resolve));
      const silent = await connect(server.url);
      await accepted;
      const started = performance.now();
      await server.close({ timeout: 5000 });
      expect(performance.now() - started).toBeLessThan(2000);
      await until(() => silent.seen.closed);
      expect(silent.seen.text).toBe('');
    });
  }

  it('still answers one whose head had begun, with Connection: close', async () => {
    const server = await serve(app, { host: '127.0.0.1', port: 0 });
    const started = await connect(server.url);
    started.socket.write('GET /late HTTP/1.1\r\n');
    await until(() => started.socket.bytesWritten > 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = server.close({ timeout: 5000 });
    started.socket.write('Host: 127.0.0.1\r\n\r\n');
    await closing;
    await until(() => started.seen.closed);
    expect(started.seen.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(started.seen.text).toMatch(/\r\nConnection: close\r\n/i);
    expect(started.seen.text).toContain('hello /late');
  });
});
