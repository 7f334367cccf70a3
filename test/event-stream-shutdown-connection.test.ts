/**
 * A live dashboard's event stream at a graceful shutdown that leaves idle keep-alive
 * connections to expire (`close({ idle: 'expire' })`, what `tsgi serve` does on SIGTERM and when
 * a `--workers` worker is replaced), over a real socket: the stream ends cleanly and its
 * connection closes after it, so the client's reconnect (`EventSource` after `retry`, with its
 * `Last-Event-ID`) opens a new connection to a server still running instead of coming back to
 * the stopping one, which would answer it an empty stream and cost it a second `retry` wait.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { compress } from 'tsgi/middleware';
import { sleep, start } from './node-helpers.ts';

/** Waits for `predicate`, failing after `ms`. */
async function within(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(5);
  }
}

const dashboard = Request.application((req) =>
  Response.eventStream(
    (async function* () {
      yield { retry: 1000 };
      yield { id: '1', event: 'tick', data: '{"n":1}' };
      await new Promise((resolve) => req.signal.addEventListener('abort', resolve, { once: true }));
    })(),
    { heartbeat: 0.2 },
  ),
);

/** Opens the stream on a raw keep-alive connection; resolves once its first event came. */
async function openStream(port: number, acceptEncoding: string) {
  const socket = net.connect(port, '127.0.0.1');
  const seen = { text: '', ended: false };
  socket.on('data', (chunk: Buffer) => (seen.text += chunk.toString('latin1')));
  socket.on('end', () => (seen.ended = true));
  socket.on('error', () => {});
  socket.write(`GET /live HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAccept-Encoding: ${acceptEncoding}\r\n\r\n`);
  await within(() => seen.text.includes(acceptEncoding === 'identity' ? 'id: 1' : '\r\n\r\n'), 3000, 'the first event');
  return { socket, seen };
}

describe('an event stream the graceful shutdown ends, with idle connections left to expire', () => {
  for (const [name, app, encoding] of [
    ['plain', dashboard, 'identity'],
    ['under compress', compress(dashboard), 'gzip'],
  ] as const) {
    it(`${name}: ends complete, then its connection closes at once, not at the keep-alive timeout`, async () => {
      const server = await start(app, { keepAliveTimeout: 30_000 });
      const { socket, seen } = await openStream(server.port!, encoding);
      expect(seen.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(seen.text.toLowerCase()).toContain('connection: keep-alive');
      const closing = server.close({ idle: 'expire', timeout: 5000 });
      await within(() => seen.text.endsWith('\r\n0\r\n\r\n'), 3000, 'the last chunk');
      // The connection is closed by the server after the last chunk: no request can follow on it.
      await within(() => seen.ended, 1000, 'the server closing the connection');
      await closing;
      socket.destroy();
    });
  }

  it('closes the connection also when the stream\'s own cleanup outlasts its last chunk', async () => {
    // An event source that unsubscribes from its feed (a database, a broker) when it ends:
    // the answer is sent, and its connection's keep-alive taken up by Node, before that is done.
    const slowCleanup = Request.application((req) =>
      Response.eventStream(
        (async function* () {
          try {
            yield { id: '1', event: 'tick', data: '{"n":1}' };
            await new Promise((resolve) => req.signal.addEventListener('abort', resolve, { once: true }));
          } finally {
            await sleep(100);
          }
        })(),
      ),
    );
    const server = await start(slowCleanup, { keepAliveTimeout: 30_000 });
    const { socket, seen } = await openStream(server.port!, 'identity');
    const closing = server.close({ idle: 'expire', timeout: 5000 });
    await within(() => seen.text.endsWith('\r\n0\r\n\r\n'), 3000, 'the last chunk');
    await within(() => seen.ended, 1000, 'the server closing the connection');
    await closing;
    socket.destroy();
  });
});
