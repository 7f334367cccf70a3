/**
 * A Worker for test/runtimes/workerd-declared-length.test.ts: bodies streamed in two chunks
 * 100 ms apart whose app declares its `Content-Length` (`/sized`, as `fileApp` streams a file),
 * one that declares more than it sends (`/short`), and one that declares none (`/unsized`).
 */
import { Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';

const encoder = new TextEncoder();

async function* twoChunks(): AsyncGenerator<Uint8Array> {
  yield encoder.encode('a'.repeat(5000));
  await new Promise((resolve) => setTimeout(resolve, 100));
  yield encoder.encode('b'.repeat(5000));
}

const app = Request.application((req) => {
  if (req.pathInfo === '/ready') return new Response('ok');
  const res = new Response(twoChunks(), { contentType: 'application/octet-stream' });
  if (req.pathInfo === '/sized') res.headers.set('Content-Length', '10000');
  if (req.pathInfo === '/short') res.headers.set('Content-Length', '20000');
  return res;
});

export default { fetch: toFetchHandler(app) };
