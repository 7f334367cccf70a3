/**
 * A body that fails before its head went out is answered with the server's `500`; one that
 * fails after is cut (docs/spec.md §6, §7.4; Werkzeug's server answers `InternalServerError`
 * while `status_sent is None`, else drops the connection). The head goes out with the body's
 * first chunk, an empty one included (as Werkzeug's `write(b"")` sends it), or, after a
 * non-empty first chunk, once the second step did not come within that turn of the event loop.
 * `serve()`, `toFetchHandler` and the `TestClient` agree on each case; before, `serve()` cut
 * the connection of a body that yielded an empty chunk and failed at once before its head had
 * left the socket, where the other two sent the head, then the failure.
 */
import { describe, expect, it } from 'vitest';
import { type App } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { TestClient } from 'tsgi/testing';
import { bytes, clientOutcome, parseRaw, rawExchangeStrict, rawGet, sleep, start } from './node-helpers.ts';

type Body = () => AsyncGenerator<Uint8Array>;

/** Each body, and what every server answers for it: the server's `500`, or the app's `200` head and then a cut. */
const cases: Array<[string, Body, 'answered 500' | 'cut after 200']> = [
  [
    'throws before any chunk',
    async function* () {
      throw new Error('boom');
    },
    'answered 500',
  ],
  [
    'yields an empty chunk, then throws at once',
    async function* () {
      yield new Uint8Array(0);
      throw new Error('boom');
    },
    'cut after 200',
  ],
  [
    'yields empty chunks for a while, then throws',
    async function* () {
      yield new Uint8Array(0);
      await sleep(20);
      yield new Uint8Array(0);
      await sleep(20);
      throw new Error('boom');
    },
    'cut after 200',
  ],
  [
    'yields a non-empty chunk, then throws at once (the head still held for the second step)',
    async function* () {
      yield bytes('row 1\n');
      throw new Error('boom');
    },
    'answered 500',
  ],
  [
    'yields a non-empty chunk, then throws later',
    async function* () {
      yield bytes('row 1\n');
      await sleep(20);
      throw new Error('boom');
    },
    'cut after 200',
  ],
];

const appOf =
  (body: Body): App =>
  (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return body();
  };

describe('a body that fails before or after its head went out', () => {
  for (const [name, body, expected] of cases) {
    it(`serve(): ${name}: ${expected}`, async () => {
      const server = await start(appOf(body));
      try {
        const { raw, clean } = await rawExchangeStrict(server.port, rawGet('/'));
        const head = parseRaw(raw);
        if (expected === 'answered 500') {
          expect([head.status, head.rest.trim(), clean]).toEqual([500, 'Internal Server Error', true]);
          expect(await clientOutcome(`${server.url}/`)).toBe('complete 500');
        } else {
          // The app's head, its chunked body never ended (no last chunk).
          expect([head.status, head.header('Transfer-Encoding')]).toEqual([200, 'chunked']);
          expect(head.rest).not.toContain('0\r\n\r\n');
          expect(await clientOutcome(`${server.url}/`)).toBe('cut after 200');
        }
        expect(server.log.text).toContain('boom');
      } finally {
        await server.close();
      }
    });

    it(`toFetchHandler: ${name}: ${expected}`, async () => {
      const logged: string[] = [];
      const handler = toFetchHandler(appOf(body), { log: { write: (m: string) => void logged.push(m) } });
      const res = await handler(new globalThis.Request('http://localhost/'));
      if (expected === 'answered 500') {
        expect([res.status, (await res.text()).trim()]).toEqual([500, 'Internal Server Error']);
      } else {
        expect(res.status).toBe(200);
        await expect(res.text()).rejects.toThrow('boom');
      }
      expect(logged.join('')).toContain('boom');
    });

    it(`TestClient: ${name}: ${expected}`, async () => {
      const client = new TestClient(appOf(body), { lint: false });
      if (expected === 'answered 500') {
        const res = await client.get('/', { status: 500, allowErrors: true });
        expect((await res.text()).trim()).toBe('Internal Server Error');
      } else {
        await expect(client.get('/', { allowErrors: true })).rejects.toThrow(/the response was cut after its head: boom/);
      }
    });
  }
});
