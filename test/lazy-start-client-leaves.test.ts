/**
 * An app that starts lazily (calls `startResponse` from its body) and whose first chunk is still
 * pending when the client leaves: the middleware pulling that chunk (to see the status: the
 * head-editing ones, `requestId`, `cors`, `secureHeaders`; those built on `callApp`, `compress`)
 * holds the body the server would otherwise close, so it closes it itself when `tsgi.signal`
 * aborts, over a real socket.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { type App, type AppLike } from 'tsgi';
import { compress, cors, errors, requestId, secureHeaders, timeout } from 'tsgi/middleware';
import { deferred, encoder, request, sleep, start } from './node-helpers.ts';

/** A lazy app whose first `next()` starts the response and then waits for ever; `returned` resolves at its `return()`. */
function waitingLazyApp(): { app: App; pulled: Promise<void>; returned: Promise<void> } {
  const pulled = deferred();
  const returned = deferred();
  const app: App = (_environ, startResponse) => ({
    [Symbol.asyncIterator]: () => ({
      next: () => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        pulled.resolve();
        return new Promise<IteratorResult<Uint8Array>>(() => {});
      },
      return: () => {
        returned.resolve();
        return Promise.resolve({ done: true as const, value: undefined });
      },
    }),
  });
  return { app, pulled: pulled.promise, returned: returned.promise };
}

const layers: Array<[string, (app: App) => AppLike]> = [
  ['bare', (app) => app],
  ['secureHeaders', (app) => secureHeaders(app)],
  ['requestId', (app) => requestId(app)],
  ['cors', (app) => cors(app)],
  ['compress', (app) => compress(app)],
];

describe('a lazy app whose first chunk is pending when the client leaves', () => {
  for (const [name, wrap] of layers) {
    it(`is closed at once under ${name}`, async () => {
      const { app, pulled, returned } = waitingLazyApp();
      const server = await start(wrap(app));
      const req = http.get(`${server.url}/`, { agent: false, headers: { 'accept-encoding': 'gzip', origin: 'https://a.example' } });
      req.on('error', () => {});
      await pulled;
      req.destroy();
      const outcome = await Promise.race([returned.then(() => 'closed'), new Promise((r) => setTimeout(r, 1000, 'still open after 1 s'))]);
      expect(outcome).toBe('closed');
      expect(server.log.text).toBe('');
    });
  }

  it('still streams and answers when the client stays', async () => {
    const app: App = (_environ, startResponse) =>
      (async function* () {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        yield encoder.encode('one');
      })();
    const server = await start(secureHeaders(app));
    const res = await fetch(`${server.url}/`);
    expect(await res.text()).toBe('one');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('a lazy app given up on before it calls startResponse', () => {
  /** A lazy app that waits before it starts (a query, then the head and the page); `closed` resolves when its `finally` runs. */
  function slowLazyApp(): { app: App; closed: Promise<void> } {
    const closed = deferred();
    const app: App = (_environ, startResponse) =>
      (async function* () {
        try {
          await sleep(150);
          startResponse('200 OK', [['Content-Type', 'text/plain']]);
          yield encoder.encode('late');
        } finally {
          closed.resolve();
        }
      })();
    return { app, closed: closed.promise };
  }

  // The app did nothing wrong: it was stopped before its head. Reading its abandoned body as one
  // that "produced a body without calling startResponse" logged a TypeError blaming it.
  for (const [name, wrap] of [
    ['compress', (app: App) => compress(app)],
    ['errors', (app: App) => errors(app)],
    ['timeout', (app: App) => timeout(app, { ms: 5000 })],
  ] as const) {
    it(`logs nothing when the client leaves, under ${name}`, async () => {
      const { app, closed } = slowLazyApp();
      const server = await start(wrap(app));
      const req = http.get(`${server.url}/`, { agent: false, headers: { 'accept-encoding': 'gzip' } });
      req.on('error', () => {});
      await sleep(30);
      req.destroy();
      await closed;
      await sleep(50);
      expect(server.log.text).toBe('');
    });
  }

  for (const [name, wrap] of [
    ['timeout', (app: App) => timeout(app, { ms: 30 })],
    ['timeout over compress', (app: App) => timeout(compress(app), { ms: 30 })],
  ] as const) {
    it(`answers 503 and logs nothing when the time is up, under ${name}`, async () => {
      const { app, closed } = slowLazyApp();
      const server = await start(wrap(app));
      expect((await request(`${server.url}/`, { headers: { 'accept-encoding': 'gzip' } })).status).toBe(503);
      await closed;
      await sleep(50);
      expect(server.log.text).toBe('');
    });
  }
});
