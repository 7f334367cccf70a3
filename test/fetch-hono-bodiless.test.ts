/**
 * `toFetchHandler` served by `@hono/node-server`: answers that carry no body (HEAD, 204, 304,
 * 205: RFC 9110 §9.3.2, §15.3.5, §15.4.5, §15.3.6) whose app gave one anyway (bytes in hand, a
 * stream, a stream with a declared `Content-Length`, nothing, a stream the app framed itself
 * with `Content-Length` and `Transfer-Encoding: chunked`) go out with no `Transfer-Encoding` and
 * no body, so the next answer on the same connection is read from the
 * right byte: the adapter hands the server a `null` body for them, and drops the app's
 * `Transfer-Encoding` (a hop-by-hop field, the server's to send), which Node's server sent as
 * given, a HEAD answer then claiming a chunked body that never comes. Over a real socket on
 * 127.0.0.1, two requests pipelined on one connection.
 */
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { type FetchServer, serveFetch } from './fetch-helpers.ts';

const enc = new TextEncoder();

async function* twoChunks(): AsyncGenerator<Uint8Array> {
  yield enc.encode('hello');
  await new Promise((resolve) => setTimeout(resolve, 10));
  yield enc.encode('world');
}

const STATUS: Record<string, string> = { '200': '200 OK', '204': '204 No Content', '205': '205 Reset Content', '304': '304 Not Modified' };

/** `/<code>/<kind>`: that status, and a body of that kind. */
const app: App = (environ, start) => {
  const [, code, kind] = String(environ.PATH_INFO).split('/');
  const fields: Array<[string, string]> = [['Content-Type', 'text/plain'], ['ETag', '"v1"']];
  if (kind === 'declared' || kind === 'framed') fields.push(['Content-Length', '10']);
  if (kind === 'framed') fields.push(['Transfer-Encoding', 'chunked']);
  start(STATUS[code!]!, fields);
  if (kind === 'empty') return [];
  return kind === 'array' ? [enc.encode('helloworld')] : twoChunks();
};

let server: FetchServer;
beforeAll(async () => {
  server = await serveFetch(toFetchHandler(app));
});
afterAll(() => server?.close());

/** Sends `first`, then a GET of `/200/array` on the same connection; answers all that came once the second answer's body is in. */
function pipelined(first: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write(`${first}GET /200/array HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}

const cases = ['HEAD 200', 'HEAD 204', 'HEAD 304', 'HEAD 205', 'GET 204', 'GET 304', 'GET 205'].flatMap((request) =>
  ['array', 'stream', 'declared', 'empty', 'framed'].map((kind) => [request, kind] as const),
);

it.each(cases)('sends %s with a dropped %s body without Transfer-Encoding or body bytes', async (request, kind) => {
  const [method, code] = request.split(' ');
  const received = await pipelined(`${method} /${code}/${kind} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  const end = received.indexOf('\r\n\r\n') + 4;
  const head = received.slice(0, end);
  expect(head.startsWith(`HTTP/1.1 ${STATUS[code!]!}\r\n`), head).toBe(true);
  expect(head.toLowerCase()).not.toContain('transfer-encoding');
  // Nothing between the first head and the second answer, whose body is whole.
  expect(received.slice(end).startsWith('HTTP/1.1 200 OK\r\n'), received).toBe(true);
  expect(received.endsWith('\r\n\r\nhelloworld')).toBe(true);
});
