/**
 * An array body that also has an async iterator (spec §6): the server's fast path sends the
 * array's chunks, so every other path (the TestClient, a lazy app, a layer above) must too,
 * or an app passes its tests and sends other bytes when served.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request, Response, defineMiddleware } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { TestClient } from 'tsgi/testing';
import { start } from './node-helpers.ts';

const enc = new TextEncoder();

/** `[bytes('array')]`, with an async iterator yielding other bytes. */
function both(): Uint8Array[] {
  const body = [enc.encode('array')];
  Object.defineProperty(body, Symbol.asyncIterator, {
    value: async function* () {
      yield enc.encode('async');
    },
  });
  return body;
}

const eager: App = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return both();
};

const stamp = defineMiddleware(async (req, app) => {
  const res = await req.getResponse(app);
  res.headers.set('X-Layer', 'on');
  return res;
});

describe('an array body that is also an async iterable', () => {
  it('is its chunks over a socket, in the TestClient and under a layer alike', async () => {
    const server = await start(eager);
    const served = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(await served.text()).toBe('array');
    const client = new TestClient(eager);
    expect(await (await client.get('/')).text()).toBe('array');
    const layered = new TestClient(stamp(eager));
    expect(await (await layered.get('/')).text()).toBe('array');
    const handler = toFetchHandler(eager);
    expect(await (await handler(new globalThis.Request('http://localhost/'))).text()).toBe('array');
  });

  it('is its chunks through Response.fromApp-style reading (getResponse outside an app)', async () => {
    const res = await Request.blank('/').getResponse(eager);
    expect(await res.text()).toBe('array');
    expect(res instanceof Response).toBe(true);
  });
});
