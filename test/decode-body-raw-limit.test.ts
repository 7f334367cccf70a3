/**
 * `decodeBody` (tsgi/middleware) above a raw app that reads `tsgi.input` itself, over a real
 * socket: a body past `maxSize`, decoded or coded, is the client's `413` with its reason
 * whether the app lets the read's error through or wraps it in its own (`{ cause }`), as the
 * body readers' failures are (`bodyFailureBehind`); corrupt data is the `400` the same way.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { decodeBody } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

/** A raw app that reads `tsgi.input` and counts it; `wrap` makes a read's failure its own error, the read's in its `cause`. */
function rawReader(wrap: boolean): App {
  return async (environ, startResponse) => {
    let size = 0;
    try {
      for await (const chunk of environ['tsgi.input']!) size += chunk.byteLength;
    } catch (error) {
      if (wrap) throw new Error('ingest: reading the upload failed', { cause: error });
      throw error;
    }
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [new TextEncoder().encode(String(size))];
  };
}

const post = (url: string, body: Uint8Array, headers: Record<string, string>) => request(url, { method: 'POST', body, headers });

describe('decodeBody above a raw app', () => {
  const bomb = zlib.gzipSync(Buffer.alloc(4 * 1024 * 1024)); // 4 MiB of zeros, ~4 kB coded

  it('answers a decoded body past maxSize 413 with its reason, whether the raw app lets the error through or wraps it', async () => {
    for (const wrap of [false, true]) {
      const server = await start(decodeBody(rawReader(wrap), { maxSize: 1024 * 1024 }));
      for (const framing of [{}, { 'Transfer-Encoding': 'chunked' }] as Record<string, string>[]) {
        const res = await post(server.url, bomb, { 'Content-Encoding': 'gzip', ...framing });
        expect([wrap, res.status, res.body.toString()]).toEqual([wrap, 413, expect.stringContaining('maxSize exceeded: the decoded body is larger than 1048576 bytes')]);
      }
      // Not the app's failure: nothing logged.
      expect(server.log.text).toBe('');
    }
  });

  it('answers a coded body past maxSize (chunked, so counted while read) 413, and corrupt data 400, from a wrapping raw app', async () => {
    const server = await start(decodeBody(rawReader(true), { maxSize: 16 * 1024 }));
    const empties = Buffer.concat(Array.from({ length: 2000 }, () => zlib.gzipSync(''))); // ~40 kB coded, decodes to nothing
    const coded = await post(server.url, empties, { 'Content-Encoding': 'gzip', 'Transfer-Encoding': 'chunked' });
    expect([coded.status, coded.body.toString()]).toEqual([413, expect.stringContaining('16384 bytes')]);
    const corrupt = await post(server.url, new TextEncoder().encode('not gzip at all'), { 'Content-Encoding': 'gzip' });
    expect([corrupt.status, corrupt.body.toString()]).toEqual([400, expect.stringContaining('The body is not valid gzip data.')]);
    expect(server.log.text).toBe('');
  });

  it('answers the same 413 to an app reading through Request, wrapped or not', async () => {
    const wrapped = Request.application(async (req) => {
      try {
        return new Response(String((await req.bytes()).byteLength));
      } catch (error) {
        throw new Error('ingest failed', { cause: error });
      }
    });
    const server = await start(decodeBody(wrapped, { maxSize: 1024 * 1024 }));
    const res = await post(server.url, bomb, { 'Content-Encoding': 'gzip' });
    expect([res.status, res.body.toString()]).toEqual([413, expect.stringContaining('maxSize exceeded: the decoded body is larger than 1048576 bytes')]);
  });
});
