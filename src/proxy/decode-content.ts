/**
 * Decoding compressed response bodies ({@link decodeContent}), as WebOb's
 * `Response.decode_content()`, streamed.
 *
 * @module
 */
import zlib from 'node:zlib';
import type { App, AppLike, Body } from '../gateway/types.ts';
import { bodyFilter } from '../middleware/body-filter.ts';

type Decoding = 'gzip' | 'deflate' | 'br';
const CODINGS: Record<string, Decoding> = { gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate', br: 'br' };

/**
 * Decodes response bodies sent with `Content-Encoding: gzip` (or `x-gzip`), `deflate` (zlib or
 * raw, as servers send both) or `br`, so a filter between it and the client can read the
 * text, and drops the `Content-Encoding` field; put `compress` on top to encode the result
 * again for clients that ask. Like every body filter, it drops `Content-Length` and
 * `Accept-Ranges`, makes a strong `ETag` weak, and leaves HEAD, 204, 304 and 206 answers
 * alone. A body with another coding, or several, passes through untouched.
 *
 * The body is decoded as it streams: each chunk the app yields is decompressed before the next
 * is asked for. Corrupt data makes the body throw an `Error` that names the coding and the
 * decoder's reason (`decodeContent: the response body is not valid gzip (incorrect header
 * check)`), so the server cuts the connection, or answers 500 if the head is not out yet.
 *
 * @example
 * ```ts
 * import { compress } from 'tsgi/middleware';
 * import { decodeContent, proxy, rewriteHtml } from 'tsgi/proxy';
 *
 * // The upstream gzips; the rewriter reads text; compress encodes for the client again.
 * export const app = compress(rewriteHtml(decodeContent(proxy(OLD)), { elements: { … } }));
 * ```
 */
export function decodeContent(app: AppLike): App {
  return bodyFilter(app, (headers) => {
    const values = headers.getAll('content-encoding');
    if (values.length !== 1) return null;
    const coding = CODINGS[values[0]!.trim().toLowerCase()];
    if (coding === undefined) return null;
    headers.delete('content-encoding');
    return (body) => decodeStream(body, coding);
  });
}

/** A zlib header (RFC 1950 §2.2): deflate method, and a check value that divides by 31. */
function isZlibHeader(first: Uint8Array): boolean {
  return first.byteLength >= 2 && (first[0]! & 0x0f) === 8 && ((first[0]! << 8) | first[1]!) % 31 === 0;
}

function decoder(coding: Decoding, first: Uint8Array): zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress {
  const options = { readableHighWaterMark: OUTPUT_BUFFER } as zlib.ZlibOptions & zlib.BrotliOptions;
  if (coding === 'br') return zlib.createBrotliDecompress(options);
  if (coding === 'gzip') return zlib.createGunzip(options);
  return isZlibHeader(first) ? zlib.createInflate(options) : zlib.createInflateRaw(options);
}

/** Large enough that zlib never waits for us to read before finishing a flush. */
const OUTPUT_BUFFER = 2 ** 30;

/**
 * Decodes `body` as a stream. The decoder is chosen at the first chunk (deflate: zlib or raw);
 * closing the result early closes `body` (the `for await` does).
 */
async function* decodeStream(body: Body, coding: Decoding): AsyncGenerator<Uint8Array, void, undefined> {
  let z: ReturnType<typeof decoder> | undefined;
  try {
    for await (const chunk of body) {
      if (chunk.byteLength === 0) continue;
      z ??= decoder(coding, chunk);
      const output = await inflate(z, chunk).catch((error: unknown) => Promise.reject(corrupt(coding, error)));
      if (output !== null && output.byteLength > 0) yield output;
    }
    if (z === undefined) return;
    z.end();
    const rest = (z as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    for (;;) {
      const step = await rest.next().catch((error: unknown) => Promise.reject(corrupt(coding, error)));
      if (step.done) return;
      yield step.value;
    }
  } finally {
    z?.destroy();
  }
}

/** The error for a body the decoder refused, naming the coding and the decoder's reason. */
function corrupt(coding: Decoding, error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(`decodeContent: the response body is not valid ${coding} (${reason})`, { cause: error });
}

/** Writes one chunk, flushes, and answers what the decoder produced from it. */
function inflate(z: ReturnType<typeof decoder>, chunk: Uint8Array): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    z.once('error', reject);
    z.write(chunk);
    z.flush(() => {
      z.off('error', reject);
      resolve(z.read() as Buffer | null);
    });
  });
}
