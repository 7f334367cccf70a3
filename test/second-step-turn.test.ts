/**
 * How long a server waits for a body's second step before it sends the head (docs/spec.md §7.1:
 * a first chunk followed by the end within that wait gets `Content-Length`, else the body goes
 * out chunked): one turn of the event loop, the same under `serve()`, `toFetchHandler` and the
 * `TestClient`. On Node that turn ends at a `setImmediate` (the check phase), so a body whose
 * end waits for a zero-delay timer is streamed everywhere; one whose end comes within the turn
 * is framed with its length everywhere. A runtime without `setImmediate` (a browser, workerd
 * without `nodejs_compat`) waits for a zero-delay timer instead.
 */
import { access } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type App } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { TestClient } from 'tsgi/testing';
import { encoder, request, start } from './node-helpers.ts';
import { serveFetch } from './fetch-helpers.ts';

/** An answer whose one chunk, `hello`, is followed by the end once `wait` settles. */
const endsAfter =
  (wait: () => Promise<void>): App =>
  (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return (async function* () {
      yield encoder.encode('hello');
      await wait();
    })();
  };

/** How the answer was framed: its `Content-Length`, or `chunked`. */
type Framing = string;

/** How a fetch handler's answer to `GET /` is framed, served by the fetch test server. */
async function fetchFraming(handler: Parameters<typeof serveFetch>[0]): Promise<Framing> {
  const server = await serveFetch(handler);
  try {
    const res = await request(`${server.url}/`);
    expect(res.body.toString()).toBe('hello');
    return res.headers['content-length'] ?? res.headers['transfer-encoding']!;
  } finally {
    await server.close();
  }
}

const holders: Array<[string, (app: App) => Promise<Framing>]> = [
  [
    'serve()',
    async (app) => {
      const server = await start(app);
      const res = await request(`${server.url}/`);
      expect(res.body.toString()).toBe('hello');
      return res.headers['content-length'] ?? res.headers['transfer-encoding']!;
    },
  ],
  [
    'toFetchHandler',
    (app) => fetchFraming(toFetchHandler(app)),
  ],
  [
    'TestClient',
    async (app) => {
      // Asked from an I/O callback, as a server's request is: the turn's `setImmediate` then
      // comes before any timer. From a `setImmediate` of the caller's own (a loaded machine's
      // vitest), a zero-delay timer due by then would run first.
      await new Promise<void>((resolve) => access('.', () => resolve()));
      const res = await new TestClient(app, { lint: false }).get('/');
      expect(res.textBody).toBe('hello');
      return res.headers.get('content-length') ?? 'chunked';
    },
  ],
];

const waits: Array<[string, () => Promise<void>, Framing]> = [
  ['a microtask', () => Promise.resolve(), '5'],
  ['a setImmediate set in that turn', () => new Promise((resolve) => setImmediate(resolve)), '5'],
  ['a zero-delay timer', () => new Promise((resolve) => setTimeout(resolve, 0)), 'chunked'],
  ['a timer of 5 ms', () => new Promise((resolve) => setTimeout(resolve, 5)), 'chunked'],
];

describe('the wait for the second step before the head', () => {
  for (const [holder, framingOf] of holders) {
    for (const [wait, until, framing] of waits) {
      it(`frames a body that ends after ${wait} as ${framing} (${holder})`, async () => {
        // Three times: a race lost once in a while would show.
        for (let i = 0; i < 3; i++) expect(await framingOf(endsAfter(until))).toBe(framing);
      });
    }
  }
});

describe('on a runtime without setImmediate', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('toFetchHandler waits for a zero-delay timer instead', async () => {
    vi.stubGlobal('setImmediate', undefined);
    vi.stubGlobal('clearImmediate', undefined);
    vi.resetModules();
    // Loaded afresh, as on such a runtime: the end of the turn is chosen when the module loads.
    const fetchEntry = await import('tsgi/fetch');
    vi.unstubAllGlobals(); // the server below runs on Node's
    const framingOf = (app: App): Promise<Framing> => fetchFraming(fetchEntry.toFetchHandler(app));
    for (let i = 0; i < 3; i++) {
      expect(await framingOf(endsAfter(() => Promise.resolve()))).toBe('5');
      expect(await framingOf(endsAfter(() => new Promise((resolve) => setTimeout(resolve, 0))))).toBe('5');
      expect(await framingOf(endsAfter(() => new Promise((resolve) => setTimeout(resolve, 20))))).toBe('chunked');
    }
  });
});
