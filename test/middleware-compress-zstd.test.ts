/**
 * `compress` with `zstd` (RFC 8878; the HTTP coding of RFC 9659), decoded by a client with
 * node:zlib's zstd, over a socket: whole and streamed bodies, HEAD, ranges, an event stream,
 * the bounded window, and the refusal on a Node without zstd.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { compress, fileApp, lint } from 'tsgi/middleware';
import { deferred, request, start } from './node-helpers.ts';

const enc = new TextEncoder();
const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(200); // 9000 bytes
/** zlib has zstd from Node 22.15 and 23.8; `engines` accepts any 22. */
const hasZstd = typeof zlib.createZstdCompress === 'function';
const zlibFunctions = zlib as unknown as Record<string, unknown>;
const ZSTD = ['zstd', 'br', 'gzip', 'deflate'] as const;

/** A client's zstd decoder that refuses a window past 2^`windowLog` bytes (zstd's default: 2^27). */
const decoder = (windowLog = 27) => zlib.createZstdDecompress({ params: { [zlib.constants.ZSTD_d_windowLogMax]: windowLog } });

function unzstd(body: Buffer, windowLog?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const d = decoder(windowLog);
    const parts: Buffer[] = [];
    d.on('data', (part: Buffer) => parts.push(part));
    d.on('end', () => resolve(Buffer.concat(parts).toString()));
    d.on('error', reject);
    d.end(body);
  });
}

/** Runs `test` with zlib's zstd encoders hidden, as on a Node without zstd (22.0 to 22.14). */
function withoutZstd(test: () => void): void {
  const hidden = ['createZstdCompress', 'zstdCompress'].map((name) => [name, zlibFunctions[name]] as const);
  for (const [name] of hidden) delete zlibFunctions[name];
  try {
    test();
  } finally {
    for (const [name, value] of hidden) if (value !== undefined) zlibFunctions[name] = value;
  }
}

describe.skipIf(!hasZstd)('compress: zstd', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-zstd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('compresses a body in memory when listed, negotiated like the others, and not by default', async () => {
    const app = Request.application(() => new Response(TEXT, { contentType: 'text/plain' }));
    const server = await start(lint(compress(app, { encodings: [...ZSTD] })));
    for (const [accept, coding] of [
      ['gzip, deflate, br, zstd', 'zstd'],
      ['zstd', 'zstd'],
      ['ZSTD;q=0.9, gzip;q=0.5', 'zstd'],
      ['zstd;q=0.5, br', 'br'],
      ['*', 'zstd'],
      ['zstd;q=0, gzip', 'gzip'],
    ] as const) {
      const res = await request(server.url, { headers: { 'accept-encoding': accept } });
      expect(res.headers['content-encoding'], accept).toBe(coding);
      expect(res.headers.vary, accept).toBe('Accept-Encoding');
      expect(res.headers['content-length'], accept).toBe(String(res.body.length));
      if (coding === 'zstd') expect(await unzstd(res.body), accept).toBe(TEXT);
    }
    const byDefault = await start(compress(app));
    const res = await request(byDefault.url, { headers: { 'accept-encoding': 'zstd' } });
    expect([res.headers['content-encoding'], res.body.toString()]).toEqual([undefined, TEXT]);
  });

  it('applies zstdLevel (default 3), and refuses one out of 1 to 19 at once', async () => {
    const big = Array.from({ length: 4000 }, (_, i) => `row ${i}: ${(i * 7919) % 10007} ${'abcdefghij'.slice(i % 10)}\n`).join('');
    const app = Request.application(() => new Response(big, { contentType: 'text/plain' }));
    const sizes: number[] = [];
    for (const zstdLevel of [1, undefined, 19, 3]) {
      const server = await start(compress(app, { encodings: ['zstd'], zstdLevel }));
      const res = await request(server.url, { headers: { 'accept-encoding': 'zstd' } });
      expect(await unzstd(res.body)).toBe(big);
      sizes.push(res.body.length);
    }
    expect(sizes[2]).toBeLessThan(sizes[1]!);
    expect(sizes[0]).not.toBe(sizes[1]);
    expect(sizes[1]).toBe(sizes[3]); // the default is 3
    for (const zstdLevel of [0, 20, 1.5, -1]) expect(() => compress(app, { encodings: ['zstd'], zstdLevel }), String(zstdLevel)).toThrow(TypeError);
  });

  it('streams with a flush each time the app makes the client wait, in a window of 512 KiB', async () => {
    const next = deferred();
    // 3 MiB of text no shorter window than the whole compresses away, then a line after a wait.
    const rows = Array.from({ length: 48 }, (_, i) => enc.encode(`${i} ${Math.random().toString(36).repeat(1700)}\n`.slice(0, 64 * 1024)));
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield* rows;
        await next.promise; // the client must decode all of the above before this line exists
        yield enc.encode('last line\n');
      })();
    };
    const server = await start(compress(app, { encodings: ['zstd'] }));
    const expected = Buffer.concat([...rows, enc.encode('last line\n')]).toString();
    const text = await new Promise<string>((resolve, reject) => {
      http.get(server.url, { agent: false, headers: { 'accept-encoding': 'zstd' } }, (res) => {
        expect(res.headers['content-encoding']).toBe('zstd');
        expect(res.headers['content-length']).toBeUndefined();
        // A client that takes no window past 512 KiB decodes it all: the stream's window is bounded.
        const d = decoder(19);
        res.pipe(d);
        let decoded = '';
        d.on('data', (part: Buffer) => {
          decoded += part.toString();
          if (decoded.length === expected.length - 'last line\n'.length) next.resolve();
        });
        d.on('end', () => resolve(decoded));
        d.on('error', reject);
      }).on('error', reject);
    });
    expect(text).toBe(expected);
  });

  it('answers HEAD with the fields GET has, and a resumed download by date with the whole, coded', async () => {
    const file = path.join(dir, 'page.txt');
    writeFileSync(file, TEXT);
    const server = await start(lint(compress(fileApp(file), { encodings: ['zstd', 'gzip'] })));
    const zstd = { 'accept-encoding': 'zstd' };
    const get = await request(server.url, { headers: zstd });
    expect([get.headers['content-encoding'], await unzstd(get.body)]).toEqual(['zstd', TEXT]);
    const head = await request(server.url, { method: 'HEAD', headers: zstd });
    for (const field of ['content-encoding', 'vary', 'etag', 'last-modified', 'content-type']) expect(head.headers[field], field).toBe(get.headers[field]);
    expect([head.headers['content-length'], head.headers['accept-ranges'], head.body.length]).toEqual([undefined, undefined, 0]);
    // A part is the identity bytes, with the 200's Vary; resumed by date, the whole, in zstd.
    const part = await request(server.url, { headers: { ...zstd, range: 'bytes=0-99' } });
    expect([part.status, part.headers['content-encoding'], part.headers.vary, part.body.toString()]).toEqual([206, undefined, 'Accept-Encoding', TEXT.slice(0, 100)]);
    const resumed = await request(server.url, { headers: { ...zstd, range: 'bytes=100-', 'if-range': get.headers['last-modified']! } });
    expect([resumed.status, resumed.headers['content-encoding'], resumed.headers['content-range']]).toEqual([200, 'zstd', undefined]);
    expect(await unzstd(resumed.body)).toBe(TEXT);
  });
});

describe('compress: zstd on a Node without it', () => {
  it('refuses zstd in encodings with a TypeError naming the Node versions that have it, and serves the default', () => {
    const app = Request.application(() => new Response(TEXT, { contentType: 'text/plain' }));
    withoutZstd(() => {
      expect(() => compress(app, { encodings: ['zstd', 'gzip'] })).toThrow(/cannot encode zstd \(Node 22\.15 and 23\.8 can\)/);
      expect(() => compress(app)).not.toThrow();
    });
  });
});
