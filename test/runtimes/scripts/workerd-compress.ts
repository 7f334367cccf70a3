/**
 * A Worker for test/runtimes/workerd-compress.test.ts: `compress` in front of a body streamed in
 * two chunks 300 ms apart (`/stream`), and of one in memory (`/memory`).
 */
import { Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { compress } from 'tsgi/middleware';

const encoder = new TextEncoder();

async function* twoChunks(): AsyncGenerator<Uint8Array> {
  yield encoder.encode('first\n');
  await new Promise((resolve) => setTimeout(resolve, 300));
  yield encoder.encode('second\n');
}

const app = compress(
  Request.application((req) => {
    if (req.pathInfo === '/memory') return new Response('x'.repeat(5000), { contentType: 'text/plain' });
    if (req.pathInfo === '/stream') return new Response(twoChunks(), { contentType: 'text/plain' });
    return new Response('ok');
  }),
);

export default { fetch: toFetchHandler(app) };
