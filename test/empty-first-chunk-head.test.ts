/**
 * An empty first chunk commits the head (docs/spec.md §4, §6): the head goes out with it, so a
 * later `startResponse` with an error throws that error into the app, and an app that lets it
 * propagate fails after the head: the connection is cut (`serve()`), the stream errors
 * (`toFetchHandler`), the `TestClient` throws its cut — never a complete-looking 500. Before,
 * a second step ready at once slipped in while the head waited for it (to frame a body that
 * ends there with its length), and the app's failure was answered as one before the head.
 */
import http from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { type App } from 'tsgi';
import { lint } from 'tsgi/middleware';
import { toFetchHandler } from 'tsgi/fetch';
import { TestClient, TestClientError } from 'tsgi/testing';
import { bytes, parseRaw, rawExchange, rawGet, request, sleep, start, until } from './node-helpers.ts';
import { serveFetch } from './fetch-helpers.ts';

/** What the app's second `startResponse` did: threw (the error it threw), or let the new head in. */
interface Seen {
  thrown: unknown[];
}

/**
 * An app whose body yields an empty chunk, then, its second step ready at once (sync, or an
 * async generator with no wait), changes its mind with `startResponse(…, error)` and lets
 * what that throws propagate.
 */
function changesItsMind(seen: Seen, sync: boolean): App {
  const late = (startResponse: Parameters<App>[1]) => {
    const error = new Error('changed its mind');
    try {
      startResponse('500 Internal Server Error', [['Content-Type', 'text/plain']], error);
    } catch (thrown) {
      seen.thrown.push(thrown);
      throw thrown;
    }
  };
  return (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    if (sync) {
      return (function* () {
        yield new Uint8Array(0);
        late(startResponse);
        yield bytes('the replacement');
      })();
    }
    return (async function* () {
      yield new Uint8Array(0);
      late(startResponse);
      yield bytes('the replacement');
    })();
  };
}

/** How a socket client saw the answer: `cut` unless it got a complete response. */
async function outcome(url: string): Promise<string> {
  return new Promise((resolve) => {
    http
      .get(url, { agent: false }, (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(`complete ${res.statusCode}`));
        res.on('error', () => resolve('cut'));
        res.on('aborted', () => resolve('cut'));
      })
      .on('error', () => resolve('cut'));
  });
}

const variants: Array<[string, boolean, boolean]> = [
  ['an async generator', false, false],
  ['a sync generator', true, false],
  ['an async generator under lint', false, true],
];

describe('an empty first chunk commits the head (spec §4, §6)', () => {
  for (const [name, sync, linted] of variants) {
    const app = (seen: Seen): App => (linted ? lint(changesItsMind(seen, sync)) : changesItsMind(seen, sync));

    it(`serve(): a later startResponse with an error throws it, and the connection is cut (${name})`, async () => {
      const seen: Seen = { thrown: [] };
      const server = await start(app(seen));
      const { raw } = await rawExchange(server.port, rawGet('/'));
      // The 200 head and no end: never the server's 500 or the app's replacement.
      expect(parseRaw(raw).status).toBe(200);
      expect(raw).not.toContain('500');
      expect(raw).not.toContain('the replacement');
      expect(await outcome(`${server.url}/`)).toBe('cut');
      expect(seen.thrown.map((e) => (e as Error).message)).toEqual(['changed its mind', 'changed its mind']);
      await until(() => server.log.messages.length >= 2);
      expect(server.log.text).toContain('changed its mind');
    });

    it(`toFetchHandler: the stream errors, over a socket (${name})`, async () => {
      const seen: Seen = { thrown: [] };
      const logged: string[] = [];
      const handler = toFetchHandler(app(seen), { log: { write: (m: string) => void logged.push(m) } });
      const res = await handler(new globalThis.Request('http://localhost/'));
      expect(res.status).toBe(200);
      await expect(res.text()).rejects.toThrow('changed its mind');
      const server = await serveFetch(handler);
      // @hono/node-server reports the errored stream on the console: not this test's output.
      const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
      try {
        expect(await outcome(`${server.url}/`)).toBe('cut');
      } finally {
        quiet.mockRestore();
        await server.close();
      }
      expect(seen.thrown).toHaveLength(2);
      expect(logged.join('')).toContain('changed its mind');
    });

    it(`TestClient: the response is cut after its head (${name})`, async () => {
      const seen: Seen = { thrown: [] };
      const error = await new TestClient(app(seen), { lint: false }).get('/', { allowErrors: true }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TestClientError);
      expect((error as Error).message).toMatch(/the response was cut after its head: changed its mind/);
      expect(seen.thrown).toHaveLength(1);
    });
  }

  it('sends the head at once, before a second step that is ready at once, unframed by a length', async () => {
    // The long poll the spec names: an empty chunk to commit the head, the rest much later.
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield new Uint8Array(0);
        await sleep(20);
        yield bytes('late');
      })();
    };
    const server = await start(app);
    const res = await request(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.body.toString()).toBe('late');
    // An app that catches the throw goes on with the head it gave.
    const catching: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (function* () {
        yield new Uint8Array(0);
        try {
          startResponse('503 Service Unavailable', [], new Error('too late'));
          yield bytes('replaced');
        } catch {
          yield bytes('kept');
        }
      })();
    };
    const caught = await start(catching);
    const kept = await request(`${caught.url}/`);
    expect([kept.status, kept.body.toString()]).toEqual([200, 'kept']);
    const fetched = await toFetchHandler(catching)(new globalThis.Request('http://localhost/'));
    expect([fetched.status, await fetched.text()]).toEqual([200, 'kept']);
    const tested = await new TestClient(catching).get('/');
    expect([tested.statusCode, await tested.text()]).toEqual([200, 'kept']);
  });

  it('streams a body whose empty first chunk is followed by its end at once: the head went out unframed (no Content-Length: 0)', async () => {
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (function* () {
        yield new Uint8Array(0);
      })();
    };
    const server = await start(app);
    const res = await request(`${server.url}/`);
    expect([res.status, res.headers['content-length'], res.headers['transfer-encoding'], res.body.byteLength]).toEqual([200, undefined, 'chunked', 0]);
    const fetched = await serveFetch(toFetchHandler(app));
    try {
      const viaFetch = await request(`${fetched.url}/`);
      expect([viaFetch.status, viaFetch.headers['content-length'], viaFetch.body.byteLength]).toEqual([200, undefined, 0]);
    } finally {
      await fetched.close();
    }
    const tested = await new TestClient(app).get('/');
    expect([tested.statusCode, tested.headers.get('Content-Length'), (await tested.bytes()).byteLength]).toEqual([200, null, 0]);
  });
});
