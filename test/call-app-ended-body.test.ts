/**
 * callApp's `close()` on an answer whose body ended at its first step (an empty body): the body
 * is over, not stopped early, so its iterator's `return()` is not called (docs/spec.md §6: the
 * server, and so a middleware, calls it only on an early stop; §11: a hand-written iterator
 * releases its resources when it answers done). Calling it anyway released them twice: a
 * pooled connection handed back twice. Through `cascade`, which closes a skipped 404, over a
 * real socket, and on `callApp` itself.
 */
import { describe, expect, it } from 'vitest';
import { type App, type Environ } from 'tsgi';
import { callApp, cascade } from 'tsgi/middleware';
import { bytes, request, sleep, start } from './node-helpers.ts';

/** A hand-written body that releases its resource when it answers done, and in `return()`; `releases` counts them. */
function releasingBody(chunks: Uint8Array[]): { body: Iterable<Uint8Array>; releases: () => number } {
  let releases = 0;
  let at = 0;
  const iterator: Iterator<Uint8Array> = {
    next: () => {
      if (at < chunks.length) return { done: false, value: chunks[at++]! };
      releases++;
      return { done: true, value: undefined };
    },
    return: () => {
      releases++;
      return { done: true, value: undefined };
    },
  };
  return { body: { [Symbol.iterator]: () => iterator }, releases: () => releases };
}

const environ = (): Environ =>
  ({
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/',
    QUERY_STRING: '',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    'tsgi.version': [1, 0],
    'tsgi.url_scheme': 'http',
    'tsgi.input': (async function* () {})(),
    'tsgi.errors': { write: () => true },
    'tsgi.multithread': false,
    'tsgi.multiprocess': false,
    'tsgi.run_once': false,
  }) as Environ;

describe('callApp close() of a body that ended at its first step', () => {
  it('does not call return() on it', async () => {
    const { body, releases } = releasingBody([]);
    const app: App = (_environ, startResponse) => {
      startResponse('404 Not Found', []);
      return body;
    };
    const started = await callApp(app, environ());
    started.close();
    await sleep(0);
    expect(releases()).toBe(1);
  });

  it('still calls return() on one stopped after its first chunk', async () => {
    const { body, releases } = releasingBody([bytes('a'), bytes('b')]);
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', []);
      return body;
    };
    const started = await callApp(app, environ());
    started.close();
    await sleep(0);
    expect(releases()).toBe(1);
  });

  for (const kind of ['sync', 'async'] as const) {
    it(`does not call return() on a ${kind} body read to its end`, async () => {
      const { body, releases } = releasingBody([bytes('a'), bytes('b')]);
      const app: App = (_environ, startResponse) => {
        startResponse('200 OK', []);
        if (kind === 'sync') return body;
        const iterator = body[Symbol.iterator]();
        return { [Symbol.asyncIterator]: () => ({ next: async () => iterator.next(), return: async () => iterator.return!() }) };
      };
      const started = await callApp(app, environ());
      const read: string[] = [];
      for await (const chunk of started.body) read.push(new TextDecoder().decode(chunk));
      started.close();
      await sleep(0);
      expect(read).toEqual(['a', 'b']);
      expect(releases()).toBe(1);
    });
  }

  it('cascade releases an empty skipped 404 once, over a socket', async () => {
    const { body, releases } = releasingBody([]);
    const missing: App = (_environ, startResponse) => {
      startResponse('404 Not Found', [['Content-Type', 'text/plain']]);
      return body;
    };
    const found: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes('found')];
    };
    const server = await start(cascade([missing, found]));
    const res = await request(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('found');
    await sleep(10);
    expect(releases()).toBe(1);
    expect(server.log.text).toBe('');
  });
});
