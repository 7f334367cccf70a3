/**
 * Run by test/runtimes/compress-flush.test.ts under Bun and Deno: `compress` in front of a body
 * streamed in two chunks 300 ms apart, served by the runtime through `toFetchHandler`, and a
 * client over a real socket. Prints, for each coding, what the bytes that arrived in the first
 * 150 ms decode to (the first chunk, when each chunk is flushed as it comes).
 */
import http from 'node:http';
import zlib from 'node:zlib';
import { Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { compress } from 'tsgi/middleware';
import { listenOnRuntime } from './listen.ts';


const encoder = new TextEncoder();

async function* twoChunks(): AsyncGenerator<Uint8Array> {
  yield encoder.encode('first\n');
  await new Promise((resolve) => setTimeout(resolve, 300));
  yield encoder.encode('second\n');
}

const handler = toFetchHandler(compress(Request.application(() => new Response(twoChunks(), { contentType: 'text/plain' }))));

const { port, stop } = listenOnRuntime(handler);

const decoders = {
  gzip: (bytes: Buffer) => zlib.gunzipSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  deflate: (bytes: Buffer) => zlib.inflateSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  br: (bytes: Buffer) => zlib.brotliDecompressSync(bytes, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }),
};

for (const coding of ['gzip', 'deflate', 'br'] as const) {
  const early = await new Promise<Buffer>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', headers: { 'accept-encoding': coding } }, (res) => {
      const start = Date.now();
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        if (Date.now() - start < 150) chunks.push(chunk);
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
    }).on('error', reject);
  });
  console.log(`${coding} ${JSON.stringify(decoders[coding](early).toString())}`);
}
await stop();
process.exit(0);
