/**
 * The graceful close and a connection that has sent nothing yet (a browser's preconnect, a
 * client that opened a connection for its next request): under `idle: 'close'` (the default)
 * it is closed once it has been silent for a second from its accept (Go's `Shutdown` waits 5 s,
 * uvicorn not at all), so a client that connected just before the close still gets its answer
 * (test/node-serve-limits.test.ts); it held
 * `close()` until `firstByteTimeout` or the close's own `timeout`, 10 s each by default, where
 * every stream and request had long ended. Over TLS, one that has sent nothing past its
 * handshake (an HTTPS preconnect) is closed too, its second running from the handshake. One
 * whose request has begun (part of a head sent) is still answered, however long it has been
 * open. A server on a Unix socket (`path`) does the same, and so does `idle: 'expire'`, which
 * keeps idle keep-alive connections only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { Request, Response, serve } from 'tsgi';
import { sleep, until } from './node-helpers.ts';
import { makeCertificate } from './tls-helpers.ts';

const app = Request.application((req) => new Response(`hello ${req.path}\n`));

/** `socket` once it has emitted `ready` (`connect`, or `secureConnect`), with what it has read and whether it closed. */
async function watched<S extends net.Socket>(socket: S, ready: 'connect' | 'secureConnect') {
  const seen = { text: '', closed: false };
  socket.on('data', (chunk: Buffer) => (seen.text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('close', () => (seen.closed = true));
  await new Promise((resolve) => socket.once(ready, resolve));
  return { socket, seen };
}

/** A raw connection to `url` (or the Unix socket `unix:<path>`). */
function connect(url: string) {
  return watched(url.startsWith('unix:') ? net.connect(url.slice('unix:'.length)) : net.connect(Number(new URL(url).port), '127.0.0.1'), 'connect');
}

/** A TLS connection by `options` (a certificate not checked), its handshake done. */
function connectTls(options: tls.ConnectionOptions) {
  return watched(tls.connect({ rejectUnauthorized: false, ...options }), 'secureConnect');
}

/** Two raw connections to `server`, both accepted: one to stay silent, one to send a request late. */
async function twoConnections(server: { server: unknown; url: string }) {
  let accepted = 0;
  (server.server as net.Server).on('connection', () => accepted++);
  const silent = await connect(server.url);
  const late = await connect(server.url);
  await until(() => accepted === 2);
  return { silent, late };
}

/** Longer (ms) than the second from its accept a silent connection is given in the close. */
const PAST_GRACE = 1_200;

/** `text` is the app's answer to `GET /late`, the connection's last (`Connection: close`). */
function expectLastAnswer(text: string): void {
  expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  expect(text).toMatch(/\r\nConnection: close\r\n/i);
  expect(text).toContain('hello /late');
}

describe('close() and a connection that has sent nothing', () => {
  for (const http2 of [undefined, 'h2c'] as const) {
    it(`closes it after a second of silence${http2 ? ' (h2c)' : ''}, instead of waiting for firstByteTimeout or the close's timeout`, async () => {
      const server = await serve(app, { host: '127.0.0.1', port: 0, ...(http2 ? { http2 } : {}) });
      // The server has accepted it before the close begins.
      const accepted = new Promise((resolve) => (server.server as net.Server).once('connection', resolve));
      const silent = await connect(server.url);
      await accepted;
      const started = performance.now();
      await server.close({ timeout: 5000 });
      expect(performance.now() - started).toBeLessThan(3000);
      await until(() => silent.seen.closed);
      expect(silent.seen.text).toBe('');
    });
  }

  // Under `idle: 'expire'` (SIGTERM in `tsgi serve`) idle keep-alive connections stay, but a
  // silent new one has the same second: it held the close until `firstByteTimeout`.
  for (const http2 of [undefined, 'h2c'] as const) {
    it(`closes it after a second of silence under idle: 'expire' too${http2 ? ' (h2c)' : ''}, and answers one that sends its request within it`, async () => {
      const server = await serve(app, { host: '127.0.0.1', port: 0, firstByteTimeout: 8000, ...(http2 ? { http2 } : {}) });
      const { silent, late } = await twoConnections(server);
      const started = performance.now();
      const closing = server.close({ idle: 'expire', timeout: 6000 });
      await sleep(200);
      late.socket.write('GET /late HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await until(() => silent.seen.closed);
      expect(performance.now() - started).toBeLessThan(3000);
      expect(silent.seen.text).toBe('');
      await closing;
      expect(performance.now() - started).toBeLessThan(3000);
      await until(() => late.seen.closed);
      expectLastAnswer(late.seen.text);
    });
  }

  it('answers one that connected just before the close and sends its request a moment into it', async () => {
    const server = await serve(app, { host: '127.0.0.1', port: 0 });
    const accepted = new Promise((resolve) => (server.server as net.Server).once('connection', resolve));
    const late = await connect(server.url);
    await accepted;
    const closing = server.close({ timeout: 5000 });
    // A few of the close's sweeps (every 25 ms) pass before the request is sent.
    await sleep(200);
    late.socket.write('GET /late HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await closing;
    await until(() => late.seen.closed);
    expectLastAnswer(late.seen.text);
  });

  it('answers an h2c one that connected just before the close and sends its preface and request a moment into it', async () => {
    const server = await serve(app, { host: '127.0.0.1', port: 0, http2: 'h2c' });
    const accepted = new Promise((resolve) => (server.server as net.Server).once('connection', resolve));
    const late = await connect(server.url);
    await accepted;
    const closing = server.close({ timeout: 5000 });
    await sleep(200);
    const session = http2.connect(server.url, { createConnection: () => late.socket });
    session.on('error', () => undefined);
    const answer = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ':path': '/late' });
      let text = '';
      stream.on('response', (fields) => (text += `${fields[':status']} `));
      stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      stream.on('end', () => resolve(text));
      stream.on('error', reject);
    });
    expect(answer).toBe('200 hello /late\n');
    session.close();
    await closing;
  });

  it('still answers one whose head had begun, with Connection: close', async () => {
    const server = await serve(app, { host: '127.0.0.1', port: 0 });
    const started = await connect(server.url);
    started.socket.write('GET /late HTTP/1.1\r\n');
    await until(() => started.socket.bytesWritten > 0);
    // Past the second a silent connection is given: what keeps it open is the head begun.
    await sleep(PAST_GRACE);
    const closing = server.close({ timeout: 5000 });
    started.socket.write('Host: 127.0.0.1\r\n\r\n');
    await closing;
    await until(() => started.seen.closed);
    expectLastAnswer(started.seen.text);
  });
  // A browser's HTTPS preconnect completes the TLS handshake and then sends nothing: the TCP
  // socket has read the ClientHello, but no request has begun on the TLS one.
  for (const http2 of [false, true]) {
    it(`closes, after a second of silence, a TLS connection whose handshake is done and that has sent no request${http2 ? ' (HTTP/2 server)' : ''}`, async () => {
      const certificate = await makeCertificate();
      const server = await serve(app, { host: '127.0.0.1', port: 0, tls: { cert: certificate.cert, key: certificate.key }, ...(http2 ? { http2: true } : {}) });
      const secured = new Promise((resolve) => (server.server as tls.Server).once('secureConnection', resolve));
      const { seen } = await connectTls({ host: '127.0.0.1', port: Number(new URL(server.url).port), ALPNProtocols: ['http/1.1'] });
      await secured;
      const started = performance.now();
      await server.close({ timeout: 5000 });
      expect(performance.now() - started).toBeLessThan(3000);
      await until(() => seen.closed);
    });
  }
  it('still answers a TLS connection whose head had begun, with Connection: close', async () => {
    const certificate = await makeCertificate();
    const server = await serve(app, { host: '127.0.0.1', port: 0, tls: { cert: certificate.cert, key: certificate.key } });
    const { socket, seen } = await connectTls({ host: '127.0.0.1', port: Number(new URL(server.url).port) });
    socket.write('GET /late HTTP/1.1\r\n');
    await sleep(PAST_GRACE); // as above
    const closing = server.close({ timeout: 5000 });
    await sleep(60); // past a sweep of the idle connections
    socket.write('Host: 127.0.0.1\r\n\r\n');
    await closing;
    await until(() => seen.closed);
    expectLastAnswer(seen.text);
  });

  it('on a Unix socket (path) too: closes a silent one after its second, answers one that sends a moment into the close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-silent-'));
    try {
      const server = await serve(app, { path: join(dir, 'app.sock') });
      const { silent, late } = await twoConnections(server);
      const started = performance.now();
      const closing = server.close({ timeout: 5000 });
      await sleep(200);
      late.socket.write('GET /late HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await closing;
      expect(performance.now() - started).toBeLessThan(3000);
      await until(() => silent.seen.closed && late.seen.closed);
      expect(silent.seen.text).toBe('');
      expectLastAnswer(late.seen.text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers a TLS connection whose handshake finishes during the close and that then sends its request', async () => {
    const certificate = await makeCertificate();
    const server = await serve(app, { host: '127.0.0.1', port: 0, tls: { cert: certificate.cert, key: certificate.key } });
    // The TCP connection is accepted before the close; its handshake begins 0.8 s after the accept.
    const accepted = new Promise((resolve) => (server.server as net.Server).once('connection', resolve));
    const raw = await connect(server.url);
    await accepted;
    await sleep(400);
    const closing = server.close({ timeout: 5000 });
    await sleep(400);
    const { socket, seen } = await connectTls({ socket: raw.socket });
    // Past a second from the accept, within one from the handshake: its second runs from there.
    await sleep(500);
    socket.write('GET /late HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await closing;
    await until(() => seen.closed);
    expectLastAnswer(seen.text);
  });
});
