/**
 * `compress` under `toFetchHandler` on workerd: workerd reads a `Response`'s `Content-Encoding`
 * as an order to encode its body itself, unless the response says `encodeBody: 'manual'`; the
 * adapter's bodies are already coded, so without it a gzip or br answer went out compressed
 * twice (and a streamed one buffered whole). Over a real socket on 127.0.0.1.
 */
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startWorkerd } from './rows.ts';

let server: RunningServer;

beforeAll(async () => {
  server = await startWorkerd(fileURLToPath(new URL('./scripts/workerd-compress.ts', import.meta.url)), '/ready');
});
afterAll(() => server?.stop());

/** GETs `path` with `Accept-Encoding: coding`: the raw chunks and when each came, in ms. */
function get(path: string, coding: string): Promise<{ encoding?: string; chunks: Array<{ at: number; bytes: Buffer }> }> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    http.get(`${server.origin}${path}`, { headers: { 'accept-encoding': coding } }, (res) => {
      const chunks: Array<{ at: number; bytes: Buffer }> = [];
      res.on('data', (bytes: Buffer) => chunks.push({ at: Date.now() - start, bytes }));
      res.on('end', () => resolve({ encoding: res.headers['content-encoding'], chunks }));
    }).on('error', reject);
  });
}

const decode = { gzip: zlib.gunzipSync, br: zlib.brotliDecompressSync, deflate: zlib.inflateSync } as const;

it.each(['gzip', 'br', 'deflate'] as const)('sends %s once, a body in memory and a streamed one chunk by chunk', async (coding) => {
  const memory = await get('/memory', coding);
  expect(memory.encoding).toBe(coding);
  expect(decode[coding](Buffer.concat(memory.chunks.map((c) => c.bytes))).toString()).toBe('x'.repeat(5000));

  const stream = await get('/stream', coding);
  expect(stream.encoding).toBe(coding);
  expect(decode[coding](Buffer.concat(stream.chunks.map((c) => c.bytes))).toString()).toBe('first\nsecond\n');
  // The first chunk is flushed before the second is made (300 ms later).
  expect(stream.chunks[0]!.at).toBeLessThan(stream.chunks.at(-1)!.at - 150);
});

it('answers a fetch handler’s Response whose body workerd has not coded as its text', async () => {
  // workerd codes such a body itself when it sends it (no `encodeBody: 'manual'`), as it decodes
  // what `fetch()` and service bindings answer: its bytes are the text, not gzip.
  for (const coding of ['identity', 'gzip'] as const) {
    const { encoding, chunks } = await get('/inner', coding);
    const bytes = Buffer.concat(chunks.map((c) => c.bytes));
    const text = encoding === 'gzip' ? zlib.gunzipSync(bytes).toString() : bytes.toString();
    expect(text === 'inner '.repeat(1000)).toBe(true);
    expect(encoding).toBe(coding === 'gzip' ? 'gzip' : undefined);
  }
});

it('keeps a fetch handler’s deflate answer coded as it is, its Content-Encoding with it', async () => {
  // workerd decodes and codes only gzip and br: a deflate body is what the handler made.
  const { encoding, chunks } = await get('/inner-deflate', 'deflate');
  expect(encoding).toBe('deflate');
  expect(zlib.inflateSync(Buffer.concat(chunks.map((c) => c.bytes))).toString() === 'inner '.repeat(1000)).toBe(true);
});

it('answers a HEAD to a fetch handler’s gzip answer without the coded length, and not a length of 0', async () => {
  // The GET's body is the decoded text, whose length the HEAD answer does not know.
  const head = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.request(`${server.origin}/inner`, { method: 'HEAD', headers: { 'accept-encoding': 'identity' } }, resolve).on('error', reject).end();
  });
  head.resume();
  expect(head.statusCode).toBe(200);
  expect(head.headers['content-encoding']).toBeUndefined();
  expect(head.headers['content-length']).toBeUndefined();
});

it('stops a Worker whose node:zlib cannot encode (no_nodejs_zlib) as it loads, with one line naming the cause', async () => {
  // workerd's node:zlib without the nodejs_zlib flag has the functions, which throw when called:
  // every answer compress coded was a 500. compress makes each encoder once when it is built.
  const entry = fileURLToPath(new URL('./scripts/workerd-compress.ts', import.meta.url));
  const started = startWorkerd(entry, '/ready', ['nodejs_compat', 'no_nodejs_zlib']);
  await expect(started.then((other) => other.stop())).rejects.toThrow(
    /Uncaught TypeError: compress: this runtime's node:zlib cannot encode br \(Compatibility flag "nodejs_zlib" is not enabled\)/,
  );
});
