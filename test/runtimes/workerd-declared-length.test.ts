/**
 * A streamed answer whose app declares its `Content-Length` (a file from `fileApp` or
 * `directoryApp`, a download of a known size), under `toFetchHandler` on workerd: it goes out
 * with that length, as under `serve()`, Deno and `@hono/node-server`. workerd drops the field
 * of a stream it is not told the length of and sends the body chunked, so a browser showed no
 * size or progress for the download. Over a real socket on 127.0.0.1.
 */
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startWorkerd } from './rows.ts';

let server: RunningServer;

beforeAll(async () => {
  server = await startWorkerd(fileURLToPath(new URL('./scripts/workerd-declared-length.ts', import.meta.url)), '/ready');
});
afterAll(() => server?.stop());

/** GETs `path`: the response's fields, the bytes received and whether the body ended complete. */
function get(path: string): Promise<{ headers: http.IncomingHttpHeaders; bytes: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    http.get(`${server.origin}${path}`, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.byteLength));
      const done = () => resolve({ headers: res.headers, bytes, complete: res.complete });
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    }).on('error', reject);
  });
}

it('sends a streamed body with the Content-Length its app declared, not chunked', async () => {
  const { headers, bytes, complete } = await get('/sized');
  expect(headers['content-length']).toBe('10000');
  expect(headers['transfer-encoding']).toBeUndefined();
  expect(bytes).toBe(10000);
  expect(complete).toBe(true);
});

it('cuts a streamed body shorter than its declared length', async () => {
  const { headers, bytes, complete } = await get('/short');
  expect(headers['content-length']).toBe('20000');
  expect(bytes).toBeLessThan(20000);
  expect(complete).toBe(false);
});

it('still sends a body of no declared length chunked', async () => {
  const { headers, bytes, complete } = await get('/unsized');
  expect(headers['content-length']).toBeUndefined();
  expect(headers['transfer-encoding']).toBe('chunked');
  expect(bytes).toBe(10000);
  expect(complete).toBe(true);
});
