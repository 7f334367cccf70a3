/**
 * tsgi/routing: rules that answer on a host (Werkzeug's `Rule(host=…)` under
 * `host_matching`): the host matched whole, in lower case, its default port left out, its
 * placeholders among the values; URLs built across hosts are absolute.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { mount } from 'tsgi/middleware';
import { RouteMap, type ValuesOf, routeArgsKey } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';
import { parseRaw, rawExchange, start } from './node-helpers.ts';

const routes = new RouteMap({
  index: '/',
  userIndex: { path: '/', host: '<user>.example.com' },
  userPost: { path: '/posts/<int:id>', host: '<user>.example.com' },
  status: { path: '/status', host: 'api.example.com' },
  apiItems: { path: '/items/', host: 'API.example.com', methods: ['GET', 'POST'] },
  dev: { path: '/dev', host: 'localhost:8000' },
  region: { path: '/files/<path:rest>', host: '<any(eu,us):region>.example.com' },
});

const app = routes.app({
  index: (_req, _values, urls) => `index on ${urls.host}: ${urls.build('userPost', { user: 'bob', id: 1 })}`,
  userIndex: (_req, { user }, urls) => `home of ${user}: ${urls.build('userPost', { user, id: 2 })} ${urls.build('index')} ${urls.build('status')}`,
  userPost: (req, values) => Response.json({ values, route: routeArgsKey.get(req) }),
  status: () => 'api status',
  apiItems: (req) => `items ${req.method}`,
  dev: () => 'dev',
  region: (_req, { region, rest }) => `${region} ${rest}`,
});
const client = new TestClient(app);
const text = async (url: string) => (await client.get(url)).textBody;

describe('a rule with a host', () => {
  it('types its host’s values with its path’s', () => {
    expectTypeOf<ValuesOf<typeof routes.routes, 'userPost', {}>>().toEqualTypeOf<{ user: string; id: number }>();
    expectTypeOf<ValuesOf<typeof routes.routes, 'region', {}>>().toEqualTypeOf<{ region: string; rest: string }>();
  });

  it('answers on its host only, with the host’s values, before a rule without one', async () => {
    expect(await text('http://alice.example.com/')).toBe('home of alice: /posts/2 / http://api.example.com/status');
    expect(await text('http://example.com/')).toBe('index on example.com: http://bob.example.com/posts/1');
    expect(await (await client.get('http://alice.example.com/posts/7')).json()).toEqual({
      values: { user: 'alice', id: 7 },
      route: { endpoint: 'userPost', rule: '/posts/<int:id>', values: { user: 'alice', id: 7 } },
    });
    expect(await text('http://api.example.com/status')).toBe('api status');
    expect(await text('http://eu.example.com/files/a/b')).toBe('eu a/b');
    await client.get('http://example.com/status', { status: 404 });
    await client.get('http://example.com/posts/7', { status: 404 });
    await client.get('http://asia.example.com/files/a', { status: 404 });
  });

  it('compares the host in lower case, the scheme’s default port left out (Werkzeug’s get_host)', async () => {
    expect(await text('http://ALICE.Example.COM:80/')).toBe('home of alice: /posts/2 / http://api.example.com/status');
    expect(await text('https://api.example.com:443/status')).toBe('api status');
    expect(await text('http://api.example.com/items/')).toBe('items GET'); // its pattern's host was API.example.com
    // Another port is part of the host.
    expect(await text('http://alice.example.com:8080/')).toBe('index on alice.example.com:8080: http://bob.example.com/posts/1');
    expect(await text('http://localhost:8000/dev')).toBe('dev');
    await client.get('http://localhost/dev', { status: 404 });
  });

  it('reads a fully qualified host (a trailing dot) as the host, as mount does', async () => {
    expect(await text('http://alice.example.com./')).toBe('home of alice: /posts/2 / http://api.example.com/status');
    expect(await text('http://API.example.com.:80/status')).toBe('api status');
    expect(await text('http://localhost.:8000/dev')).toBe('dev');
    expect(routes.bind(Request.blank('/', { baseUrl: 'http://bob.example.com.' })).build('userPost', { user: 'bob', id: 1 })).toBe('/posts/1');
    const site = new TestClient(mount({ 'http://alice.example.com/site': app }));
    expect((await site.get('http://alice.example.com./site/')).textBody).toBe('home of alice: /site/posts/2 /site/ http://api.example.com/site/status');
    // A rule's own host may be written fully qualified.
    const dotted = new RouteMap({ any: '/', home: { path: '/', host: 'Example.com.' } });
    const dottedClient = new TestClient(dotted.app({ any: () => 'any', home: () => 'home' }));
    expect((await dottedClient.get('http://example.com/')).textBody).toBe('home');
    expect((await dottedClient.get('http://example.com./')).textBody).toBe('home');
  });

  it('leaves other hosts’ rules out of 405, OPTIONS and the slash and merge redirects', async () => {
    await client.post('http://example.com/items/', { status: 404 });
    expect((await client.delete('http://api.example.com/items/', { status: 405 })).headers.get('allow')).toBe('GET, HEAD, OPTIONS, POST');
    expect((await client.options('http://api.example.com/items/', { status: 204 })).headers.get('allow')).toBe('GET, HEAD, OPTIONS, POST');
    expect((await client.get('http://api.example.com/items?q=1', { status: 308 })).headers.get('location')).toBe('http://api.example.com/items/?q=1');
    await client.get('http://example.com/items', { status: 404 });
    expect((await client.get('http://alice.example.com/posts//3', { status: 308 })).headers.get('location')).toBe('http://alice.example.com/posts/3');
  });

  it('matches in routes.lookup only with a host', () => {
    expect(routes.lookup('GET', '/status', 'API.Example.com')).toMatchObject({ kind: 'match', values: {} });
    // As a request's Host is read: a fully qualified name's trailing dot is dropped.
    expect(routes.lookup('GET', '/status', 'api.example.com.')).toMatchObject({ kind: 'match', values: {} });
    expect(routes.lookup('GET', '/posts/3', 'carol.example.com')).toMatchObject({ kind: 'match', values: { user: 'carol', id: 3 } });
    expect(routes.lookup('GET', '/status')).toEqual({ kind: 'none' });
    expect(routes.lookup('GET', '/', 'example.com')).toMatchObject({ kind: 'match', values: {} });
  });

  it('leaves out in routes.lookup the scheme’s default port, as a served request', async () => {
    // Over a socket, `Host: alice.example.com:80` (a client naming the default port) reaches
    // the rule, and routes.lookup given the request's host and scheme finds the same rule.
    const byHand = new RouteMap({ index: '/', home: { path: '/', host: '<sub>.example.com' } });
    const found = (req: Request) => {
      const lookup = byHand.lookup(req.method, req.pathInfo, req.host, req.scheme);
      return lookup.kind === 'match' ? lookup.rule.endpoint : lookup.kind;
    };
    const server = await start(byHand.app({
      index: (req) => `index, lookup ${found(req)}`,
      home: (req, { sub }) => `home of ${sub}, lookup ${found(req)}`,
    }));
    const get = async (host: string) => {
      const raw = `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
      return parseRaw((await rawExchange(server.port, raw)).raw).rest;
    };
    expect(await get('alice.example.com:80')).toBe('home of alice, lookup home');
    expect(await get('Alice.Example.com.:80')).toBe('home of alice, lookup home');
    // Another port is part of the host, for the app as for routes.lookup.
    expect(await get('alice.example.com:443')).toBe('index, lookup index');
    expect(await get('alice.example.com:8080')).toBe('index, lookup index');
    const endpointOn = (host: string, scheme?: string) => {
      const lookup = byHand.lookup('GET', '/', host, scheme);
      return lookup.kind === 'match' ? `${lookup.rule.endpoint} ${JSON.stringify(lookup.values)}` : lookup.kind;
    };
    expect(endpointOn('alice.example.com:443', 'https')).toBe('home {"sub":"alice"}');
    expect(endpointOn('alice.example.com:80', 'https')).toBe('index {}');
    // The scheme in any case, as RFC 3986 §3.1 reads it.
    expect(endpointOn('alice.example.com:80', 'HTTP')).toBe('home {"sub":"alice"}');
    // Without a scheme no port is a default one: the host is matched as given (Map.bind's).
    expect(endpointOn('alice.example.com:80')).toBe('index {}');
    expect(endpointOn('alice.example.com')).toBe('home {"sub":"alice"}');
  });
});

describe('building a URL for a rule with a host', () => {
  it('gives a path on the same host, a full URL (request’s scheme, under SCRIPT_NAME) on another', () => {
    const urls = routes.bind(Request.blank('/', { baseUrl: 'https://alice.example.com/app' }));
    expect(urls.host).toBe('alice.example.com');
    expect(urls.build('userPost', { user: 'alice', id: 3 })).toBe('/app/posts/3');
    expect(urls.build('userPost', { user: 'Bob', id: 3, page: 2 })).toBe('https://bob.example.com/app/posts/3?page=2');
    expect(urls.build('userPost', { user: 'alice', id: 3 }, { external: true, anchor: 'top' })).toBe('https://alice.example.com/app/posts/3#top');
    expect(urls.build('status')).toBe('https://api.example.com/app/status');
    expect(urls.build('dev')).toBe('https://localhost:8000/app/dev');
    expect(urls.build('index')).toBe('/app/');
  });

  it('refuses a value that makes no host, and routes.build without a request', () => {
    const urls = routes.bind(Request.blank('/', { baseUrl: 'http://example.com' }));
    expect(() => urls.build('userPost', { user: 'a b', id: 1 })).toThrow(TypeError);
    expect(() => urls.build('userPost', { user: 'a@evil.com', id: 1 })).toThrow(/not a valid host/);
    expect(() => urls.build('region', { region: 'asia', rest: 'x' })).toThrow(TypeError);
    expect(() => routes.build('status')).toThrow(/bind\(req\)\.build/);
  });

  it('builds under the mount prefix when mounted', async () => {
    const site = new TestClient(mount({ '/site': app }));
    expect((await site.get('http://alice.example.com/site/')).textBody).toBe('home of alice: /site/posts/2 /site/ http://api.example.com/site/status');
  });
});

describe('declaring a host', () => {
  it('refuses an empty host, a host with /, a placeholder named in both', () => {
    expect(() => new RouteMap({ a: { path: '/', host: '' } })).toThrow(TypeError);
    expect(() => new RouteMap({ a: { path: '/', host: 'example.com/x' } })).toThrow(TypeError);
    expect(() => new RouteMap({ a: { path: '/<user>', host: '<user>.example.com' } })).toThrow(/appears in the host/);
    expect(() => new RouteMap({ a: { path: '/', host: '<nope:x>.example.com' } })).toThrow(/unknown converter/);
    // Express's vhost('*.example.com'), Flask's subdomain='*' habits: a wildcard is a placeholder here.
    expect(() => new RouteMap({ a: { path: '/', host: '*.example.com' } })).toThrow(
      'route host "*.example.com" (a): a wildcard matches no host: write a placeholder, as "<sub>.example.com"',
    );
  });
});

describe('an internationalized host', () => {
  const idn = new RouteMap({
    books: { path: '/', host: 'Bücher.example' },
    shop: { path: '/shop', host: '<user>.bücher.example' },
  });

  it('matches the punycode Host browsers send, and builds it, when whole labels are in Unicode', async () => {
    const books = idn.app({ books: (_req, _v, urls) => urls.build('shop', { user: 'ann' }), shop: (_req, { user }) => `shop of ${user}` });
    const server = await start(books);
    const get = async (host: string, path: string) =>
      parseRaw((await rawExchange(server.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).raw);
    expect((await get('xn--bcher-kva.example', '/')).rest).toBe('http://ann.xn--bcher-kva.example/shop');
    expect((await get('Ann.XN--BCHER-KVA.example.', '/shop')).rest).toBe('shop of ann');
    expect(idn.lookup('GET', '/', 'xn--bcher-kva.example')).toMatchObject({ kind: 'match' });
    // routes.lookup reads a host given in Unicode as the request's would be sent.
    expect(idn.lookup('GET', '/shop', 'Ann.Bücher.example:80')).toMatchObject({ kind: 'none' });
    const withScheme = idn.lookup('GET', '/shop', 'Ann.Bücher.example:80', 'http');
    expect(withScheme).toMatchObject({ kind: 'match', values: { user: 'ann' } });
    expect(idn.lookup('GET', '/shop', 'Ann.Bücher.example.')).toMatchObject({ kind: 'match', values: { user: 'ann' } });
  });

  it('builds a value in Unicode in its ASCII form, as the fixed labels are (IDNA), and matches it back', async () => {
    const urls = idn.bind(Request.blank('/', { baseUrl: 'http://xn--bcher-kva.example' }));
    // It threw: "jürgen.xn--bcher-kva.example" is not a valid host.
    expect(urls.build('shop', { user: 'Jürgen' })).toBe('http://xn--jrgen-kva.xn--bcher-kva.example/shop');
    expect(urls.build('shop', { user: 'ＡＮＮ' })).toBe('http://ann.xn--bcher-kva.example/shop');
    expect(idn.lookup('GET', '/shop', 'xn--jrgen-kva.xn--bcher-kva.example')).toMatchObject({ kind: 'match', values: { user: 'xn--jrgen-kva' } });
    // Over a socket, the URL built leads back to the rule.
    const server = await start(idn.app({ books: (_req, _v, links) => links.build('shop', { user: 'jürgen' }), shop: (_req, { user }) => `shop of ${user}` }));
    const get = async (host: string, path: string) =>
      parseRaw((await rawExchange(server.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).raw).rest;
    const built = new URL(await get('xn--bcher-kva.example', '/'));
    expect(await get(built.host, built.pathname)).toBe('shop of xn--jrgen-kva');
  });

  it('refuses a value in Unicode sharing its label with other text, which has no ASCII form to match', () => {
    const mixed = new RouteMap({ shop: { path: '/', host: '<name>-shop.example' } });
    const urls = mixed.bind(Request.blank('/', { baseUrl: 'http://www.example' }));
    expect(urls.build('shop', { name: 'tea' })).toBe('http://tea-shop.example/');
    expect(() => urls.build('shop', { name: 'bü' })).toThrow(
      new TypeError('shop (/): <name>: "bü" is in Unicode, and shares its label in <name>-shop.example: only a whole label has an ASCII form (xn--…) to write'),
    );
    expect(() => urls.build('shop', { name: 'bü@evil' })).toThrow(TypeError);
  });

  it('refuses any() words in upper case in a host, which is matched in lower case: a rule that matched no request', () => {
    expect(() => new RouteMap({ a: { path: '/', host: '<any(EU,us):region>.example.com' } })).toThrow(
      new TypeError('<any(EU,us):region>.example.com: a host is matched in lower case, so any() never matches "EU": write <any(eu,us):region>'),
    );
    expect(() => new RouteMap({ a: { path: '/', host: 'api.<any(v1,V2):v>.Example.com' } })).toThrow(/never matches "V2": write <any\(v1,v2\):v>/);
    // In a path, words keep their case.
    expect(new RouteMap({ a: '/<any(EU,us):region>' }).lookup('GET', '/EU')).toMatchObject({ kind: 'match', values: { region: 'EU' } });
  });

  it('refuses a label that mixes Unicode with a placeholder, which has no ASCII form to match', () => {
    expect(() => new RouteMap({ a: { path: '/', host: 'café-<n>.example' } })).toThrow(/café-<n>\.example: a label in Unicode cannot hold a placeholder/);
  });

  it('refuses a host in Unicode that the URL parser would read as another host (user info, an escape)', () => {
    expect(() => new RouteMap({ a: { path: '/', host: 'bücher@evil.example' } })).toThrow(/route host must be a host name/);
    expect(() => mount({ 'http://bücher.example%2Eevil/': () => [] })).toThrow(/invalid host/);
  });
});

describe('an IPv6 host', () => {
  // RFC 4291 §2.2 lets an address be written in many forms; RFC 5952 gives it one, the form
  // the WHATWG URL parser writes and browsers send.
  const v6 = new RouteMap({
    index: '/',
    two: { path: '/', host: '[0:0::2]' },
    ab: { path: '/ab', host: '[2001:DB8:0000:0:0:0:0:00AB]:8080' },
    anyPort: { path: '/p', host: '[0::3]:<int:port>' },
  });
  const v6app = v6.app({
    index: (_req, _v, urls) => `index on ${urls.host}: ${urls.build('two')} ${urls.build('ab')}`,
    two: (_req, _v, urls) => `two on ${urls.host}: ${urls.build('two')} ${urls.build('anyPort', { port: 81 })}`,
    ab: () => 'ab',
    anyPort: (_req, { port }) => `port ${port}`,
  });

  it('matches a Host naming the address in any written form, and builds the RFC 5952 form', async () => {
    const server = await start(v6app);
    const get = async (host: string, path: string) =>
      parseRaw((await rawExchange(server.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).raw);
    for (const host of ['[::2]', '[0:0::2]', '[0000:0000:0000:0000:0000:0000:0000:0002]', '[::0.0.0.2]', '[::2]:80']) {
      expect([host, (await get(host, '/')).rest]).toEqual([host, 'two on [::2]: / http://[::3]:81/p']);
    }
    for (const host of ['[2001:db8::ab]:8080', '[2001:DB8::AB]:8080', '[2001:db8:0:0::00ab]:8080']) {
      expect([host, (await get(host, '/ab')).rest]).toEqual([host, 'ab']);
    }
    expect((await get('[2001:db8::ab]:8081', '/ab')).status).toBe(404);
    expect((await get('[0:0:0::3]:9000', '/p')).rest).toBe('port 9000');
    expect((await get('[::4]', '/')).rest).toBe('index on [::4]: http://[::2]/ http://[2001:db8::ab]:8080/ab');
    expect(v6.lookup('GET', '/', '[0:0::2]')).toMatchObject({ kind: 'match', rule: { endpoint: 'two' } });
    expect(v6.lookup('GET', '/ab', '[2001:DB8::AB]:8080')).toMatchObject({ kind: 'match', rule: { endpoint: 'ab' } });
  });

  it('refuses a bracketed host that is no IPv6 address, which no Host could match', () => {
    for (const host of ['[::1::2]', '[12345::1]', '[::g]', '[]']) {
      expect(() => new RouteMap({ a: { path: '/', host } }), host).toThrow(/no IPv6 address/);
    }
  });
});

describe('over a socket', () => {
  it('routes by the Host header a client sends', async () => {
    const server = await start(app);
    const get = async (host: string, path: string) =>
      parseRaw((await rawExchange(server.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).raw);
    const home = await get('alice.example.com', '/');
    expect(home.status).toBe(200);
    expect(home.rest).toBe('home of alice: /posts/2 / http://api.example.com/status');
    expect((await get('api.example.com', '/status')).rest).toBe('api status');
    expect((await get(`127.0.0.1:${server.port}`, '/')).rest).toBe(`index on 127.0.0.1:${server.port}: http://bob.example.com/posts/1`);
    expect((await get('127.0.0.1', '/status')).status).toBe(404);
    const moved = await get('api.example.com', '/items');
    expect(moved.status).toBe(308);
    expect(moved.header('location')).toBe('http://api.example.com/items/');
  });
});
