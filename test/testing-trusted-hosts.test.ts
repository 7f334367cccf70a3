/**
 * `TestClient`'s `trustedHosts`: the client refuses a `Host` outside the list as `serve()` does
 * with the same list (Django's test client answers `DisallowedHost` for a host outside
 * `ALLOWED_HOSTS`), before the app runs, and hands the list to `proxyFix` as the server does.
 */
import { describe, expect, it } from 'vitest';
import { Request } from 'tsgi';
import { proxyFix } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { parseRaw, rawExchange, start } from './node-helpers.ts';

const trustedHosts = ['members.example', '127.0.0.1'];

function site() {
  let calls = 0;
  const app = proxyFix(
    Request.application((req) => {
      calls++;
      return `at ${req.host}`;
    }),
    { xHost: 1, trust: 'loopback' },
  );
  return { app, calls: () => calls };
}

describe('TestClient trustedHosts', () => {
  it('answers a Host outside the list 400 without calling the app, as serve() does over a socket', async () => {
    const served = site();
    const server = await start(served.app, { trustedHosts });
    const tested = site();
    const client = new TestClient(tested.app, { baseUrl: 'http://members.example', trustedHosts, status: '*' });
    try {
      const cases: Array<[Record<string, string>, number]> = [
        [{ host: 'members.example' }, 200],
        [{ host: 'MEMBERS.example:8000' }, 200],
        [{ host: 'evil.example' }, 400],
        [{ host: '' }, 400],
        [{ host: 'members.example', 'x-forwarded-host': 'evil.example' }, 400],
        [{ host: 'members.example', 'x-forwarded-host': 'members.example' }, 200],
      ];
      for (const [headers, status] of cases) {
        const fields = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
        const overSocket = parseRaw((await rawExchange(server.port, `GET / HTTP/1.1\r\n${fields}Connection: close\r\n\r\n`)).raw);
        const inProcess = await client.get('/', { headers });
        expect(overSocket.status, JSON.stringify(headers)).toBe(status);
        expect(inProcess.statusCode, JSON.stringify(headers)).toBe(status);
        if (status === 400) expect(await inProcess.text()).toBe(overSocket.rest);
      }
      expect(tested.calls()).toBe(served.calls());
      expect(tested.calls()).toBe(3);
    } finally {
      await server.close();
    }
  });

  it('answers every call 400 when the base URL is not listed, and checks the list when made', async () => {
    const client = new TestClient(site().app, { trustedHosts, status: '*' });
    expect((await client.get('/')).statusCode).toBe(400);
    expect(() => new TestClient(site().app, { trustedHosts: ['*.example.com'] })).toThrow(TypeError);
    expect(() => new TestClient(site().app, { trustedHosts: 'members.example' as never })).toThrow(TypeError);
  });

  it('lets every host through without the option', async () => {
    const client = new TestClient(site().app);
    expect(await (await client.get('/', { headers: { host: 'evil.example' } })).text()).toBe('at evil.example');
  });
});
