import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type App, type Body, Request, Response } from 'tsgi';
import { compress, directoryApp, lint } from 'tsgi/middleware';
import { replaceText } from 'tsgi/proxy';
import { readBody } from '../src/gateway/body.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deferred, parseRaw, rawGet, request, sleep, start, until, within } from './node-helpers.ts';
import { gc } from './gc.ts';

const enc = new TextEncoder();
const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(200); // 9000 bytes

function decode(coding: string | undefined, body: Buffer): string {
  if (coding === 'gzip') return zlib.gunzipSync(body).toString();
  if (coding === 'br') return zlib.brotliDecompressSync(body).toString();
  if (coding === 'deflate') return zlib.inflateSync(body).toString();
  return body.toString();
}

/** An app answering `body` with the given headers (a Response, so the body is in memory). */
function answer(body: string | Uint8Array, headers: Record<string, string> = {}, status = 200): App {
  return Request.application(() => new Response(body, { status, headers, contentType: headers['Content-Type'] ?? 'text/plain' }));
}

/** A raw app answering `status` with `headers` and no body. */
function rawAnswer(status: string, headers: Array<[string, string]>): App {
  return (_environ, startResponse) => {
    startResponse(status, headers);
    return [];
  };
}

/** An app streaming `chunks` (unknown length). */
function streaming(chunks: string[], headers: Array<[string, string]> = [['Content-Type', 'text/plain']]): App {
  return (_environ, startResponse) => {
    startResponse('200 OK', headers);
    return (async function* () {
      for (const chunk of chunks) yield enc.encode(chunk);
    })();
  };
}

describe('compress: negotiation', () => {
  it('compresses an in-memory body with the coding asked for, with Vary and an exact Content-Length', async () => {
    const server = await start(lint(compress(answer(TEXT))));
    for (const [accept, coding] of [
      ['gzip', 'gzip'],
      ['br', 'br'],
      ['deflate', 'deflate'],
      ['gzip, deflate, br', 'br'],
      ['deflate, gzip', 'gzip'],
      ['*', 'br'],
      ['gzip;q=1, br;q=0.5', 'gzip'],
      ['x-gzip', 'gzip'],
      ['BR;q=0.9, deflate;q=0.2', 'br'],
    ] as const) {
      const res = await request(server.url, { headers: { 'accept-encoding': accept } });
      expect(res.headers['content-encoding'], accept).toBe(coding);
      expect(res.headers.vary, accept).toBe('Accept-Encoding');
      expect(res.headers['content-length'], accept).toBe(String(res.body.length));
      expect(res.body.length, accept).toBeLessThan(TEXT.length / 10);
      expect(decode(coding, res.body), accept).toBe(TEXT);
    }
  });

  it('sends identity (still with Vary) when the client does not ask, prefers identity, or refuses all', async () => {
    const server = await start(compress(answer(TEXT)));
    for (const accept of [undefined, '', 'identity', 'gzip;q=0.5, identity', 'br;q=0, gzip;q=0, deflate;q=0', 'compress', 'gzip;q=2', 'gzip;;;==']) {
      const headers: Record<string, string> = accept === undefined ? {} : { 'accept-encoding': accept };
      const res = await request(server.url, { headers });
      expect(res.headers['content-encoding'], String(accept)).toBeUndefined();
      expect(res.headers.vary, String(accept)).toBe('Accept-Encoding');
      expect(res.body.toString(), String(accept)).toBe(TEXT);
    }
  });

  it('offers only the configured encodings, in their order of preference', async () => {
    const server = await start(compress(answer(TEXT), { encodings: ['deflate', 'gzip'] }));
    const both = await request(server.url, { headers: { 'accept-encoding': 'br, gzip, deflate' } });
    expect(both.headers['content-encoding']).toBe('deflate');
    const onlyBr = await request(server.url, { headers: { 'accept-encoding': 'br' } });
    expect(onlyBr.headers['content-encoding']).toBeUndefined();
  });

  it('applies level and brotliQuality, and refuses bad options at once', async () => {
    const stored = await start(compress(answer(TEXT), { level: 0 }));
    const res = await request(stored.url, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.body.length).toBeGreaterThan(TEXT.length); // level 0: stored blocks
    expect(decode('gzip', res.body)).toBe(TEXT);
    expect(() => compress(answer(''), { level: 10 })).toThrow(TypeError);
    expect(() => compress(answer(''), { brotliQuality: 12 })).toThrow(TypeError);
    expect(() => compress(answer(''), { encodings: ['dcz' as 'br'] })).toThrow(TypeError);
    expect(() => compress(answer(''), { threshold: -1 })).toThrow(TypeError);
  });

  it('refuses an empty encodings when built, naming it: it would never compress, yet add Vary to every answer', () => {
    expect(() => compress(answer(TEXT), { encodings: [] })).toThrow(new TypeError("compress: encodings must name at least one coding ('br', 'gzip', 'deflate', 'zstd'); to compress nothing, leave compress out"));
  });
});

describe('compress: what it leaves alone', () => {
  const gzip = { 'accept-encoding': 'gzip, br' };

  it('skips small bodies (threshold) but still adds Vary', async () => {
    const server = await start(compress(answer('x'.repeat(1023))));
    const res = await request(server.url, { headers: gzip });
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers.vary).toBe('Accept-Encoding');
    const exact = await start(compress(answer('x'.repeat(1024))));
    expect((await request(exact.url, { headers: gzip })).headers['content-encoding']).toBe('br');
    const custom = await start(compress(answer('x'.repeat(100)), { threshold: 50 }));
    expect((await request(custom.url, { headers: gzip })).headers['content-encoding']).toBe('br');
  });

  it('skips by Content-Length even for a stream, but compresses a small stream of unknown size', async () => {
    const declared = await start(compress(streaming(['abc', 'def'], [['Content-Type', 'text/plain'], ['Content-Length', '6']])));
    const a = await request(declared.url, { headers: gzip });
    expect([a.headers['content-encoding'], a.body.toString()]).toEqual([undefined, 'abcdef']);
    const unknown = await start(compress(streaming(['abc', 'def'])));
    const b = await request(unknown.url, { headers: gzip });
    expect(b.headers['content-encoding']).toBe('br');
    // Both chunks come at once, so they share one flush with the coding's end: the server
    // sees a stream of one chunk and sends its length.
    expect([b.headers['transfer-encoding'], b.headers['content-length']]).toEqual([undefined, String(b.body.length)]);
    expect(decode('br', b.body)).toBe('abcdef');
  });

  it('skips non-compressible types, responses without a type, and honours filter', async () => {
    const png = await start(compress(answer(randomBytes(5000), { 'Content-Type': 'image/png' })));
    const res = await request(png.url, { headers: gzip });
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers.vary).toBeUndefined();
    const untyped = await start(
      compress((_e, startResponse) => {
        startResponse('200 OK', []);
        return [enc.encode(TEXT)];
      }),
    );
    expect((await request(untyped.url, { headers: gzip })).headers['content-encoding']).toBeUndefined();
    for (const type of ['application/json', 'image/svg+xml', 'text/event-stream', 'application/vnd.api+json', 'text/x-custom']) {
      const server = await start(compress(answer(TEXT, { 'Content-Type': type })));
      expect((await request(server.url, { headers: gzip })).headers['content-encoding'], type).toBe('br');
    }
    const filtered = await start(compress(answer(TEXT), { filter: (type) => type.startsWith('application/') }));
    expect((await request(filtered.url, { headers: gzip })).headers['content-encoding']).toBeUndefined();
  });

  it('leaves encoded, no-transform, partial and 204/304 responses uncompressed', async () => {
    const encoded = zlib.gzipSync(TEXT);
    const cases: Array<[string, App, string | undefined]> = [
      ['encoded', answer(encoded, { 'Content-Encoding': 'gzip' }), undefined],
      ['no-transform', answer(TEXT, { 'Cache-Control': 'public, no-transform' }), undefined],
      // A part of a text the 200 of which is compressed: the identity bytes, with the 200's
      // `Vary` (RFC 9110 §15.3.7), so a cache does not hand it to a client of another coding.
      ['206', answer(TEXT.slice(0, 2000), { 'Content-Range': `bytes 0-1999/${TEXT.length}` }, 206), 'Accept-Encoding'],
      ['content-range', answer(TEXT, { 'Content-Range': `bytes 0-${TEXT.length - 1}/${TEXT.length}` }), 'Accept-Encoding'],
      // A 206 whose 200 would not be compressed either: no `Vary`.
      ['206 image', answer(TEXT.slice(0, 2000), { 'Content-Range': `bytes 0-1999/${TEXT.length}`, 'Content-Type': 'image/png' }, 206), undefined],
      ['206 no-transform', answer(TEXT.slice(0, 2000), { 'Content-Range': `bytes 0-1999/${TEXT.length}`, 'Cache-Control': 'no-transform' }, 206), undefined],
      ['204', answer('', {}, 204), undefined],
      // A 304 without a type: the `Vary` its 200 would have had, were it compressible
      // (docs/middleware-compress.md, Revalidation); one with an image's type: none.
      ['304', answer('', { ETag: '"x"' }, 304), 'Accept-Encoding'],
      ['304 image', rawAnswer('304 Not Modified', [['ETag', '"x"'], ['Content-Type', 'image/png']]), undefined],
    ];
    for (const [name, app, vary] of cases) {
      const server = await start(compress(app));
      const res = await request(server.url, { headers: gzip });
      expect(res.headers['content-encoding'], name).toBe(name === 'encoded' ? 'gzip' : undefined);
      expect(res.headers.vary, name).toBe(vary);
      if (name === 'encoded') expect(zlib.gunzipSync(res.body).toString()).toBe(TEXT);
      if (name === 'no-transform') expect(res.body.toString()).toBe(TEXT);
    }
  });

  it('sends no content in a 205 (RFC 9110 §15.3.6), not even the gzip of an empty stream', async () => {
    // A streamed 205 whose body yields only an empty chunk: compressing it made 20 bytes of
    // content (a gzip header and trailer) in an answer that must have none.
    const app: App = (_environ, startResponse) => {
      startResponse('205 Reset Content', [['Content-Type', 'text/html']]);
      return (async function* () {
        yield new Uint8Array(0);
      })();
    };
    const server = await start(compress(app));
    const res = await request(server.url, { headers: gzip });
    expect(res.status).toBe(205);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers.vary).toBeUndefined();
    expect(res.body.byteLength).toBe(0);
  });

  it('refuses a body in memory holding a string as the server does, whatever the client asks', async () => {
    // A raw app's `[text]` (a string, not bytes): the server answers 500 and logs why; compressed,
    // it was gzipped as text and worked in a browser, failing only for curl and health checks.
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/html']]);
      return ['<p>hello</p>'.repeat(200)] as unknown as Uint8Array[];
    };
    const server = await start(compress(app));
    for (const accept of ['gzip', 'br', undefined]) {
      const res = await request(server.url, { headers: accept === undefined ? {} : { 'accept-encoding': accept } });
      expect(res.status, accept).toBe(500);
      expect(res.headers['content-encoding'], accept).toBeUndefined();
    }
    expect(server.log.messages).toHaveLength(3);
    for (const message of server.log.messages) expect(message).toContain('body chunk is not a Uint8Array (string)');
  });

  it('answers HEAD with the fields GET has (RFC 9110 §9.3.2), without a length it cannot know', async () => {
    const server = await start(compress(answer(TEXT, { ETag: '"v1"' })));
    const get = await request(server.url, { headers: gzip });
    const head = await request(server.url, { method: 'HEAD', headers: gzip });
    for (const field of ['content-encoding', 'vary', 'etag', 'content-type', 'accept-ranges']) {
      expect(head.headers[field], field).toBe(get.headers[field]);
    }
    expect(head.headers['content-encoding']).toBe('br');
    expect(head.headers['content-length']).toBeUndefined();
    expect(head.body.byteLength).toBe(0);
    const small = await start(compress(answer('tiny')));
    const smallHead = await request(small.url, { method: 'HEAD', headers: gzip });
    expect(smallHead.headers['content-encoding']).toBeUndefined();
    expect(smallHead.headers['content-length']).toBe('4');
    const plain = await request(server.url, { method: 'HEAD' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-length']).toBe(String(TEXT.length));
  });

  it('answers HEAD to a raw app that returns its small body anyway as GET: not coded, with its length', async () => {
    // The smallest raw app (spec §1) answers HEAD with the GET body, which the server drops but
    // reads the length of (spec §7.2); a body below the threshold is not coded for GET, so not for HEAD.
    const raw: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
      return [enc.encode('tiny')];
    };
    const server = await start(compress(raw));
    const get = await request(server.url, { headers: gzip });
    const head = await request(server.url, { method: 'HEAD', headers: gzip });
    expect(get.headers['content-encoding']).toBeUndefined();
    for (const field of ['content-encoding', 'vary', 'content-type', 'content-length']) expect(head.headers[field], field).toBe(get.headers[field]);
    expect(head.headers['content-length']).toBe('4');
    // Past the threshold it is coded for both, HEAD without the length it cannot know.
    const big: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
      return [enc.encode(TEXT)];
    };
    const bigServer = await start(compress(big));
    const bigHead = await request(bigServer.url, { method: 'HEAD', headers: gzip });
    expect(bigHead.headers['content-encoding']).toBe('br');
    expect(bigHead.headers['content-length']).toBeUndefined();
  });

  it('merges Vary, weakens a strong ETag, keeps a weak one, drops Accept-Ranges', async () => {
    const strong = await start(compress(answer(TEXT, { ETag: '"abc"', Vary: 'Cookie', 'Accept-Ranges': 'bytes' })));
    const a = await request(strong.url, { headers: gzip });
    expect(a.headers.etag).toBe('W/"abc"');
    expect(a.headers.vary).toBe('Cookie, Accept-Encoding');
    expect(a.headers['accept-ranges']).toBeUndefined();
    const weak = await start(compress(answer(TEXT, { ETag: 'W/"abc"', Vary: '*' })));
    const b = await request(weak.url, { headers: gzip });
    expect(b.headers.etag).toBe('W/"abc"');
    expect(b.headers.vary).toBe('*');
    const already = await start(compress(answer(TEXT, { Vary: 'accept-encoding' })));
    expect((await request(already.url, { headers: gzip })).headers.vary).toBe('accept-encoding');
    const plain = await start(compress(answer(TEXT, { ETag: '"abc"', 'Accept-Ranges': 'bytes' })));
    const c = await request(plain.url);
    expect([c.headers.etag, c.headers['accept-ranges']]).toEqual(['"abc"', 'bytes']);
  });

  it('drops the digests of the identity bytes when it compresses, keeps them when it does not (RFC 9530)', async () => {
    const digests = { 'Content-MD5': 'Q2hlY2sgSW50ZWdyaXR5IQ==', Digest: 'sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=', 'Content-Digest': 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:', 'Repr-Digest': 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:' };
    const names = ['content-md5', 'digest', 'content-digest', 'repr-digest'];
    const app = compress(answer(TEXT, digests));
    const compressed = await Request.blank('/', { headers: { 'Accept-Encoding': 'gzip' } }).getResponse(app);
    expect(compressed.headers.get('Content-Encoding')).toBe('gzip');
    expect(names.map((name) => compressed.headers.get(name))).toEqual([null, null, null, null]);
    const identity = await Request.blank('/').getResponse(app);
    expect(names.map((name) => identity.headers.get(name))).toEqual(Object.values(digests));
  });
});

describe('compress: streaming', () => {
  // zstd where this Node's zlib has it (22.15, 23.8 on): ZSTD_e_flush per event.
  const codings = ['gzip', 'br', 'deflate', ...(typeof zlib.createZstdDecompress === 'function' ? (['zstd'] as const) : [])] as const;
  for (const coding of codings) {
    it(`delivers server-sent events one by one (${coding}, flushed per chunk)`, async () => {
      const next = deferred();
      let produced = 0;
      const sse: App = (_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/event-stream'], ['Cache-Control', 'no-cache']]);
        return (async function* () {
          produced = 1;
          yield enc.encode('data: first\n\n');
          await next.promise; // the client must see the first event before this one exists
          produced = 2;
          yield enc.encode('data: second\n\n');
        })();
      };
      const server = await start(compress(sse, coding === 'zstd' ? { encodings: ['zstd'] } : {}));
      const events: string[] = [];
      const done = new Promise<void>((resolve, reject) => {
        const req = http.get(server.url, { agent: false, headers: { 'accept-encoding': coding } }, (res) => {
          expect(res.headers['content-encoding']).toBe(coding);
          const decoder =
            coding === 'gzip' ? zlib.createGunzip() : coding === 'br' ? zlib.createBrotliDecompress() : coding === 'zstd' ? zlib.createZstdDecompress() : zlib.createInflate();
          res.pipe(decoder);
          let text = '';
          decoder.on('data', (chunk: Buffer) => {
            text += chunk.toString();
            let end: number;
            while ((end = text.indexOf('\n\n')) !== -1) {
              events.push(text.slice(0, end));
              text = text.slice(end + 2);
              if (events.length === 1) {
                expect(produced).toBe(1);
                next.resolve();
              }
            }
          });
          decoder.on('end', () => resolve());
          decoder.on('error', reject);
        });
        req.on('error', reject);
      });
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the first event did not arrive alone (got ${events.length} events): buffered?`)), 4000);
      });
      try {
        await Promise.race([done, stuck]);
      } finally {
        clearTimeout(timer);
      }
      expect(events).toEqual(['data: first', 'data: second']);
    });
  }

  it('does not read the app faster than its consumer (backpressure)', async () => {
    let produced = 0;
    const endless: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'application/octet-stream; x=1'], ['Content-Length', '999999999']]);
      return (function* () {
        for (;;) {
          produced++;
          yield randomBytes(16 * 1024);
        }
      })();
    };
    const environ = Request.blank('/', { headers: { 'accept-encoding': 'gzip' } }).environ;
    const app = compress(endless, { filter: () => true });
    const body = (await app(environ, () => {})) as AsyncIterable<Uint8Array>;
    const iterator = body[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) expect((await iterator.next()).done).toBe(false);
    await sleep(20);
    expect(produced).toBeLessThanOrEqual(4);
    await iterator.return!();
  });

  it('does not outrun a client that stops reading (backpressure over a socket)', async () => {
    let produced = 0;
    const chunk = randomBytes(1024 * 1024);
    const endless: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (function* () {
        for (;;) {
          produced++;
          yield chunk;
        }
      })();
    };
    const server = await start(compress(endless, { level: 0 })); // stored blocks: cheap, so only backpressure can slow it
    const socket = await new Promise<import('node:net').Socket>((resolve) => {
      import('node:net').then(({ default: net }) => {
        const s = net.connect(server.port, '127.0.0.1', () => resolve(s));
        s.write(rawGet('/', 'Accept-Encoding: gzip\r\n'));
        s.pause(); // read nothing
      });
    });
    await until(() => produced > 2);
    await sleep(500);
    const settled = produced;
    socket.destroy();
    // 1 MiB each: the socket buffers hold a few MiB, so a dozen or so; unbounded production
    // (zlib level 0 runs at well over 100 MiB/s) would reach hundreds in 500 ms.
    expect(settled).toBeLessThan(40);
  });

  it('closes the app body when the client goes away mid-stream', async () => {
    let closed = false;
    let produced = 0;
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        try {
          for (;;) {
            produced++;
            yield enc.encode(`line ${produced}\n`.repeat(100));
            await sleep(2);
          }
        } finally {
          closed = true;
        }
      })();
    };
    const server = await start(compress(app));
    await new Promise<void>((resolve) => {
      const req = http.get(server.url, { agent: false, headers: { 'accept-encoding': 'gzip' } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
    });
    await until(() => closed);
    expect(closed).toBe(true);
  });

  it('aborts the connection when the app body fails after the headers', async () => {
    // The body fails once the client has its first bytes (not after a fixed wait: on a loaded
    // machine a wait can end before compress flushes, and the failure then comes before the
    // head, rightly answered 500).
    const received = deferred<void>();
    const failing: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield enc.encode(TEXT);
        await received.promise;
        throw new Error('boom in the middle');
      })();
    };
    const server = await start(compress(failing));
    const raw = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      const socket = net.connect(server.port, '127.0.0.1');
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received.resolve();
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      socket.write(rawGet('/', 'Accept-Encoding: gzip\r\n'));
    });
    const res = parseRaw(raw);
    expect(res.status).toBe(200);
    expect(res.header('content-encoding')).toBe('gzip');
    // the chunked body never gets its terminating zero-size chunk
    expect(res.rest.endsWith('0\r\n\r\n')).toBe(false);
    await until(() => server.log.text.includes('boom in the middle'));
  });

  it('does not flush per row: rows the app has at once share a flush, so a row-by-row export compresses as one', async () => {
    // A database cursor as an export reads it: rows come from batches in memory (a microtask
    // apart), with a wait for the next batch every 500 rows.
    const rows = 20_000;
    const line = (i: number) => `${i},"customer ${i}",c${i}@example.com,${(i * 7.31).toFixed(2)}\n`;
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/csv']]);
      return (async function* () {
        for (let i = 0; i < rows; i++) {
          if (i % 500 === 0) await sleep(1);
          yield enc.encode(line(i));
        }
      })();
    };
    const whole = Array.from({ length: rows }, (_, i) => line(i)).join('');
    const server = await start(compress(app));
    for (const coding of ['gzip', 'br'] as const) {
      const res = await request(server.url, { headers: { 'accept-encoding': coding } });
      expect(decode(res.headers['content-encoding'], res.body), coding).toBe(whole);
      const oneGo = coding === 'gzip' ? zlib.gzipSync(whole) : zlib.brotliCompressSync(whole, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } });
      // A flush per row costs its marker bytes and restarts the block: over twice the size.
      expect(res.body.length, coding).toBeLessThan(oneGo.length * 1.2);
    }
  });

  it('flushes an event followed at once by an empty chunk before the body waits (the empty chunk does not hold it back)', async () => {
    const next = deferred();
    const sse: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
      return (async function* () {
        yield enc.encode('data: first\n\n');
        yield new Uint8Array(0); // a template or encoder with nothing to add
        await next.promise; // the client must see the first event before this one exists
        yield enc.encode('data: second\n\n');
      })();
    };
    const server = await start(compress(sse));
    const first = new Promise<string>((resolve, reject) => {
      const req = http.get(server.url, { agent: false, headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const decoder = zlib.createGunzip();
        res.pipe(decoder);
        let text = '';
        decoder.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('\n\n')) resolve(text);
        });
        decoder.on('error', reject);
      });
      req.on('error', reject);
    });
    try {
      const late = sleep(2000).then(() => 'nothing within 2 s: held back');
      expect(await Promise.race([first, late])).toBe('data: first\n\n');
    } finally {
      next.resolve();
    }
  });

  it('keeps a sync streamed body working and compresses it to the same bytes', async () => {
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (function* () {
        for (let i = 0; i < 50; i++) yield enc.encode(`${i} ${TEXT.slice(0, 500)}\n`);
      })();
    };
    const expected = Array.from({ length: 50 }, (_, i) => `${i} ${TEXT.slice(0, 500)}\n`).join('');
    const server = await start(lint(compress(lint(app))));
    for (const coding of ['gzip', 'br', 'deflate']) {
      const res = await request(server.url, { headers: { 'accept-encoding': coding } });
      expect(decode(res.headers['content-encoding'], res.body), coding).toBe(expected);
    }
    // In-process, skipping empty chunks
    const withEmpty: App = (_e, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield new Uint8Array(0);
        yield enc.encode('a');
        yield new Uint8Array(0);
      })();
    };
    const environ = Request.blank('/', { headers: { 'accept-encoding': 'gzip' } }).environ;
    const body: Body = await compress(withEmpty)(environ, () => {});
    expect(zlib.gunzipSync(await readBody(body)).toString()).toBe('a');
  });
});

describe('compress: revalidation', () => {
  it("answers a 304 with the validator and Vary of the 200 the client keeps (RFC 9110 §15.4.5)", async () => {
    const app = Request.application(() => new Response(TEXT, { headers: { ETag: '"abc"' }, contentType: 'text/plain', conditionalResponse: true }));
    const server = await start(lint(compress(app)));
    const zipped = await request(server.url, { headers: { 'accept-encoding': 'gzip' } });
    expect([zipped.headers['content-encoding'], zipped.headers.etag]).toEqual(['gzip', 'W/"abc"']);
    // The client keeps the compressed 200: its W/"abc", not the app's "abc", and Vary.
    const kept = await request(server.url, { headers: { 'accept-encoding': 'gzip', 'if-none-match': 'W/"abc"' } });
    expect([kept.status, kept.headers.etag, kept.headers.vary]).toEqual([304, 'W/"abc"', 'Accept-Encoding']);
    const listed = await request(server.url, { headers: { 'accept-encoding': 'gzip', 'if-none-match': '"zz", W/"abc"' } });
    expect([listed.status, listed.headers.etag]).toEqual([304, 'W/"abc"']);
    // A client that keeps the identity 200 sent the strong tag: the app's tag, and the Vary that 200 had too.
    const plain = await request(server.url, { headers: { 'if-none-match': '"abc"' } });
    expect([plain.status, plain.headers.etag, plain.headers.vary]).toEqual([304, '"abc"', 'Accept-Encoding']);
    // Both kept (a shared cache): which one the 304 is for cannot be told; the app's tag stays.
    const both = await request(server.url, { headers: { 'accept-encoding': 'gzip', 'if-none-match': 'W/"abc", "abc"' } });
    expect([both.status, both.headers.etag]).toEqual([304, '"abc"']);
  });
});

describe('compress over static files', () => {
  it('streams a compressed file, revalidates with the weakened ETag, and leaves ranges alone', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-compress-'));
    try {
      const text = Array.from({ length: 20_000 }, (_, i) => `line ${i}\n`).join(''); // ~150 KB: several 64 KiB reads
      writeFileSync(path.join(dir, 'log.txt'), text);
      const server = await start(lint(compress(directoryApp(dir))));
      const res = await request(`${server.url}/log.txt`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(res.headers['content-length']).toBeUndefined();
      expect(res.headers['accept-ranges']).toBeUndefined();
      expect(zlib.gunzipSync(res.body).toString()).toBe(text);
      const again = await request(`${server.url}/log.txt`, { headers: { 'accept-encoding': 'gzip', 'if-none-match': res.headers.etag! } });
      expect([again.status, again.headers.etag]).toEqual([304, res.headers.etag]);
      const range = await request(`${server.url}/log.txt`, { headers: { 'accept-encoding': 'gzip', range: 'bytes=0-5' } });
      expect([range.status, range.headers['content-encoding'], range.body.toString()]).toEqual([206, undefined, 'line 0']);
      // The 206 carries the Vary of the 200 it is part of (RFC 9110 §15.3.7).
      expect([res.headers.vary, range.headers.vary]).toEqual(['Accept-Encoding', 'Accept-Encoding']);
      const plainRange = await request(`${server.url}/log.txt`, { headers: { range: 'bytes=0-5' } });
      expect([plainRange.status, plainRange.headers.vary]).toEqual([206, 'Accept-Encoding']);
      // Several ranges: the parts' type is in the body, and the Vary is sent as the 200's may be.
      const ranges = await request(`${server.url}/log.txt`, { headers: { 'accept-encoding': 'gzip', range: 'bytes=0-5,10-15' } });
      expect([ranges.status, ranges.headers['content-type']?.split(';')[0], ranges.headers.vary]).toEqual([206, 'multipart/byteranges', 'Accept-Encoding']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('compress: clients that hang up mid-stream', () => {
  it('keeps no compressor alive and closes every app body (a bounded version of bench/compress-soak.ts)', async () => {
    // zlib handles alive, from async_hooks: created minus destroyed (destroyed once closed and collected).
    const { createHook } = await import('node:async_hooks');
    const handles = new Set<number>();
    const hook = createHook({
      init: (id, type) => void (type === 'ZLIB' && handles.add(id)),
      destroy: (id) => void handles.delete(id),
    }).enable();
    let opened = 0;
    let closed = 0;
    const line = enc.encode(`${'abcdefghij'.repeat(100)}\n`);
    const endless: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        opened++;
        try {
          for (;;) {
            yield line;
            await sleep(1);
          }
        } finally {
          closed++;
        }
      })();
    };
    const server = await start(compress(endless));
    try {
      for (const coding of ['br', 'gzip', 'deflate']) {
        await Promise.all(
          Array.from(
            { length: 10 },
            () =>
              new Promise<void>((resolve) => {
                const req = http.get(`${server.url}/`, { headers: { 'accept-encoding': coding } }, (res) => {
                  expect(res.headers['content-encoding']).toBe(coding);
                  res.once('data', () => req.destroy());
                });
                req.on('error', () => undefined);
                req.on('close', () => resolve());
              }),
          ),
        );
      }
      await until(() => closed === opened && opened === 30);
      await until(() => {
        gc();
        return handles.size === 0;
      });
      expect(handles.size).toBe(0);
      expect(server.log.text).toBe('');
    } finally {
      hook.disable();
      await server.close();
    }
  });
});

describe('compress and the filters close an idle stream when the client leaves', () => {
  // An event stream waiting for its next event: the transforming generator waits on it, so its
  // own `return()` cannot run until an event comes; the app's stream must be closed at once.
  for (const [name, wrap] of [
    ['compress', (app: App) => compress(app)],
    ['replaceText', (app: App) => replaceText(app, { replacements: [['fox', 'cat']] })],
  ] as const) {
    it(`${name}: the app's stream is destroyed at once, and nothing is logged`, async () => {
      let closed = false;
      const app: App = (_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        const events = new PassThrough();
        events.on('close', () => (closed = true));
        events.write(`data: ${TEXT}\n\n`); // then nothing: the next event is far away
        return events;
      };
      const server = await start(wrap(app));
      await new Promise<void>((resolve) => {
        const req = http.get(server.url, { agent: false, headers: { 'accept-encoding': 'gzip' } }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => undefined);
      });
      expect(await within(() => closed, 1000)).toBe(true);
      await sleep(20);
      expect(server.log.text).toBe('');
    });
  }
});

describe('compress and the filters close the app body when the client leaves first', () => {
  // The transformation is an async generator: closed before its first chunk, it would never run
  // the `for await` that closes the app's body (its open file, its spooled uploads).
  for (const [name, wrap] of [
    ['compress', (app: App) => compress(app)],
    ['replaceText', (app: App) => replaceText(app, { replacements: [['fox', 'cat']] })],
  ] as const) {
    it(`${name}: a client gone before the head closes the app body (its finally runs)`, async () => {
      const gate = deferred();
      const gone = deferred();
      let closed = false;
      const inner: App = async (_environ, startResponse) => {
        await gate.promise;
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return (async function* () {
          try {
            yield enc.encode(TEXT);
            yield enc.encode(TEXT);
          } finally {
            closed = true;
          }
        })();
      };
      const server = await start(wrap(inner));
      const socket = net.connect(server.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.once('close', () => gone.resolve());
      socket.write(rawGet('/', 'Accept-Encoding: gzip\r\n'));
      await sleep(50);
      socket.destroy();
      await gone.promise;
      gate.resolve();
      await until(() => closed);
      expect(closed).toBe(true);
    });
  }
});
