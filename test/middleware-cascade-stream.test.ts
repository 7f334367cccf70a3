import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, type AppLike, HTTPNotFound, Request, Response, defineMiddleware, serve } from 'tsgi';
import { cascade, directoryApp, lint } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { start, startSlowStore } from './node-helpers.ts';
import { gcBuffers } from './gc.ts';


/** `size` bytes whose every 4-byte word is its own offset, so a byte out of place shows. */
function pattern(offset: number, size: number): Buffer {
  const chunk = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4) chunk.writeUInt32BE((offset + i) >>> 0, i);
  return chunk;
}

const sha256 = (bytes: Uint8Array | Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The chunks of a `total`-byte body in `size`-byte pieces, and the digest of the whole. */
function bodyOf(total: number, size: number): { chunks: Buffer[]; digest: string } {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < total; offset += size) chunks.push(pattern(offset, Math.min(size, total - offset)));
  return { chunks, digest: sha256(Buffer.concat(chunks)) };
}

interface Sent {
  status: number;
  text: string;
}

/**
 * POSTs `chunks` to `url` over a socket, streamed chunk by chunk (waiting for `drain`), with a
 * `Content-Length` unless `chunked`. `before(i)` runs before chunk `i` is written (the test's
 * checkpoint); `hangUpAfter` destroys the request after that many chunks.
 */
function post(
  url: string,
  chunks: Buffer[],
  options: { chunked?: boolean; before?: (i: number) => Promise<void> | void; hangUpAfter?: number } = {},
): Promise<Sent> {
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  return new Promise<Sent>((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'POST',
      headers: options.chunked ? { 'Content-Type': 'application/octet-stream' } : { 'Content-Type': 'application/octet-stream', 'Content-Length': String(total) },
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(parts).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // The head goes out now: a checkpoint before the first chunk may wait for the app.
    req.flushHeaders();
    void (async () => {
      for (let i = 0; i < chunks.length; i++) {
        if (options.hangUpAfter === i) {
          req.destroy();
          return;
        }
        await options.before?.(i);
        if (req.destroyed) return;
        if (!req.write(chunks[i])) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch((error: unknown) => {
      req.destroy();
      reject(error);
    });
  });
}

/** Resolves with `promise`, or rejects after `ms` saying what was awaited. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** A promise with its resolver. */
function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function withServer(app: AppLike, fn: (url: string) => Promise<void>): Promise<void> {
  const server = await serve(app, { host: '127.0.0.1', port: 0, log: { write() {} } });
  try {
    await fn(server.url);
  } finally {
    await server.close();
  }
}

/** A raw app that reads `tsgi.input` until it has `upTo` bytes (all of it by default), then answers `status`. */
function reader(status: number, upTo = Infinity, seen?: number[]): App {
  return async (environ, start) => {
    let read = 0;
    if (upTo > 0) {
      for await (const chunk of environ['tsgi.input']) {
        read += chunk.byteLength;
        if (read >= upTo) break;
      }
    }
    seen?.push(read);
    start(`${status} Whatever`, [['Content-Type', 'text/plain']]);
    return [Buffer.from(`read ${read}`)];
  };
}

/** Answers the length, digest and declared `Content-Length` of the body it reads whole. */
const digestApp = Request.application(async (req) => {
  const body = await req.bytes();
  return new Response(`${body.byteLength} ${sha256(body)} ${req.environ.CONTENT_LENGTH ?? '-'}`);
});

describe('cascade streams the request body', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsgi-cascade-stream-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hands a large upload to the last app as it arrives, behind a static app that never reads it (socket)', async () => {
    const size = 1024 * 1024;
    const total = 48 * size;
    const firstChunk = signal();
    let received = 0;
    // Counts the body as it streams; tells the test when the first chunk arrived.
    const echoLength: App = async (environ, start) => {
      for await (const chunk of environ['tsgi.input']) {
        if (received === 0) firstChunk.resolve();
        received += chunk.byteLength;
      }
      start('200 OK', [['Content-Type', 'text/plain']]);
      return [Buffer.from(`${received} ${environ.CONTENT_LENGTH}`)];
    };
    const chunk = pattern(0, size);
    const chunks = Array.from({ length: total / size }, () => chunk);
    await withServer(lint(cascade([lint(directoryApp(dir)), lint(echoLength)])), async (url) => {
      const res = await post(url, chunks, {
        // The rest of the body is sent only once the last app has its first chunk: a cascade
        // that reads the body before calling the apps never gets there.
        before: (i) => (i === 4 ? within(firstChunk.promise, 5000, 'the last app to get the first chunk') : undefined),
      });
      expect(res).toEqual({ status: 200, text: `${total} ${total}` });
    });
  });

  it('replays what a skipped app read, followed by the rest, to the next app (socket)', async () => {
    const size = 256 * 1024;
    const { chunks, digest } = bodyOf(5 * 1024 * 1024 + 123, size);
    const total = chunks.reduce((n, c) => n + c.byteLength, 0);
    const seen: number[] = [];
    // a: a raw app reading about half, then 404; b: reads it all with req.bytes(), then 405;
    // c: a third of it; d, the last, reads it whole.
    const app = lint(cascade([lint(reader(404, total / 2, seen)), Request.application(async (req) => {
      seen.push((await req.bytes()).byteLength);
      return new Response('no', { status: 405 });
    }), lint(reader(404, total / 3, seen)), lint(digestApp)]));
    for (const chunked of [false, true]) {
      seen.length = 0;
      await withServer(app, async (url) => {
        const res = await post(url, chunks, { chunked });
        expect(res.status).toBe(200);
        expect(res.text).toBe(`${total} ${digest} ${chunked ? '-' : total}`);
      });
      expect(seen[0]).toBeGreaterThanOrEqual(total / 2);
      expect(seen[0]).toBeLessThan(total);
      expect(seen[1]).toBe(total);
      expect(seen[2]).toBeGreaterThanOrEqual(total / 3);
    }
  });

  it('streams to the last app what a skipped app left unread, after replaying what it read (socket)', async () => {
    const size = 1024 * 1024;
    const { chunks, digest } = bodyOf(24 * size, size);
    const firstChunk = signal();
    const last = Request.application(async (req) => {
      const hash = createHash('sha256');
      let read = 0;
      for await (const chunk of req.stream()) {
        if (read === 0) firstChunk.resolve();
        hash.update(chunk);
        read += chunk.byteLength;
      }
      return new Response(`${read} ${hash.digest('hex')}`);
    });
    await withServer(cascade([reader(404, 2 * size), last]), async (url) => {
      const res = await post(url, chunks, {
        before: (i) => (i === 8 ? within(firstChunk.promise, 5000, 'the last app to get the first chunk') : undefined),
      });
      expect(res).toEqual({ status: 200, text: `${24 * size} ${digest}` });
    });
  });

  it('lets the app that answers read the rest of the body unrecorded, as it streams (socket)', async () => {
    const size = 1024 * 1024;
    const { chunks, digest } = bodyOf(16 * size, size);
    const firstChunk = signal();
    // The first app answers 200 at once and reads the body while it sends its answer.
    const echo: App = (environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        const hash = createHash('sha256');
        let read = 0;
        yield Buffer.from('echo ');
        for await (const chunk of environ['tsgi.input']) {
          if (read === 0) firstChunk.resolve();
          hash.update(chunk);
          read += chunk.byteLength;
        }
        yield Buffer.from(`${read} ${hash.digest('hex')}`);
      })();
    };
    await withServer(lint(cascade([reader(404, size), lint(echo), new Response('never')])), async (url) => {
      const res = await post(url, chunks, {
        before: (i) => (i === 4 ? within(firstChunk.promise, 5000, 'the answering app to get the first chunk') : undefined),
      });
      expect(res).toEqual({ status: 200, text: `echo ${16 * size} ${digest}` });
    });
  });

  it('answers 413 past maxBodySize once an app reads past it, for a body of undeclared length (socket)', async () => {
    const chunks = bodyOf(64 * 1024, 4096).chunks;
    const calls: string[] = [];
    const never: App = () => {
      throw new Error('not called');
    };
    // The skipped app reads to the limit; the last one reads past it.
    const app = cascade([reader(404, 1000), Request.application(async (req) => {
      calls.push('b');
      return `${(await req.bytes()).byteLength}`;
    })], { maxBodySize: 10_000 });
    await withServer(app, async (url) => {
      expect((await post(url, chunks, { chunked: true })).status).toBe(413);
      expect(await post(url, chunks.slice(0, 2), { chunked: true })).toEqual({ status: 200, text: '8192' });
      // Declared past the limit: 413 before any app runs.
      await withServer(cascade([never, never], { maxBodySize: 10_000 }), async (other) => {
        expect((await post(other, chunks)).status).toBe(413);
      });
    });
    expect(calls).toEqual(['b', 'b']);
    // A skipped app that reads past the limit gets the 413 itself.
    const first = Request.application(async (req) => new Response(`${(await req.bytes()).byteLength}`, { status: 404 }));
    await withServer(cascade([first, new Response('never')], { maxBodySize: 10_000 }), async (url) => {
      expect((await post(url, chunks, { chunked: true })).status).toBe(413);
    });
  });

  it('keeps maxBodySize for a cascade of one app (a list built at startup), declared or not (socket)', async () => {
    const chunks = bodyOf(64 * 1024, 4096).chunks;
    const only = Request.application(async (req) => `${(await req.bytes()).byteLength}`);
    await withServer(cascade([only], { maxBodySize: 10_000 }), async (url) => {
      expect((await post(url, chunks)).status).toBe(413);
      expect((await post(url, chunks, { chunked: true })).status).toBe(413);
      expect(await post(url, chunks.slice(0, 2))).toEqual({ status: 200, text: '8192' });
    });
  });

  it('answers 413, not a logged 500, for a body past maxBodySize that the answering app streams into fetch (TypeError: fetch failed, the 413 its cause) (socket)', async () => {
    const chunks = bodyOf(64 * 1024, 4096).chunks;
    const store = await startSlowStore();
    const causes: unknown[] = [];
    const upload = Request.application(async (req) => {
      try {
        await fetch(`${store.url}/object`, { method: 'PUT', body: req.stream() as unknown as ReadableStream<Uint8Array>, duplex: 'half' } as RequestInit);
      } catch (error) {
        causes.push((error as Error).cause);
        throw error;
      }
      return new Response('stored');
    });
    // The cascade's own limit, and serve()'s under a cascade whose skipped app read a little
    // (so the last app reads the recording's replay, not the server's input).
    const cases = [
      { app: cascade([reader(404, 1000), upload], { maxBodySize: 10_000 }), options: {} },
      { app: cascade([reader(404, 1000), upload]), options: { maxBodySize: 10_000 } },
    ];
    for (const { app, options } of cases) {
      const server = await start(app, options);
      const sent = await post(server.url, chunks, { chunked: true }).catch((error: unknown) => ({ status: 0, text: String(error) }));
      expect((causes.at(-1) as { code?: number } | undefined)?.code).toBe(413);
      expect(sent.status).toBe(413);
      expect(server.log.text).toBe('');
    }
  });

  it('fails the reads of every app, without a hang, when the client hangs up mid-body (socket)', async () => {
    const size = 64 * 1024;
    const chunks = bodyOf(64 * size, size).chunks;
    const failures: string[] = [];
    const done = signal();
    const first: App = async (environ, start) => {
      try {
        for await (const _ of environ['tsgi.input']) void _;
      } catch (error) {
        failures.push(`a: ${(error as Error).message}`);
      }
      start('404 Not Found', []);
      return [];
    };
    const last = Request.application(async (req) => {
      try {
        await req.bytes();
      } catch (error) {
        failures.push(`b: ${(error as { code?: number }).code}`);
      }
      done.resolve();
      return 'done';
    });
    await withServer(cascade([first, last]), async (url) => {
      await post(url, chunks, { hangUpAfter: 8 }).catch(() => undefined);
      await within(done.promise, 5000, 'the last app to fail its read');
    });
    expect(failures).toHaveLength(2);
    expect(failures[1]).toBe('b: 400');
  });

  /**
   * An upload of 64 MiB to an app that gives `status` at once, then reads the upload (after
   * yielding `first`, if given), sampling how much the memory of array buffers grew, two full
   * collections before each sample ({@link gcBuffers}) so what the server let go does not count
   * (after one, V8's background sweep had left 7–8 MiB of dead buffers counted on a loaded
   * machine, against 0 now). Answers the largest growth, in MiB.
   */
  async function growthWhileReading(status: string, first: string | undefined, expected: (total: number) => string): Promise<number> {
    const size = 1024 * 1024;
    const chunk = pattern(0, size);
    const total = 64 * size;
    const chunks = Array.from({ length: total / size }, () => chunk);
    let growth = 0;
    const reader: App = (environ, start) => {
      start(status, [['Content-Type', 'text/plain']]);
      return (async function* () {
        if (first !== undefined) yield Buffer.from(first);
        gcBuffers();
        const before = process.memoryUsage().arrayBuffers;
        let read = 0;
        for await (const part of environ['tsgi.input']) {
          read += part.byteLength;
          if (read % (8 * size) < part.byteLength) {
            gcBuffers();
            growth = Math.max(growth, process.memoryUsage().arrayBuffers - before);
          }
        }
        yield Buffer.from(String(read));
      })();
    };
    await withServer(cascade([reader, new Response('never')]), async (url) => {
      expect(await post(url, chunks)).toEqual({ status: Number(status.slice(0, 3)), text: expected(total) });
    });
    return growth / size;
  }

  it('keeps no copy of what the app that answers reads, once it answered (socket)', async () => {
    // Answers at once (a status the cascade does not catch), then reads the upload as it streams.
    // A recording kept would hold the whole body: 64 MiB.
    expect(await growthWhileReading('200 OK', 'read ', (total) => `read ${total}`)).toBeLessThan(4);
  });

  it('records nothing an app reads once it gave a status the cascade does not catch, before its first chunk (socket)', async () => {
    // Gives its status at once, then reads the whole upload before its first chunk (a body that
    // stores the upload and then says how much): the cascade has its status, not yet a chunk.
    // A recording kept until the first chunk would hold the whole body: 64 MiB.
    expect(await growthWhileReading('201 Created', undefined, (total) => String(total))).toBeLessThan(4);
  });

  it('gives an app that gave its status a live input before its first chunk: a second iteration reads on (TestClient)', async () => {
    const size = 64 * 1024; // the TestClient's chunk
    const body = bodyOf(5 * size, size);
    const answering: App = (environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        let first = 0;
        for await (const part of environ['tsgi.input']) {
          first += part.byteLength;
          if (first >= 2 * size) break;
        }
        let rest = 0;
        for await (const part of environ['tsgi.input']) rest += part.byteLength;
        yield Buffer.from(`${first} ${rest}`);
      })();
    };
    const client = new TestClient(cascade([reader(404), answering, new Response('never')]));
    const res = await client.post('/', { body: Buffer.concat(body.chunks) });
    expect(await res.text()).toBe(`${2 * size} ${3 * size}`);
    // The same, its first reads done before it gave its status: it reads on from where it stopped.
    const early: App = async (environ, start) => {
      let first = 0;
      for await (const part of environ['tsgi.input']) {
        first += part.byteLength;
        if (first >= 2 * size) break;
      }
      start('200 OK', [['Content-Type', 'text/plain']]);
      let rest = 0;
      for await (const part of environ['tsgi.input']) rest += part.byteLength;
      return [Buffer.from(`${first} ${rest}`)];
    };
    const res2 = await new TestClient(cascade([reader(404), early, new Response('never')])).post('/', { body: Buffer.concat(body.chunks) });
    expect(await res2.text()).toBe(`${2 * size} ${3 * size}`);
  });

  it('answers as it is an app that gave an uncaught status and then a caught one, or threw a caught HTTPException', async () => {
    const calls: string[] = [];
    const next = Request.application(async (req) => {
      calls.push('next');
      return `${(await req.bytes()).byteLength}`;
    });
    // Takes its answer back after it read on unrecorded: the next app could not get the body whole.
    const fickle: App = (environ, start) => {
      start('200 OK', []);
      return (async function* () {
        for await (const _ of environ['tsgi.input']) void _;
        start('404 Not Found', [], new Error('changed its mind'));
        yield Buffer.from('gone');
      })();
    };
    const client = new TestClient(cascade([fickle, next]));
    const res = await client.post('/', { body: 'x'.repeat(200_000), status: 404 });
    expect(res.statusCode).toBe(404);
    expect(calls).toEqual([]);
    const thrower: App = (environ, start) => {
      start('200 OK', []);
      return (async function* () {
        for await (const _ of environ['tsgi.input']) void _;
        throw new HTTPNotFound();
      })();
    };
    const res2 = await new TestClient(cascade([thrower, next])).post('/', { body: 'x'.repeat(200_000), status: 404 });
    expect(res2.statusCode).toBe(404);
    expect(calls).toEqual([]);
  });

  it('hands the next app the chunk a skipped app was still waiting for, and fails that read (socket)', async () => {
    const size = 64 * 1024;
    const { chunks, digest } = bodyOf(16 * size, size);
    const total = 16 * size;
    let pending: Promise<string> | undefined;
    // Asks for a chunk and answers 404 without waiting for it.
    const impatient: App = (environ, start) => {
      pending = environ['tsgi.input'][Symbol.asyncIterator]().next().then(
        () => 'a chunk',
        (error: Error) => error.message,
      );
      start('404 Not Found', []);
      return [];
    };
    const lastCalled = signal();
    const last: App = (environ, start) => {
      lastCalled.resolve();
      return digestApp(environ, start);
    };
    await withServer(cascade([impatient, last]), async (url) => {
      const res = await post(url, chunks, {
        // Nothing is sent before the last app runs: the skipped app's read is still waiting then.
        before: (i) => (i === 0 ? within(lastCalled.promise, 5000, 'the last app') : undefined),
      });
      expect(res).toEqual({ status: 200, text: `${total} ${digest} ${total}` });
    });
    expect(await pending).toMatch(/handed to the next reader/);
  });

  it('gives every app a body kept in memory above it, as it is, within maxBodySize (socket)', async () => {
    const { chunks, digest } = bodyOf(100_000, 10_000);
    const keep = defineMiddleware(async (req, app) => {
      await req.bytes();
      return req.getResponse(app);
    });
    const seen: number[] = [];
    const app = (maxBodySize?: number) => keep(cascade([reader(404, Infinity, seen), reader(405, Infinity, seen), digestApp], { maxBodySize }));
    await withServer(app(), async (url) => {
      expect(await post(url, chunks, { chunked: true })).toEqual({ status: 200, text: `100000 ${digest} -` });
    });
    expect(seen).toEqual([100_000, 100_000]);
    await withServer(app(99_999), async (url) => {
      expect((await post(url, chunks, { chunked: true })).status).toBe(413);
    });
    expect(seen).toHaveLength(2);
  });

  it('gives the last app the server input itself when no app read before it, also under maxBodySize for a declared length (socket)', async () => {
    const { chunks, digest } = bodyOf(300_000, 30_000);
    const inputs: string[] = [];
    const last: App = (environ, start) => {
      inputs.push(Object.prototype.toString.call(environ['tsgi.input']));
      return digestApp(environ, start);
    };
    const notHere: App = (_environ, start) => {
      start('404 Not Found', []);
      return [];
    };
    for (const maxBodySize of [undefined, 1_000_000]) {
      await withServer(cascade([directoryApp(dir), notHere, last], { maxBodySize }), async (url) => {
        expect(await post(url, chunks)).toEqual({ status: 200, text: `300000 ${digest} 300000` });
        // A chunked body is counted against the limit: not the input itself then.
        expect(await post(url, chunks, { chunked: true })).toEqual({ status: 200, text: `300000 ${digest} -` });
      });
    }
    expect(inputs).toEqual(['[object ReadableInput]', '[object ReadableInput]', '[object ReadableInput]', '[object RecordedInput]']);
  });

  it('sends no 100 Continue when no app reads the body (socket)', async () => {
    const app = cascade([directoryApp(dir), (_environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return [Buffer.from('not read')];
    }]);
    await withServer(app, async (url) => {
      const answer = await new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
        let continued = false;
        const req = httpRequest(url, { method: 'POST', headers: { Expect: '100-continue', 'Content-Length': '1000' } });
        req.on('continue', () => (continued = true));
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => {
            req.destroy();
            resolve({ status: res.statusCode!, continued });
          });
        });
        req.on('error', reject);
        req.flushHeaders();
      });
      expect(answer).toEqual({ status: 200, continued: false });
    });
  });
});
