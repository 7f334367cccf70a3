/**
 * `Content-Length` with `Transfer-Encoding` under `toFetchHandler` on workerd, the pair a
 * request-smuggling attack sends (RFC 9112 §6.1, §6.3). A request with both: workerd reads the
 * body chunked and hands the Worker no `Content-Length` (the app sees the chunked body's bytes,
 * `CONTENT_LENGTH` unset), answers with `Connection: close` and closes the connection, so a
 * request smuggled behind the body is never read. An answer whose app gives both: the adapter
 * drops the app's `Transfer-Encoding` (the runtime owns the framing), and the answer goes out
 * with its `Content-Length` alone, to GET and HEAD. Over a real socket on 127.0.0.1.
 */
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startWorkerd } from './rows.ts';

let server: RunningServer;

beforeAll(async () => {
  server = await startWorkerd(fileURLToPath(new URL('./scripts/workerd-framing.ts', import.meta.url)), '/both');
});
afterAll(() => server?.stop());

/** Writes `text` on a new connection; answers all that came back until workerd closed it (or 2 s passed). */
function exchange(text: string): Promise<{ received: string; closed: boolean }> {
  const { hostname, port } = new URL(server.origin);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(text));
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ received, closed: false });
    }, 2000);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received, closed: true });
    });
  });
}

/** The lower-case names of the head's fields in `received`. */
const fieldNames = (received: string): string[] =>
  received
    .slice(0, received.indexOf('\r\n\r\n'))
    .split('\r\n')
    .slice(1)
    .map((line) => line.slice(0, line.indexOf(':')).toLowerCase());

it('reads a request with Content-Length and Transfer-Encoding as chunked, without its Content-Length, and closes the connection after', async () => {
  const smuggled = 'GET /both HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
  const { received, closed } = await exchange(
    `POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n${smuggled}`,
  );
  expect(received.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  expect(JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4))).toEqual({ contentLength: null, transferEncoding: 'chunked', body: 'hello' });
  expect(received.match(/HTTP\/1\.1 /g)).toHaveLength(1); // the smuggled request was not served
  expect(closed).toBe(true);
});

it.each(['/both', '/both-stream'])('answers an app that gives Content-Length and Transfer-Encoding (%s) with Content-Length alone', async (path) => {
  const { received } = await exchange(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  expect(fieldNames(received)).toContain('content-length');
  expect(fieldNames(received)).not.toContain('transfer-encoding');
  expect(received.slice(received.indexOf('\r\n\r\n') + 4)).toBe('helloworld');
  const head = await exchange(`HEAD ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  expect(fieldNames(head.received)).toContain('content-length');
  expect(fieldNames(head.received)).not.toContain('transfer-encoding');
  expect(head.received.endsWith('\r\n\r\n')).toBe(true);
});
