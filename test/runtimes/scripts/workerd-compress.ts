/**
 * A Worker for test/runtimes/workerd-compress.test.ts: `compress` in front of a body streamed in
 * two chunks 300 ms apart (`/stream`), of one in memory (`/memory`), and of a fetch handler's
 * `Response` that carries `Content-Encoding: gzip` over a body workerd has not coded
 * (`/inner`: a Worker's own `Response`, as `fetch()` and service bindings answer too), and of
 * one whose body is coded in `deflate`, a coding workerd neither decodes nor codes (`/inner-deflate`).
 */
import zlib from 'node:zlib';
import { Request, Response } from 'tsgi';
import { fromFetchHandler, toFetchHandler } from 'tsgi/fetch';
import { compress, mount } from 'tsgi/middleware';

const encoder = new TextEncoder();

async function* twoChunks(): AsyncGenerator<Uint8Array> {
  yield encoder.encode('first\n');
  await new Promise((resolve) => setTimeout(resolve, 300));
  yield encoder.encode('second\n');
}

/** The text `/inner` answers. */
const INNER = 'inner '.repeat(1000);

const inner = fromFetchHandler(
  // To a HEAD, no body and the coded length, as workerd's `fetch()` answers it.
  (request) =>
    request.method === 'HEAD'
      ? new globalThis.Response(null, { headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip', 'Content-Length': '43' } })
      : new globalThis.Response(INNER, { headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' } }),
);

/** A handler's own deflate body, which workerd sends as it is (it codes and decodes only gzip and br). */
const innerDeflate = fromFetchHandler(
  () => new globalThis.Response(zlib.deflateSync(INNER), { headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'deflate' } }),
);

const site = Request.application((req) => {
  if (req.pathInfo === '/memory') return new Response('x'.repeat(5000), { contentType: 'text/plain' });
  if (req.pathInfo === '/stream') return new Response(twoChunks(), { contentType: 'text/plain' });
  return new Response('ok');
});

const app = compress(mount({ '/inner-deflate': innerDeflate, '/inner': inner, '/': site }));

export default { fetch: toFetchHandler(app) };
