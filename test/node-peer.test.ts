/**
 * `REMOTE_ADDR` and `REMOTE_PORT` under `serve()`, over real sockets: the TCP peer, known for
 * every request the app gets, even when the client reset its connection right after sending
 * it (a per-address rate limit or block list keys on it).
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { bytes, start, until } from './node-helpers.ts';
import { type TestCertificate, makeCertificate } from './tls-helpers.ts';

let certificate: TestCertificate;
beforeAll(async () => {
  certificate = await makeCertificate();
});
afterAll(() => certificate.remove());

/** An app that records the REMOTE_ADDR and REMOTE_PORT of each request in `seen`. */
function recordingPeers(seen: Array<{ address: unknown; port: unknown }>): App {
  return (environ, startResponse) => {
    seen.push({ address: environ.REMOTE_ADDR, port: environ.REMOTE_PORT });
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [bytes('ok')];
  };
}

/**
 * An HTTP/1.1 TLS connection to `port` over a TCP socket of its own, handed to `send` once the
 * handshake is over, with a function that resets that TCP connection.
 */
function tlsThenReset(port: number, send: (socket: tls.TLSSocket, reset: () => void) => void): Promise<void> {
  return new Promise((done) => {
    const tcp = net.connect(port, '127.0.0.1');
    tcp.on('error', () => {}).on('close', () => done());
    const socket = tls.connect({ socket: tcp, servername: 'localhost', ca: certificate.cert, ALPNProtocols: ['http/1.1'] }, () => send(socket, () => tcp.resetAndDestroy()));
    socket.on('error', () => {});
  });
}

describe('REMOTE_ADDR', () => {
  it('is the address of a client that resets its connection right after its request', async () => {
    const seen: Array<{ address: unknown; port: unknown }> = [];
    const server = await start(recordingPeers(seen), { host: '127.0.0.1' });
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

  it('is the address of a client that resets its connection right after its request over TLS: HTTPS, and HTTP/1.1 under http2: true', async () => {
    for (const http2 of [false, true]) {
      const seen: Array<{ address: unknown; port: unknown }> = [];
      const server = await start(recordingPeers(seen), { host: '127.0.0.1', tls: { cert: certificate.cert, key: certificate.key }, http2 });
      for (let i = 0; i < 5; i++) {
        await tlsThenReset(server.port, (socket, reset) => {
          socket.write('POST /comments HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi', reset);
        });
      }
      await until(() => seen.length === 5);
      for (const peer of seen) expect({ http2, ...peer }).toEqual({ http2, address: '127.0.0.1', port: expect.stringMatching(/^\d+$/) });
    }
  });
});
