/**
 * tsgi/routing: a rule's `host` holding text no `Host` field can (a space from a config file,
 * `%`, `@`, a port past 65535, an `any()` word in Unicode) is a `TypeError` from
 * `new RouteMap`: the server answers 400 to such a `Host` (and a field's trailing space never
 * reaches the app), so the rule matched no request, a silent 404, while `build` wrote links
 * to it or failed at request time.
 */
import { describe, expect, it } from 'vitest';
import { RouteMap } from 'tsgi/routing';
import { parseRaw, rawExchange, start } from './node-helpers.ts';

describe('a route host no Host can name', () => {
  it('refuses a character no host name holds, naming it', () => {
    expect(() => new RouteMap({ api: { path: '/', host: 'api.example.com ' } })).toThrow(
      new TypeError('route host "api.example.com " (api): " " is no character of a host (RFC 3986 §3.2.2), so no Host matches it'),
    );
    expect(() => new RouteMap({ a: { path: '/', host: 'user@example.com' } })).toThrow(/"@" is no character of a host/);
    expect(() => new RouteMap({ a: { path: '/', host: '<user>.exa%6Dple.com' } })).toThrow(/"%" is no character of a host/);
    expect(() => new RouteMap({ a: { path: '/', host: '<user>\t.example.com' } })).toThrow(/"\\t" is no character of a host/);
    // From JavaScript or a config file: no string, which crashed with `host.includes is not a function`.
    expect(() => new RouteMap({ a: { path: '/', host: 5 as never } })).toThrow(new TypeError("route host must be a host name, without '/': 5 (a)"));
  });

  it('refuses a host without placeholders that no Host can be (a port past 65535)', () => {
    expect(() => new RouteMap({ a: { path: '/', host: 'localhost:80000' } })).toThrow(
      new TypeError('route host "localhost:80000" (a): no Host can be "localhost:80000" (RFC 9112 §3.2: a uri-host and a port up to 65535), so no Host matches it'),
    );
  });

  it('refuses an any() word a host never holds: in Unicode (its ASCII form to write), or with a space', () => {
    expect(() => new RouteMap({ a: { path: '/', host: '<any(café,tea):shop>.example.com' } })).toThrow(
      new TypeError('<any(café,tea):shop>.example.com: a host is matched in its ASCII form, so any() never matches "café": write <any(xn--caf-dma,tea):shop>'),
    );
    expect(() => new RouteMap({ a: { path: '/', host: "<any('a b',c):w>.example.com" } })).toThrow(
      new TypeError(`<any('a b',c):w>.example.com: any() never matches "a b", which no host holds (RFC 3986 §3.2.2)`),
    );
    // In a path, such words stay.
    expect(new RouteMap({ a: '/<any(café,tea):shop>' }).lookup('GET', '/café')).toMatchObject({ kind: 'match', values: { shop: 'café' } });
  });

  it('still takes hosts with ports, placeholders and IPv6 literals, and matches them over a socket', async () => {
    const routes = new RouteMap({
      port: { path: '/p', host: 'localhost:<int:port>' },
      named: { path: '/n', host: '<name>:<int:port>' },
      v6: { path: '/v6', host: '[::1]:<int:port>' },
      shop: { path: '/s', host: '<any(xn--caf-dma,tea):shop>.example.com' },
    });
    const server = await start(
      routes.app({ port: (_req, { port }) => `port ${port}`, named: (_req, { name }) => `name ${name}`, v6: () => 'v6', shop: (_req, { shop }, urls) => `${shop} ${urls.build('shop', { shop: 'tea' })}` }),
    );
    const get = async (host: string, path: string) => parseRaw((await rawExchange(server.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).raw).rest;
    expect(await get('localhost:8000', '/p')).toBe('port 8000');
    expect(await get('box:8000', '/n')).toBe('name box');
    expect(await get('[::1]:8000', '/v6')).toBe('v6');
    expect(await get('XN--CAF-DMA.example.com', '/s')).toBe('xn--caf-dma http://tea.example.com/s');
  });
});
