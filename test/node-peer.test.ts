/**
 * `REMOTE_ADDR` and `REMOTE_PORT` under `serve()`, over real sockets: the TCP peer, known for
 * every request the app gets, even when the client reset its connection right after sending
 * it (a per-address rate limit or block list keys on it).
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { bytes, start, until } from './node-helpers.ts';

describe('REMOTE_ADDR', () => {
  it('is the address of a client that resets its connection right after its request', async () => {
    const seen: Array<{ address: unknown; port: unknown }> = [];
    const app: App = (environ, startResponse) => {
      seen.push({ address: environ.REMOTE_ADDR, port: environ.REMOTE_PORT });
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes('ok')];
    };
    const server = await start(app, { host: '127.0.0.1' });
    const port = Number(new URL(server.url).port);
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((done) => {
        // After a pause, so the server has accepted the connection before the request comes.
        const socket = net.connect(port, '127.0.0.1', () => {
          setTimeout(() => socket.write('POST /comments HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi', () => socket.resetAndDestroy()), 20);
        });
        socket.on('error', () => {}).on('close', () => done());
      });
    }
    await until(() => seen.length === 10);
    for (const peer of seen) {
      expect(peer.address).toBe('127.0.0.1');
      expect(peer.port).toMatch(/^\d+$/);
    }
  });
});
