/**
 * Every line written about one request names the id `requestId` gave it, as `errors`' lines
 * do: the server's own line for an app that threw (no `errors` layer), the line of a body whose
 * `return()` threw when closed, `accessLog`'s "could not write its line", `toFetchHandler`'s
 * and the `TestClient`'s. Without `requestId`, no line has an id.
 */
import { describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { accessLog, requestId } from 'tsgi/middleware';
import { toFetchHandler } from 'tsgi/fetch';
import { TestClient } from 'tsgi/testing';
import { serveFetch } from './fetch-helpers.ts';
import { start, until } from './node-helpers.ts';

const throwing: App = () => {
  throw new Error('boom');
};

/** A stream of ticks whose `finally` throws: what closing it as the client leaves logs. */
const ticking: App = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return (async function* () {
    try {
      for (;;) {
        yield new TextEncoder().encode('tick\n');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      throw new Error('finally boom');
    }
  })();
};

const ok: App = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('ok')];
};

/** An accessLog that writes nowhere: it closes the app's body itself. */
const quietLog = (app: App): App => accessLog(app, { log: { write() {} } });

/** An accessLog whose stream fails: it logs that it could not write its line. */
const brokenLog = (app: App): App =>
  accessLog(app, {
    log: {
      write() {
        throw new Error('disk full');
      },
    },
  });

/**
 * The first log line of one request to `path` with `X-Request-Id: req-42`, served under
 * requestId, then without it. `leave`: the client leaves after the first chunk.
 */
async function lineOver(app: App, path: string, what: string, leave = false): Promise<string[]> {
  const lines: string[] = [];
  for (const wrapped of [requestId(app), app]) {
    const server = await start(wrapped);
    const leaving = new AbortController();
    const res = await fetch(`${server.url}${path}`, {
      headers: { 'X-Request-Id': 'req-42' },
      signal: leaving.signal,
    });
    if (leave) {
      await res.body!.getReader().read();
      leaving.abort();
    } else {
      await res.arrayBuffer();
    }
    await until(() => server.log.text.includes(what));
    lines.push(server.log.text.split('\n')[0]!);
    await server.close({ timeout: 0 });
  }
  return lines;
}

describe("a request's id on every line about it", () => {
  it('names it in the line of serve() for an app that threw (no errors layer)', async () => {
    expect(await lineOver(throwing, '/boom', 'boom')).toEqual([
      '[tsgi] GET /boom HTTP/1.1 request_id=req-42: Error: boom',
      '[tsgi] GET /boom HTTP/1.1: Error: boom',
    ]);
  });

  const closers = [['the server', (app: App) => app], ['accessLog', quietLog]] as const;
  for (const [layer, wrap] of closers) {
    it(`names it in the line of a body whose return() threw, client gone (${layer})`, async () => {
      const [withId, without] = await lineOver(wrap(ticking), '/ticks', 'finally boom', true);
      const note = layer === 'accessLog' ? " (closing the app's body)" : '';
      expect([withId, without]).toEqual([
        `[tsgi] GET /ticks HTTP/1.1${note} request_id=req-42: Error: finally boom`,
        `[tsgi] GET /ticks HTTP/1.1${note}: Error: finally boom`,
      ]);
    });
  }

  it("names it in accessLog's line when its stream failed", async () => {
    const note = '(accessLog could not write its line)';
    expect(await lineOver(brokenLog(ok), '/page', 'disk full')).toEqual([
      `[tsgi] GET /page HTTP/1.1 ${note} request_id=req-42: Error: disk full`,
      `[tsgi] GET /page HTTP/1.1 ${note}: Error: disk full`,
    ]);
  });

  it("names it in toFetchHandler's line for an app that threw", async () => {
    const lines: string[] = [];
    for (const app of [requestId(throwing), throwing]) {
      const log: string[] = [];
      const handler = toFetchHandler(app, { log: { write: (m: string) => void log.push(m) } });
      const server = await serveFetch(handler);
      try {
        const res = await fetch(`${server.url}/boom`, { headers: { 'X-Request-Id': 'req-42' } });
        expect(res.status).toBe(500);
        await until(() => log.length > 0);
        lines.push(log.join('').split('\n')[0]!);
      } finally {
        await server.close();
      }
    }
    expect(lines).toEqual([
      '[tsgi] GET /boom HTTP/1.1 request_id=req-42: Error: boom',
      '[tsgi] GET /boom HTTP/1.1: Error: boom',
    ]);
  });

  it("names it in the TestClient's line for an app that threw", async () => {
    const headers = { 'X-Request-Id': 'req-42' };
    const options = { status: 500, allowErrors: true, headers };
    const withId = await new TestClient(requestId(throwing)).get('/boom', options);
    const without = await new TestClient(throwing).get('/boom', options);
    const line = /^\[tsgi\] GET \/boom HTTP\/1\.1 request_id=req-42: Error: boom\n/;
    expect(withId.errors).toMatch(line);
    expect(without.errors).toMatch(/^\[tsgi\] GET \/boom HTTP\/1\.1: Error: boom\n/);
  });
});
