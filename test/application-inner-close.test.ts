/**
 * A streamed `Response` that `req.getResponse(app)` hands to a middleware and that nobody
 * sends (the middleware throws, or answers something else) is closed when the request ends
 * (PEP 3333: whoever discards an iterable calls its `close()`); one handed up, sent or read
 * is left to whoever took it.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { type App, HTTPForbidden, Request, Response, defineMiddleware } from 'tsgi';
import { serve } from 'tsgi/node';
import { errorLog, request, within } from './node-helpers.ts';

const enc = new TextEncoder();

/**
 * A raw app streaming `chunks` from an async generator, and what happened to it: `log` gets
 * `'chunk <n>'` as each is produced and `'finally'` when the generator's `finally` runs.
 */
function streaming(chunks: string[] = ['a', 'b', 'c']): { app: App; log: string[] } {
  const log: string[] = [];
  const app: App = (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return (async function* () {
      try {
        for (const [n, chunk] of chunks.entries()) {
          log.push(`chunk ${n}`);
          yield enc.encode(chunk);
        }
      } finally {
        log.push('finally');
      }
    })();
  };
  return { app, log };
}

/** A `Request.application` answering a web `ReadableStream`; `log` gets `'cancel'` when it is cancelled. */
function readableApp(): { app: App; log: string[] } {
  const log: string[] = [];
  const app = Request.application(
    () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            controller.enqueue(enc.encode('x'));
          },
          cancel() {
            log.push('cancel');
          },
        }),
      ),
  );
  return { app, log };
}

/** Gets the inner response, then refuses: the inner stream is discarded. */
const refusing = defineMiddleware(async (req, app) => {
  await req.getResponse(app);
  throw new HTTPForbidden('No.');
});

/** Gets the inner response, then answers a body of its own. */
const replacing = defineMiddleware(async (req, app) => {
  const res = await req.getResponse(app);
  return new Response(`replaced ${res.statusCode}`);
});

/** Passes the inner response up, adding a header. */
const passing = defineMiddleware(async (req, app) => {
  const res = await req.getResponse(app);
  res.headers.set('X-Passed', '1');
  return res;
});

describe('an inner response nobody sends is closed at the end of the request', () => {
  it('over a socket: a middleware throws an HTTPException or answers another Response', async () => {
    const refused = streaming();
    const replaced = streaming();
    const log = errorLog();
    const server = await serve(
      (environ, startResponse) => (environ.PATH_INFO === '/refused' ? refusing(refused.app) : replacing(replaced.app))(environ, startResponse),
      { port: 0, log },
    );
    try {
      const first = await request(`${server.url}/refused`);
      expect(first.status).toBe(403);
      expect(refused.log).toEqual(['chunk 0', 'finally']);
      const second = await request(`${server.url}/replaced`);
      expect(second.body.toString()).toBe('replaced 200');
      expect(replaced.log).toEqual(['chunk 0', 'finally']);
    } finally {
      await server.close({ timeout: 100 });
    }
    expect(log.text).toBe('');
  });

  it('over a socket: passed through layers, every chunk is streamed and the body closed once', async () => {
    const inner = streaming(['a', 'b', 'c']);
    const server = await serve(passing(passing(passing(inner.app))), { port: 0 });
    try {
      const res = await request(`${server.url}/`);
      expect(res.headers['x-passed']).toBe('1');
      expect(res.body.toString()).toBe('abc');
      expect(inner.log).toEqual(['chunk 0', 'chunk 1', 'chunk 2', 'finally']);
    } finally {
      await server.close({ timeout: 100 });
    }
  });

  it('over a socket: a middleware or an after hook sets a body of its own on the response it got (res.body = …)', async () => {
    const redacting = defineMiddleware(async (req, app) => {
      const res = await req.getResponse(app);
      res.body = 'redacted';
      return res;
    });
    const redactingHooks = defineMiddleware({
      after(_req, res) {
        res.body = 'redacted';
      },
    });
    for (const layer of [redacting, redactingHooks]) {
      const raw = streaming();
      const web = readableApp();
      const server = await serve(
        (environ, startResponse) => layer(environ.PATH_INFO === '/web' ? web.app : raw.app)(environ, startResponse),
        { port: 0 },
      );
      try {
        expect((await request(`${server.url}/raw`)).body.toString()).toBe('redacted');
        expect((await request(`${server.url}/web`)).body.toString()).toBe('redacted');
        expect(await within(() => raw.log.length === 2 && web.log.length === 1, 2000)).toBe(true);
        expect(raw.log).toEqual(['chunk 0', 'finally']);
        expect(web.log).toEqual(['cancel']);
      } finally {
        await server.close({ timeout: 100 });
      }
    }
  });

  it('leaves alone a stream a middleware wrapped in the body it set, read to its end through it', async () => {
    const inner = streaming(['a', 'b']);
    const upper = defineMiddleware(async (req, app) => {
      const res = await req.getResponse(app);
      const body = res.body as AsyncIterable<Uint8Array>;
      res.body = (async function* () {
        for await (const chunk of body) yield enc.encode(new TextDecoder().decode(chunk).toUpperCase());
      })();
      return res;
    });
    const res = await Request.blank('/').getResponse(upper(inner.app));
    expect(await res.text()).toBe('AB');
    expect(inner.log).toEqual(['chunk 0', 'chunk 1', 'finally']);
  });

  it("does not close a handler's iterator a layer wrapped in its body and read to its end (return() is for an early stop), over a socket", async () => {
    // A hand-written iterator that releases what it holds at its end and in return(), as
    // docs/spec.md §6 asks: a second release (a pool's connection) would be a bug of its own.
    const log: string[] = [];
    const rows = (): AsyncIterableIterator<Uint8Array> => {
      let left = 2;
      return {
        async next() {
          if (left-- > 0) return { done: false, value: enc.encode('r') };
          log.push('released at its end');
          return { done: true, value: undefined };
        },
        async return() {
          log.push('return()');
          return { done: true, value: undefined };
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    };
    const handler = Request.application(() => new Response(rows()));
    const upper = (body: AsyncIterable<Uint8Array>) =>
      (async function* () {
        for await (const chunk of body) yield enc.encode(new TextDecoder().decode(chunk).toUpperCase());
      })();
    const layers = {
      awaited: defineMiddleware(async (req, app) => {
        const res = await req.getResponse(app);
        res.body = upper(res.body as AsyncIterable<Uint8Array>);
        return res;
      }),
      after: defineMiddleware({
        after(_req, res) {
          res.body = upper(res.body as AsyncIterable<Uint8Array>);
        },
      }),
    };
    for (const [name, layer] of Object.entries(layers)) {
      log.length = 0;
      const errors = errorLog();
      const server = await serve(passing(layer(passing(handler))), { port: 0, host: '127.0.0.1', log: errors });
      try {
        const res = await request(`${server.url}/`);
        expect([name, res.body.toString()]).toEqual([name, 'RR']);
        // The request's end comes once the body is sent: give it the turns it takes.
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect([name, log]).toEqual([name, ['released at its end']]);
        expect(errors.text).toBe('');
      } finally {
        await server.close();
      }
    }
  });

  it('closes the copy a middleware got from the layer below when it drops it', async () => {
    const inner = streaming();
    const res = await Request.blank('/').getResponse(replacing(passing(passing(inner.app))));
    expect(await res.text()).toBe('replaced 200');
    expect(inner.log).toEqual(['chunk 0', 'finally']);
  });

  it('closes it before an error that is not an HTTPException propagates', async () => {
    const inner = streaming();
    const failing = defineMiddleware(async (req, app) => {
      await req.getResponse(app);
      throw new Error('boom');
    });
    await expect(Request.blank('/').getResponse(failing(inner.app))).rejects.toThrow('boom');
    expect(inner.log).toEqual(['chunk 0', 'finally']);
  });

  it('cancels a web ReadableStream', async () => {
    const inner = readableApp();
    const res = await Request.blank('/').getResponse(refusing(inner.app));
    expect(res.statusCode).toBe(403);
    expect(inner.log).toEqual(['cancel']);
  });

  it('closes it after a streamed answer of its own has been sent', async () => {
    const inner = streaming();
    const own = defineMiddleware(async (req, app) => {
      await req.getResponse(app);
      return new Response(
        (async function* () {
          yield enc.encode('own');
        })(),
      );
    });
    const res = await Request.blank('/').getResponse(own(inner.app));
    expect(inner.log).toEqual(['chunk 0']);
    expect(await res.text()).toBe('own');
    expect(inner.log).toEqual(['chunk 0', 'finally']);
  });

  it('does not close a response kept and returned later, nor one read', async () => {
    const kept = streaming(['k1', 'k2']);
    const read = streaming(['r1', 'r2']);
    const dropped = streaming(['d1', 'd2']);
    const keeping = Request.application(async (req) => {
      const res = await req.getResponse(kept.app);
      const text = await (await req.getResponse(read.app)).text();
      await req.getResponse(dropped.app);
      res.headers.set('X-Read', text);
      return res;
    });
    const res = await Request.blank('/').getResponse(keeping);
    expect(dropped.log).toEqual(['chunk 0']); // the answer is still streaming
    expect(kept.log).toEqual(['chunk 0']);
    expect(res.headers.get('x-read')).toBe('r1r2');
    expect(await res.text()).toBe('k1k2');
    expect(kept.log).toEqual(['chunk 0', 'chunk 1', 'finally']);
    expect(read.log).toEqual(['chunk 0', 'chunk 1', 'finally']);
    expect(dropped.log).toEqual(['chunk 0', 'finally']);
  });

  it('logs what closing throws to tsgi.errors, and still answers', async () => {
    const log = errorLog();
    const failingClose = Request.application(() => {
      const body: AsyncIterableIterator<Uint8Array> = {
        next: async () => ({ done: false, value: enc.encode('a') }),
        return: async () => {
          throw new Error('close failed');
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
      return new Response(body);
    });
    const res = await Request.blank('/', { environ: { 'tsgi.errors': log } }).getResponse(refusing(failingClose));
    expect(res.statusCode).toBe(403);
    expect(log.text).toContain('GET / HTTP/1.1 (closing an inner response nobody sent): Error: close failed');
  });

  it('logs what closing a raw app\'s body throws, dropped by a middleware or left by the client (socket)', async () => {
    /** A raw app streaming a chunk every few ms until closed, whose `finally` fails. */
    const failingFinally: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        try {
          for (;;) {
            yield enc.encode('tick\n');
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        } finally {
          // eslint-disable-next-line no-unsafe-finally
          throw new Error('finally failed');
        }
      })();
    };
    const log = errorLog();
    const server = await serve(
      (environ, startResponse) => (environ.PATH_INFO === '/replaced' ? replacing : passing)(failingFinally)(environ, startResponse),
      { port: 0, log },
    );
    try {
      const replaced = await request(`${server.url}/replaced`);
      expect(replaced.body.toString()).toBe('replaced 200');
      expect(await within(() => log.text.includes('finally failed'), 2000)).toBe(true);
      expect(log.text).toContain("GET /replaced HTTP/1.1 (closing the app's body): Error: finally failed");
      expect(log.messages).toHaveLength(1);
      log.messages.length = 0;
      // The client reads the first chunk of the passed-up stream and hangs up.
      await new Promise<void>((resolve, reject) => {
        const req = http.get(`${server.url}/passed`, { agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
      });
      expect(await within(() => log.text.includes('finally failed'), 2000)).toBe(true);
      expect(log.text).toContain("GET /passed HTTP/1.1 (closing the app's body): Error: finally failed");
      expect(log.messages).toHaveLength(1);
    } finally {
      await server.close({ timeout: 100 });
    }
  });
});
