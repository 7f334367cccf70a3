/**
 * lint leaves the framing of an answer as the app made it: an array body (whole when the app
 * returns it) is framed with `Content-Length` by the server, and so by a linted app, and by a
 * `TestClient`, which runs every call under lint.
 */
import { describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { lint } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { encoder, request, start } from './node-helpers.ts';

/** An array body of several chunks, an empty one among them: 6 bytes, no Content-Length of the app's. */
const app: App = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [encoder.encode('abc'), new Uint8Array(0), encoder.encode('def')];
};

describe('lint and an array body', () => {
  it('leaves its Content-Length to the server, as without lint', async () => {
    for (const served of [app, lint(app)]) {
      const server = await start(served, { host: '127.0.0.1' });
      try {
        for (const method of ['GET', 'HEAD']) {
          const wire = await request(server.url, { method });
          expect(wire.headers['content-length']).toBe('6');
          expect(wire.headers['transfer-encoding']).toBeUndefined();
        }
      } finally {
        await server.close();
      }
    }
  });

  it('gives a TestClient the Content-Length serve() sends, lint on (the default) or off, to a GET and a HEAD', async () => {
    const server = await start(app, { host: '127.0.0.1' });
    try {
      for (const [client, method] of [new TestClient(app, { baseUrl: server.url }), new TestClient(app, { baseUrl: server.url, lint: false })].flatMap((c) => [[c, 'GET'], [c, 'HEAD']] as const)) {
        const wire = await request(server.url, { method });
        const res = await client.request(method, '/');
        expect(res.headers.get('content-length')).toBe(wire.headers['content-length']);
        expect(res.contentLength).toBe(6);
      }
    } finally {
      await server.close();
    }
  });

  it('still answers 500 for an array body that contradicts its Content-Length', async () => {
    const lying: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '5']]);
      return [encoder.encode('abc'), encoder.encode('def')];
    };
    const res = await new TestClient(lying).get('/', { status: 500, allowErrors: true });
    expect(res.errors).toMatch(/Content-Length/);
  });
});
