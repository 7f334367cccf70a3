/**
 * accessLog's `bytes` for an answer the server sent in place of the app's (docs/spec.md §7.4):
 * the body bytes of that answer, the client's, as nginx's `$body_bytes_sent` counts its error
 * pages, with its status. The app's body failed while the server held its head (at its first
 * step, or at the second one the head waited for), or raised an `HTTPException` there: under
 * `serve()`, `toFetchHandler` (over a socket) and the `TestClient` alike. And for a client that
 * hangs up half-way through a large answer in memory: `bytes` is what was handed to the server,
 * the whole body (docs/middleware.md, "Coming from nginx").
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { type App, HTTPServiceUnavailable } from 'tsgi';
import { type AccessLogEntry, accessLog } from 'tsgi/middleware';
import { toFetchHandler } from 'tsgi/fetch';
import { TestClient } from 'tsgi/testing';
import { bytes, request, start, until } from './node-helpers.ts';
import { serveFetch } from './fetch-helpers.ts';

const quiet = { write: () => {} };

/** A body that fails at its first step (`first`), or right after its first chunk, while the head is held. */
function failing(first: boolean, error: () => Error = () => new Error('body failed')): App {
  return (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain'], ['X-Trace', 't1']]);
    return (async function* () {
      if (!first) yield bytes('part');
      throw error();
    })();
  };
}

/** The entries `accessLog` writes for `app`, and the logged app. */
function logged(app: App): { app: App; entries: AccessLogEntry[] } {
  const entries: AccessLogEntry[] = [];
  return { entries, app: accessLog(app, { log: quiet, format: (e) => (entries.push(e), 'line') }) };
}

/** `[status, body bytes]` the client got for `method /` from each server, and the entry logged for each. */
async function everywhere(app: App, method = 'GET'): Promise<Array<{ name: string; got: [number, number]; entry: [number, number, string] }>> {
  const results: Array<{ name: string; got: [number, number]; entry: [number, number, string] }> = [];
  const entryOf = (e: AccessLogEntry): [number, number, string] => [e.status, e.bytes, e.outcome];
  {
    const { app: logging, entries } = logged(app);
    const server = await start(logging, { log: quiet });
    const res = await request(`${server.url}/`, { method });
    await until(() => entries.length === 1);
    results.push({ name: 'serve()', got: [res.status, res.body.byteLength], entry: entryOf(entries[0]!) });
  }
  {
    const { app: logging, entries } = logged(app);
    const server = await serveFetch(toFetchHandler(logging, { log: quiet }));
    try {
      const res = await request(`${server.url}/`, { method });
      await until(() => entries.length === 1);
      results.push({ name: 'toFetchHandler', got: [res.status, res.body.byteLength], entry: entryOf(entries[0]!) });
    } finally {
      await server.close();
    }
  }
  {
    const { app: logging, entries } = logged(app);
    const res = await new TestClient(logging, { lint: false, allowErrors: true }).request(method, '/', { status: ['2xx', '3xx', '4xx', '5xx'] });
    await until(() => entries.length === 1);
    results.push({ name: 'TestClient', got: [res.statusCode, (await res.bytes()).byteLength], entry: entryOf(entries[0]!) });
  }
  return results;
}

describe("accessLog's bytes of the server's own answer", () => {
  it.each([
    ['at its first step', true],
    ['at the second step the head waited for', false],
  ])('counts the 500 the client got for a body that failed %s, with its status', async (_name, first) => {
    for (const { name, got, entry } of await everywhere(failing(first))) {
      expect(got, name).toEqual([500, 22]);
      expect(entry, name).toEqual([500, 22, 'error']);
    }
  });

  it("counts an HTTPException's page the server answered with, as the client got it", async () => {
    const app = failing(false, () => new HTTPServiceUnavailable('down for maintenance'));
    for (const { name, got, entry } of await everywhere(app)) {
      expect(got[0], name).toBe(503);
      expect(got[1], name).toBeGreaterThan(0);
      expect(entry, name).toEqual([503, got[1], 'error']);
    }
  });

  it('counts 0 for the 500 answered to a HEAD request, which carries no body', async () => {
    for (const { name, got, entry } of await everywhere(failing(false), 'HEAD')) {
      expect(got, name).toEqual([500, 0]);
      expect(entry, name).toEqual([500, 0, 'error']);
    }
  });

  it('counts an answer in memory whole when the client hangs up half-way: the bytes handed to the server, not those the kernel took', async () => {
    const size = 16 * 1024 * 1024;
    const { app, entries } = logged((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      return [new Uint8Array(size)];
    });
    const server = await start(app);
    await new Promise<void>((resolve) => {
      http.get(`${server.url}/`, { agent: false }, (res) => {
        res.once('data', () => {
          res.destroy();
          resolve();
        });
      });
    });
    await until(() => entries.length === 1);
    expect([entries[0]!.status, entries[0]!.bytes, entries[0]!.outcome]).toEqual([200, size, 'close']);
  });
});
