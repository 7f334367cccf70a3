/**
 * A URL with credentials (`http://ada:secret@localhost/`) is refused with a TypeError, as
 * `fetch()` refuses it, rather than sent without them: the app would answer 401 to a test that
 * believed it had logged in (Werkzeug's `auth=('ada', 'secret')` is a header of the call).
 */
import { describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { basicAuthorization } from 'tsgi/http';
import { TestClient } from 'tsgi/testing';
import { serveForSuite } from './node-helpers.ts';

let calls = 0;
const app: App = (environ, startResponse) => {
  calls++;
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode(String(environ.HTTP_AUTHORIZATION ?? 'none'))];
};

const served = serveForSuite(app);

describe('a URL with credentials', () => {
  it('rejects the call with a TypeError before the app is called, as fetch() does over a socket', async () => {
    const url = `http://ada:secret@127.0.0.1:${served.port}/admin`;
    await expect(fetch(url)).rejects.toThrow(TypeError);
    calls = 0;
    const client = new TestClient(app, { baseUrl: `http://127.0.0.1:${served.port}` });
    await expect(client.get(url)).rejects.toThrow(TypeError);
    await expect(client.get(url)).rejects.toThrow(/basicAuthorization/);
    expect(calls).toBe(0);
  });

  it('is no base URL', () => {
    expect(() => new TestClient(app, { baseUrl: `http://ada:secret@127.0.0.1:${served.port}` })).toThrow(TypeError);
  });

  it('is written as the Authorization field instead', async () => {
    const client = new TestClient(app, { baseUrl: `http://127.0.0.1:${served.port}` });
    const authorization = basicAuthorization('ada', 'secret');
    const res = await client.get('/admin', { headers: { authorization } });
    expect(res.textBody).toBe(await (await fetch(new URL('/admin', served.server.url), { headers: { authorization } })).text());
  });
});
