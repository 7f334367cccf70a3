/**
 * A body that ended within the steps a server takes before the head (empty, or one chunk and
 * the end), whose head the server then refuses (an invalid field name: an app error, a 500):
 * the body is over, not stopped early, so its iterator's `return()` is not called (docs/spec.md
 * §6, §11: a hand-written iterator releases what it holds when it answers done). The servers
 * called it anyway, and such a body released its resource twice. So too for an HTTP/2 stream
 * that ends short of its declared `Content-Length` (its stream reset). `serve()` over a real
 * socket, and `toFetchHandler`.
 */
import { describe, expect, it } from 'vitest';
import { type App, type Body } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { bytes, h2cGet, request, sleep, start, until } from './node-helpers.ts';

/** An app answering a field name that is no token, with a hand-written body of `size` chunks that counts its releases. */
function refusedApp(size: number, kind: 'sync' | 'async'): { app: App; releases: () => number } {
  let releases = 0;
  const app: App = (_environ, startResponse) => {
    startResponse('200 OK', [['Bad Name', 'x']]);
    let at = 0;
    const iterator = {
      next: (): IteratorResult<Uint8Array> => {
        if (at++ < size) return { done: false, value: bytes('a') };
        releases++;
        return { done: true, value: undefined };
      },
      return: (): IteratorResult<Uint8Array> => {
        releases++;
        return { done: true, value: undefined };
      },
    };
    if (kind === 'sync') return { [Symbol.iterator]: () => iterator } as Body;
    return { [Symbol.asyncIterator]: () => ({ next: async () => iterator.next(), return: async () => iterator.return() }) };
  };
  return { app, releases: () => releases };
}

describe('a body that ended before its refused head is released once', () => {
  for (const size of [0, 1]) {
    for (const kind of ['sync', 'async'] as const) {
      it(`serve(), ${kind} body of ${size} chunk(s)`, async () => {
        const { app, releases } = refusedApp(size, kind);
        const server = await start(app);
        const res = await request(`${server.url}/`);
        expect(res.status).toBe(500);
        await sleep(20);
        expect(releases()).toBe(1);
      });

      it(`toFetchHandler, ${kind} body of ${size} chunk(s)`, async () => {
        const { app, releases } = refusedApp(size, kind);
        const res = await toFetchHandler(app, { log: { write: () => true } })(new globalThis.Request('http://localhost/'));
        expect(res.status).toBe(500);
        await res.arrayBuffer();
        await sleep(20);
        expect(releases()).toBe(1);
      });
    }
  }

  /** An app declaring 5 bytes and streaming 2, with a hand-written body that counts its releases. */
  function shortApp(): { app: App; releases: () => number } {
    let releases = 0;
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Length', '5']]);
      let at = 0;
      const iterator = {
        next: async (): Promise<IteratorResult<Uint8Array>> => {
          await sleep(5); // a step not in hand at once: the body is streamed, not framed whole
          if (at++ < 2) return { done: false, value: bytes('a') };
          releases++;
          return { done: true, value: undefined };
        },
        return: async (): Promise<IteratorResult<Uint8Array>> => {
          releases++;
          return { done: true, value: undefined };
        },
      };
      return { [Symbol.asyncIterator]: () => iterator };
    };
    return { app, releases: () => releases };
  }

  it('serve() over h2c, a streamed body that ends short of its Content-Length', async () => {
    const { app, releases } = shortApp();
    const server = await start(app, { http2: 'h2c' });
    const exchange = h2cGet(server.url, '/');
    exchange.stream.on('error', () => {});
    try {
      await until(() => server.log.text.includes('does not match the Content-Length'));
      await sleep(20);
      expect(releases()).toBe(1);
    } finally {
      exchange.session.close();
    }
  });

  it('toFetchHandler, a streamed body that ends short of its Content-Length', async () => {
    const { app, releases } = shortApp();
    const res = await toFetchHandler(app, { log: { write: () => true } })(new globalThis.Request('http://localhost/'));
    await expect(res.arrayBuffer()).rejects.toThrow(/Content-Length/);
    await sleep(20);
    expect(releases()).toBe(1);
  });
});
