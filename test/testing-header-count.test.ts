/**
 * `TestClient` answers a request of more header fields than `serve()` takes `431 Request Header
 * Fields Too Large` without calling the app, in the server's words, as `serve()` does over a
 * socket (gunicorn's `limit_request_fields`): the fields the call sends are counted, the `Host`
 * and the body's framing fields the client adds among them, against the same `maxHeaders`.
 */
import { describe, expect, it } from 'vitest';
import { Request } from 'tsgi';
import { TestClient } from 'tsgi/testing';
import { parseRaw, rawExchange, start } from './node-helpers.ts';

function site() {
  let calls = 0;
  const app = Request.application(() => {
    calls++;
    return 'seen';
  });
  return { app, calls: () => calls };
}

/** `count` fields of distinct names, the `Host` not among them. */
const fields = (count: number): Array<[string, string]> => Array.from({ length: count }, (_, i) => [`X-Field-${i}`, 'v']);

describe('TestClient header field count', () => {
  it('answers past 100 fields 431 as serve() does, the app not called', async () => {
    const served = site();
    const server = await start(served.app);
    const tested = site();
    const client = new TestClient(tested.app, { status: '*' });
    try {
      // With the Host: 100 fields pass, 101 are refused.
      for (const [others, status] of [[99, 200], [100, 431]] as const) {
        const lines = fields(others).map(([name, value]) => `${name}: ${value}\r\n`).join('');
        const overSocket = parseRaw((await rawExchange(server.port, `GET / HTTP/1.0\r\nHost: localhost\r\n${lines}\r\n`)).raw);
        const inProcess = await client.get('/', { headers: fields(others) });
        expect(overSocket.status, `${others} fields and Host`).toBe(status);
        expect(inProcess.statusCode, `${others} fields and Host`).toBe(status);
        expect(await inProcess.text()).toBe(overSocket.rest);
      }
      expect(tested.calls()).toBe(1);
      expect(served.calls()).toBe(1);
      // A body's Content-Type and Content-Length are fields the client sends: 98 more and the Host make 101.
      expect((await client.post('/', { headers: fields(98), json: {} })).statusCode).toBe(431);
      expect((await client.post('/', { headers: fields(97), json: {} })).statusCode).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('takes serve()\'s maxHeaders', async () => {
    const client = new TestClient(site().app, { status: '*', maxHeaders: 150 });
    expect((await client.get('/', { headers: fields(149) })).statusCode).toBe(200);
    const refused = await client.get('/', { headers: fields(150) });
    expect(refused.statusCode).toBe(431);
    expect(await refused.text()).toBe('Request Header Fields Too Large: more than 150 header fields\n');
    expect(() => new TestClient(site().app, { maxHeaders: 0 })).toThrow(TypeError);
    expect(() => new TestClient(site().app, { maxHeaders: '100' as never })).toThrow(TypeError);
  });
});
