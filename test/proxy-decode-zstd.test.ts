/**
 * `decodeContent` over a `proxy` of an upstream answering in zstd, over sockets: a frame whose
 * window is past RFC 9659's 8 MiB is a 502 naming it, one of 8 MiB decodes, a frame cut short
 * is refused on every Node, and a bomb (32 kB making 1 GiB) is decoded no further than the
 * client reads.
 */
import http from 'node:http';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { decodeContent, proxy } from 'tsgi/proxy';
import { request, sleep, start, until } from './node-helpers.ts';
import { countZstdOutput, rleFrame } from './fixtures/zstd-frames.ts';

const MiB = 1024 * 1024;
/** zlib has zstd from Node 22.15 and 23.8; `engines` accepts any 22. */
const hasZstd = typeof zlib.createZstdDecompress === 'function';

/**
 * The upstream: `/window-N` is 16 MiB of `a` in a zstd frame of window 2^N; `/bomb`, 1 GiB in a
 * window of 128 KiB; `/cut`, a frame of `hello world` without its last 2 bytes (its length
 * declared as sent).
 */
const upstreamApp: App = (environ, startResponse) => {
  const path = environ.PATH_INFO ?? '';
  const body =
    path === '/bomb' ? rleFrame(17, 2 ** 30) : path === '/cut' ? zlib.zstdCompressSync('hello world').subarray(0, -2) : rleFrame(Number(path.slice('/window-'.length)), 16 * MiB);
  startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Encoding', 'zstd'], ['Content-Length', String(body.byteLength)]]);
  return [body];
};

describe.skipIf(!hasZstd)('decodeContent: zstd from an upstream', () => {
  it('answers 502 naming the window for a zstd window past 8 MiB (RFC 9659 §3), and decodes one of 8 MiB', async () => {
    const upstream = await start(upstreamApp);
    const server = await start(decodeContent(proxy(upstream.url)));
    for (const windowLog of [24, 27]) {
      const res = await request(`${server.url}/window-${windowLog}`, { headers: { 'accept-encoding': 'zstd' } });
      expect([res.status, res.body.toString()], String(windowLog)).toEqual([502, expect.stringContaining('zstd window is larger than 8 MiB')]);
    }
    expect(server.log.messages.join('\n')).toContain('decodeContent: the response body is not valid zstd');
    const fits = await request(`${server.url}/window-23`, { headers: { 'accept-encoding': 'zstd' } });
    expect([fits.status, fits.headers['content-encoding'], fits.body.byteLength]).toEqual([200, undefined, 16 * MiB]);
    expect(fits.body.every((byte) => byte === 0x61)).toBe(true);
  });

  it('refuses a frame cut short, on every Node (Node 22.23\'s decoder ends one without a word): the connection cut', async () => {
    const upstream = await start(upstreamApp);
    const server = await start(decodeContent(proxy(upstream.url)));
    // The head went out with the upstream's first chunk: the refusal cuts the connection.
    await expect(request(`${server.url}/cut`, { headers: { 'accept-encoding': 'zstd' } })).rejects.toThrow();
    expect(server.log.messages.join('\n')).toContain('decodeContent: the response body is not valid zstd (unexpected end of file)');
  });

  it('decodes a zstd bomb no further than the client reads', async () => {
    const zstdOutput = countZstdOutput();
    try {
      const upstream = await start(upstreamApp);
      const server = await start(decodeContent(proxy(upstream.url)));
      let received = 0;
      const req = http.get(`${server.url}/bomb`, { agent: false, headers: { 'accept-encoding': 'zstd' } }, (res) => {
        expect(res.statusCode).toBe(200);
        res.on('data', (chunk: Buffer) => {
          received += chunk.byteLength;
          if (received >= MiB) res.pause(); // reads no more
        });
      });
      req.on('error', () => {});
      await until(() => received >= MiB);
      await sleep(300);
      const settled = zstdOutput.produced();
      req.destroy();
      // The socket buffers hold a few MiB; a decoder running on would have made the whole GiB.
      expect(settled).toBeLessThan(32 * MiB);
    } finally {
      zstdOutput.restore();
    }
  });
});
