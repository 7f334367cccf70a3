/**
 * A URL with credentials (`http://ada:secret@localhost/`) is refused with a TypeError, as
 * `fetch()` refuses it, rather than sent without them: the app would answer 401 to a test that
 * believed it had logged in (Werkzeug's `auth=('ada', 'secret')` is a header of the call).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, type ServerHandle, serve } from 'tsgi';
import { basicAuthorization } from 'tsgi/http';
import { TestClient } from 'tsgi/testing';

let calls = 0;
const app: App = (environ, startResponse) => {
  calls++;
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode(String(environ.HTTP_AUTHORIZATION ?? 'none'))];
};

let server: ServerHandle;
let port: number;
beforeAll(async () => {
  server = await serve(app, { host: '127.0.0.1', port: 0 });
  port = Number(new URL(server.url).port);
});
afterAll(() => server.close());

describe('a URL with credentials', () => {
  it('rejects the call with a TypeError before the app is called, as fetch() does over a socket', async () => {
    const url = `http://ada:secret@127.0.0.1:${port}/admin`;
    await expect(fetch(url)).rejects.toThrow(TypeError);
    calls = 0;
    const client = new TestClient(app, { baseUrl: `http://127.0.0.1:${port}` });
    await expect(client.get(url)).rejects.toThrow(TypeError);
    await expect(client.get(url)).rejects.toThrow(/basicAuthorization/);
    expect(calls).toBe(0);
  });

  it('is no base URL', () => {
    expect(() => new TestClient(app, { baseUrl: `http://ada:secret@127.0.0.1:${port}` })).toThrow(TypeError);
  });

  it('is written as the Authorization field instead', async () => {
    const client = new TestClient(app, { baseUrl: `http://127.0.0.1:${port}` });
    const authorization = basicAuthorization('ada', 'secret');
    const res = await client.get('/admin', { headers: { authorization } });
    expect(res.textBody).toBe(await (await fetch(new URL('/admin', server.url), { headers: { authorization } })).text());
  });
});
