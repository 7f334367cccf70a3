/**
 * The shutdown of event streams, further, over real sockets: what a long-lived event stream
 * keeps in memory, how a coded one ends (under `compress`, and with no layer to end it), and
 * one that has not sent its first event.
 */
import http from 'node:http';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type App } from 'tsgi';
import { compress } from 'tsgi/middleware';
import { deferred, encoder, sleep, start, until } from './node-helpers.ts';
import { gc } from './gc.ts';

describe('a long event stream', () => {
  it('does not keep the events it sent while it runs (memory stays flat over many events)', async () => {
    const collected = { count: 0 };
    const registry = new FinalizationRegistry<void>(() => collected.count++);
    const sent = deferred();
    const gate = deferred();
    const events = 200;
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
      return (async function* () {
        for (let n = 0; n < events; n++) {
          const chunk = encoder.encode(`data: ${'x'.repeat(1000)} ${n}\n\n`);
          registry.register(chunk);
          yield chunk;
        }
        sent.resolve();
        await gate.promise; // stays open, as an event stream does
      })();
    };
    const server = await start(app);
    let received = 0;
    const req = http.get(`${server.url}/events`, { agent: false }, (res) => res.on('data', (chunk: Buffer) => (received += chunk.byteLength)));
    req.on('error', () => {});
    await sent.promise;
    await until(() => received >= events * 1000);
    for (let i = 0; i < 5 && collected.count < events - 5; i++) {
      gc();
      await sleep(20);
    }
    expect(collected.count).toBeGreaterThanOrEqual(events - 5);
    gate.resolve();
    req.destroy();
  });
});

describe('a compressed event stream at shutdown', () => {
  // zstd where node:zlib has it (Node 22.15, 23.8 and later).
  for (const coding of ['gzip', 'br', 'deflate', ...(typeof zlib.zstdDecompressSync === 'function' ? ['zstd' as const] : [])] as const) {
    it(`ends as a whole ${coding} stream, which a strict decoder takes`, async () => {
      const cleaned = deferred();
      const app: App = (_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
        return (async function* () {
          try {
            yield encoder.encode('data: one\n\n');
            for (;;) {
              await sleep(200); // the stream is closed while it waits here
              yield encoder.encode(': tick\n\n');
            }
          } finally {
            cleaned.resolve();
          }
        })();
      };
      const server = await start(compress(app, { encodings: [coding] }));
      const chunks: Buffer[] = [];
      const first = deferred();
      const response = new Promise<{ complete: boolean; encoding: string | undefined }>((resolve, reject) => {
        const req = http.get(`${server.url}/events`, { agent: false, headers: { 'accept-encoding': coding } }, (res) => {
          res.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            first.resolve();
          });
          res.on('end', () => resolve({ complete: res.complete, encoding: res.headers['content-encoding'] }));
          res.on('error', reject);
        });
        req.on('error', reject);
      });
      await first.promise;
      const begun = Date.now();
      await server.close({ timeout: 5000 });
      expect(Date.now() - begun).toBeLessThan(1500);
      const { complete, encoding } = await response;
      expect(complete).toBe(true);
      expect(encoding).toBe(coding);
      const body = Buffer.concat(chunks);
      const decode = { gzip: zlib.gunzipSync, br: zlib.brotliDecompressSync, deflate: zlib.inflateSync, zstd: zlib.zstdDecompressSync }[coding];
      const text = decode(body).toString();
      expect(text.startsWith('data: one\n\n')).toBe(true);
      expect(text.endsWith('\n\n')).toBe(true);
      await cleaned.promise;
      expect(server.log.text).toBe('');
    });
  }
});

describe('a coded event stream no layer ends', () => {
  it('is still ended by the server at shutdown, after a short grace, not held for the timeout', async () => {
    const gzip = zlib.createGzip();
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/event-stream'], ['Content-Encoding', 'gzip']]);
      return (async function* () {
        gzip.write('data: one\n\n');
        const first = await new Promise<Buffer>((resolve) => gzip.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve(gzip.read() as Buffer)));
        yield new Uint8Array(first);
        for (;;) await sleep(50); // a proxied upstream that sends nothing more
      })();
    };
    const server = await start(app);
    const ended = deferred<boolean>();
    const first = deferred();
    const req = http.get(`${server.url}/events`, { agent: false }, (res) => {
      res.on('data', () => first.resolve());
      res.on('end', () => ended.resolve(res.complete));
      res.on('error', () => ended.resolve(false));
    });
    req.on('error', () => ended.resolve(false));
    await first.promise;
    const begun = Date.now();
    const closing = server.close({ timeout: 5000 });
    expect(await ended.promise).toBe(true);
    expect(Date.now() - begun).toBeLessThan(2500);
    await closing;
    gzip.destroy();
  });
});

/**
 * A raw event stream whose fields come first and whose first event never does; `called` is
 * called once its first step was asked for (the shutdown must begin after that: a fixed sleep
 * let a loaded machine begin it before the request reached the app).
 */
const eventless = (called: () => void): App => (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
  return (async function* () {
    called(); // its first step was asked for
    for (;;) {
      await sleep(200); // no event to send yet
      if (Math.random() > 2) yield encoder.encode('data: never\n\n');
    }
  })();
};

describe('an event stream with no event yet', () => {
  it('under compress (a layer that waits for the first chunk before the server holds the body), ends at shutdown too', async () => {
    const called = deferred();
    const server = await start(compress(eventless(called.resolve)));
    const response = new Promise<{ status: number | undefined; body: string; complete: boolean }>((resolve, reject) => {
      const req = http.get(`${server.url}/events`, { agent: false, headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('close', () => {
          const raw = Buffer.concat(chunks);
          const body = res.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw).toString() : raw.toString();
          resolve({ status: res.statusCode, body, complete: res.complete });
        });
      });
      req.on('error', reject);
    });
    await called.promise;
    const begun = Date.now();
    await server.close({ timeout: 5000 });
    expect(Date.now() - begun).toBeLessThan(2500);
    expect(await response).toEqual({ status: 200, body: '', complete: true });
    expect(server.log.text).toBe('');
  });

  it('ends at shutdown with an empty, complete answer, not held for the timeout', async () => {
    const called = deferred();
    const server = await start(eventless(called.resolve));
    const response = new Promise<{ status: number | undefined; type: string | undefined; body: string; complete: boolean }>((resolve, reject) => {
      const req = http.get(`${server.url}/events`, { agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body, complete: res.complete }));
      });
      req.on('error', reject);
    });
    await called.promise;
    const begun = Date.now();
    // The body's return() never settles (its generator never yields), so close() waits out its
    // 2 s grace for the bodies; held for the timeout it would take 10. The bound sits between,
    // 4 s from each: 2.5 s against a 5 s timeout left a loaded machine half a second (2005 ms).
    await server.close({ timeout: 10_000 });
    expect(Date.now() - begun).toBeLessThan(6000);
    expect(await response).toEqual({ status: 200, type: 'text/event-stream', body: '', complete: true });
    expect(server.log.text).toBe('');
  });
});

/** An event stream whose source waits on `tsgi.shutdown_signal`, as docs/request.md shows: it rejects with an AbortError at the shutdown. */
const stopsOnShutdown: App = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
  return (async function* () {
    yield encoder.encode('data: one\n\n');
    const shutdown = environ['tsgi.shutdown_signal'] as AbortSignal;
    await new Promise((_resolve, reject) => shutdown.addEventListener('abort', () => reject(shutdown.reason), { once: true }));
    yield encoder.encode('data: never\n\n');
  })();
};

describe('an event stream whose source stops on the shutdown signal', () => {
  for (const coded of [false, true]) {
    it(`ends at shutdown without logging its AbortError as an app error${coded ? ' (under compress)' : ''}`, async () => {
      const server = await start(coded ? compress(stopsOnShutdown) : stopsOnShutdown);
      const first = deferred();
      const response = new Promise<{ body: string; complete: boolean }>((resolve, reject) => {
        const req = http.get(`${server.url}/events`, { agent: false, headers: coded ? { 'accept-encoding': 'gzip' } : {} }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => (chunks.push(chunk), first.resolve()));
          res.on('close', () => {
            const raw = Buffer.concat(chunks);
            resolve({ body: coded ? zlib.gunzipSync(raw).toString() : raw.toString(), complete: res.complete });
          });
        });
        req.on('error', reject);
      });
      await first.promise;
      await server.close({ timeout: 5000 });
      expect(await response).toEqual({ body: 'data: one\n\n', complete: true });
      await sleep(20);
      expect(server.log.text).toBe('');
    });
  }
});

describe('an event stream whose first event fails at the shutdown', () => {
  for (const layered of [false, true]) {
    it(`has that failure logged, not dropped${layered ? ', behind compress (which waits for the first chunk)' : ''}`, async () => {
      // The shutdown begins once the source waits on it: 100 ms after the client had a socket
      // could come before the request reached the app on a loaded machine (nothing to log then).
      const waiting = deferred();
      const app: App = (environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
        return (async function* () {
          const shutdown = environ['tsgi.shutdown_signal'] as AbortSignal;
          await new Promise((_resolve, reject) => {
            shutdown.addEventListener('abort', () => reject(new TypeError('feed.close is not a function')), { once: true });
            waiting.resolve();
          });
          yield encoder.encode('data: never\n\n');
        })();
      };
      const server = await start(layered ? compress(app) : app);
      const response = new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
        const req = http.get(`${server.url}/events`, { agent: false, headers: { 'accept-encoding': 'gzip' } }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode, body }));
        });
        req.on('error', reject);
      });
      await waiting.promise;
      await server.close({ timeout: 5000 });
      expect(await response).toEqual({ status: 200, body: '' });
      for (let i = 0; i < 100 && server.log.text === ''; i++) await sleep(5);
      expect(server.log.text).toMatch(/^\[tsgi\] GET \/events HTTP\/1\.1.*: TypeError: feed\.close is not a function/);
    });
  }
});
