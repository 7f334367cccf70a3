/**
 * Scenario: a Flask team's URL map moved to `RouteMap` as docs/routing.md says (its Werkzeug
 * section): converters (`int`, `path`, `uuid`, `any`, custom ones with their own regex,
 * `toValue` and `toUrl`), strict slashes, merged slashes, defaults that redirect to the
 * canonical URL, `redirectTo`, methods with the automatic `HEAD` and `OPTIONS`, `405` with
 * `Allow`, host rules, URLs built under a mount point, and a plain 404. The site is served by
 * `serve()` on 127.0.0.1 and asked as a browser or curl asks it, over raw sockets (so `//`,
 * `..` and escapes reach the server as written), and through the `TestClient`. It guards two
 * fixes: a converter whose `toValue` throws on a client's text refuses the match (it was a
 * `500`), and one that throws an `HTTPException` still answers it (a `400` with its reason).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTPBadRequest, type ServerHandle, serve } from 'tsgi';
import { mount } from 'tsgi/middleware';
import { type Converter, RouteMap } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';
import { errorLog, parseRaw, rawExchange } from './node-helpers.ts';

/** A slug that refuses (`undefined`) the reserved word `admin`. */
const slug: Converter<string> = { regex: '[a-z0-9]+(?:-[a-z0-9]+)*', toValue: (text) => (text === 'admin' ? undefined : text), toUrl: (value) => value };
/** A day, read as a Flask converter's `to_python` would: `toISOString` throws a `RangeError` for `2024-13-45`. */
const day: Converter<string> = { regex: '\\d{4}-\\d{2}-\\d{2}', toValue: (text) => new Date(`${text}T00:00:00Z`).toISOString().slice(0, 10), toUrl: (value) => value };
/** A week: a text its regex takes but no week is a `400` with a reason, thrown as an `HTTPException` (Flask: `raise BadRequest`). */
const week: Converter<number> = {
  regex: '\\d{1,2}',
  toValue: (text) => {
    if (Number(text) < 1 || Number(text) > 53) throw new HTTPBadRequest('weeks run from 1 to 53');
    return Number(text);
  },
  toUrl: (value) => String(value),
};
/** A big number: `BigInt('zz')` throws a `SyntaxError`. */
const big: Converter<bigint> = { regex: '[0-9a-z]+', toValue: (text) => BigInt(text), toUrl: (value) => String(value) };

const routes = new RouteMap(
  {
    index: '/',
    items: { path: '/items/', methods: ['GET', 'POST'] },
    itemNew: '/items/new',
    item: { path: '/items/<int:id>', methods: ['GET', 'PUT', 'DELETE'] },
    itemSlug: '/items/<slug:s>',
    files: '/files/<path:rest>',
    obj: '/obj/<uuid:u>',
    kind: '/k/<any(a,b):kind>',
    page: [{ path: '/page/', defaults: { n: 1 } }, '/page/<int:n>'],
    old: { path: '/old/<int:id>', redirectTo: '/items/<id>' },
    alias: { path: '/alias/<name>', redirectTo: '/n/<name>' },
    aliasFn: { path: '/aliasfn/<name>', redirectTo: (values): string => routes.build('name', { name: String(values.name) }) },
    loose: { path: '/loose', strictSlashes: false },
    upload: { path: '/upload/', methods: ['POST'] },
    readThing: { path: '/things/<int:id>', methods: ['GET'] },
    writeThing: { path: '/things/<int:id>', methods: ['POST'] },
    dir: '/dir/<name>/',
    name: '/n/<name>',
    day: '/day/<day:d>',
    big: '/big/<big:b>',
    bigName: '/big/<name>',
    week: '/week/<week:w>',
    tenant: { path: '/', host: '<user>.example.com' },
    status: { path: '/status', host: 'api.example.com' },
    links: '/links',
  },
  { converters: { slug, day, big, week } },
);

const app = routes.app({
  index: () => 'index',
  items: (req) => `items ${req.method}`,
  itemNew: () => 'new',
  item: (req, { id }) => `item ${id} ${req.method}`,
  itemSlug: (req, { s }) => `slug ${s}`,
  files: (req, { rest }) => `files ${JSON.stringify(rest)}`,
  obj: (req, { u }) => `uuid ${u}`,
  kind: (req, { kind }) => `kind ${kind}`,
  page: (req, { n }) => `page ${n}`,
  loose: () => 'loose',
  upload: () => 'uploaded',
  readThing: (req, { id }) => `read ${id}`,
  writeThing: (req, { id }) => `write ${id}`,
  dir: (req, { name }) => `dir ${JSON.stringify(name)}`,
  name: (req, { name }, urls) => `name ${JSON.stringify(name)} ${urls.build('name', { name })}`,
  day: (req, { d }) => `day ${d}`,
  big: (req, { b }) => `big ${b}`,
  bigName: (req, { name }) => `big name ${name}`,
  week: (req, { w }) => `week ${w}`,
  tenant: (req, { user }, urls) => `tenant ${user} ${urls.build('status')}`,
  status: () => 'ok',
  links: (req, _values, urls) =>
    [
      urls.build('item', { id: 3 }),
      urls.build('item', { id: 3 }, { external: true, anchor: 'rev iews' }),
      urls.build('items', { q: 'a b&c', next: '/x?y', tag: ['é', '/'] }),
      urls.build('name', { name: 'café ü?#%' }),
      urls.build('files', { rest: 'a b/c%d/ü' }),
      urls.build('page', { n: 1 }),
      urls.build('page', { n: 2 }),
      urls.build('kind', { kind: 'b' }),
      urls.build('tenant', { user: 'bob' }),
    ].join('\n'),
});

const site = mount({ '/shop': app, '': app });
const log = errorLog();
let server: ServerHandle;
let port: number;

beforeAll(async () => {
  server = await serve(site, { host: '127.0.0.1', port: 0, log });
  port = Number(new URL(server.url).port);
});
afterAll(() => server.close());

interface Answer {
  status: number;
  location: string | undefined;
  allow: string | undefined;
  body: string;
}

/** `method target` over a fresh socket, the target sent byte for byte as written. */
async function ask(method: string, target: string, host = 'example.com', fields = ''): Promise<Answer> {
  const { raw } = await rawExchange(port, `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${fields}\r\n`);
  const res = parseRaw(raw);
  const length = res.header('content-length');
  const body = Buffer.from(res.rest, 'latin1').toString('utf8');
  return { status: res.status, location: res.header('location'), allow: res.header('allow'), body: length === undefined ? body : body.slice(0, Number(length)) };
}

describe('a Flask URL map served by RouteMap, over a socket', () => {
  it('picks the rule Werkzeug picks: static first, then converters by weight', async () => {
    expect((await ask('GET', '/items/new')).body).toBe('new');
    expect((await ask('GET', '/items/3')).body).toBe('item 3 GET');
    expect((await ask('GET', '/items/my-post')).body).toBe('slug my-post');
    // Too large for a safe integer: int refuses, the slug takes it.
    expect((await ask('GET', '/items/99999999999999999999')).body).toBe('slug 99999999999999999999');
    // The slug refuses `admin` (toValue answers undefined): no rule is left, a 404.
    expect((await ask('GET', '/items/admin')).status).toBe(404);
    expect((await ask('GET', '/obj/1B4E28BA-2FA1-11D2-883F-0016D3CCA427')).body).toBe('uuid 1b4e28ba-2fa1-11d2-883f-0016d3cca427');
    expect((await ask('GET', '/obj/not-a-uuid')).status).toBe(404);
    expect((await ask('GET', '/k/b')).body).toBe('kind b');
    expect((await ask('GET', '/k/c')).status).toBe(404);
  });

  it('a converter whose toValue throws refuses the match: the next rule, else 404, never a 500', async () => {
    expect((await ask('GET', '/day/2024-02-29')).body).toBe('day 2024-02-29');
    const badDay = await ask('GET', '/day/2024-13-45');
    expect(badDay.status).toBe(404);
    expect((await ask('GET', '/big/12')).body).toBe('big 12');
    expect((await ask('GET', '/big/zz')).body).toBe('big name zz');
    expect(log.text).toBe('');
  });

  it('a converter that throws an HTTPException answers it: a 400 with its reason', async () => {
    expect((await ask('GET', '/week/12')).body).toBe('week 12');
    const bad = await ask('GET', '/week/99');
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('weeks run from 1 to 53');
  });

  it('redirects to the slash, the merged path and the canonical URL with 308, the query kept, for POST too', async () => {
    for (const method of ['GET', 'POST']) {
      const res = await ask(method, '/items?a=1&b=%2F');
      expect([res.status, res.location]).toEqual([308, 'http://example.com/items/?a=1&b=%2F']);
    }
    expect((await ask('POST', '/items/')).body).toBe('items POST');
    expect((await ask('POST', '//items///3')).location).toBe('http://example.com/items/3');
    expect((await ask('GET', '/page/1?x=1')).location).toBe('http://example.com/page/?x=1');
    expect((await ask('GET', '/page/')).body).toBe('page 1');
    expect((await ask('GET', '/page/2')).body).toBe('page 2');
    expect((await ask('GET', '/old/5?q=1')).location).toBe('http://example.com/items/5?q=1');
    expect((await ask('GET', '/loose/')).body).toBe('loose');
    expect((await ask('GET', '/items/3/')).status).toBe(404);
  });

  it('keeps reserved and non-ASCII characters escaped in the redirects it builds, under a mount too', async () => {
    expect((await ask('GET', '/dir/caf%C3%A9%3F%23%25x?q=%3F')).location).toBe('http://example.com/dir/caf%C3%A9%3F%23%25x/?q=%3F');
    expect((await ask('GET', '/shop/dir/caf%C3%A9%3F%23')).location).toBe('http://example.com/shop/dir/caf%C3%A9%3F%23/');
    expect((await ask('GET', '/shop/alias/caf%C3%A9%3F%23')).location).toBe('http://example.com/shop/n/caf%C3%A9%3F%23');
    expect((await ask('GET', '/shop/aliasfn/caf%C3%A9%3F%23')).location).toBe('http://example.com/shop/n/caf%C3%A9%3F%23');
    expect((await ask('GET', '//n/caf%C3%A9%3F%23')).location).toBe('http://example.com/n/caf%C3%A9%3F%23');
    expect((await ask('GET', '/dir/x%0D%0ASet-Cookie:%20a=b')).location).toBe('http://example.com/dir/x%0D%0ASet-Cookie:%20a=b/');
  });

  it('answers 405 with Allow, HEAD with the GET rule, OPTIONS with 204 and Allow', async () => {
    const patch = await ask('PATCH', '/items/3');
    expect([patch.status, patch.allow]).toEqual([405, 'DELETE, GET, HEAD, OPTIONS, PUT']);
    const options = await ask('OPTIONS', '/items/3');
    expect([options.status, options.allow]).toEqual([204, 'DELETE, GET, HEAD, OPTIONS, PUT']);
    expect((await ask('HEAD', '/items/3')).status).toBe(200);
    expect((await ask('HEAD', '/upload/')).allow).toBe('OPTIONS, POST');
    expect((await ask('POST', '/things/4')).body).toBe('write 4');
    expect((await ask('DELETE', '/things/4')).allow).toBe('GET, HEAD, OPTIONS, POST');
    expect((await ask('POST', '/old/5')).status).toBe(405);
    const none = await ask('OPTIONS', '/nothing/here');
    expect([none.status, none.allow]).toEqual([404, undefined]);
    expect(none.body).toBe('404 Not Found\n\nThe requested URL was not found on the server.\n');
  });

  it('decodes values once, refuses what no UTF-8 is, and caps the target', async () => {
    expect((await ask('GET', '/n/%25')).body).toBe('name "%" /n/%25');
    expect((await ask('GET', '/n/caf%C3%A9')).body).toBe('name "café" /n/caf%C3%A9');
    expect((await ask('GET', '/n/trailing.')).body).toBe('name "trailing." /n/trailing.');
    expect((await ask('GET', '/n/a%2Fb')).status).toBe(404);
    expect((await ask('GET', '/files/a%252Fb')).body).toBe('files "a%2Fb"');
    expect((await ask('GET', '/files/a/b/c.txt')).body).toBe('files "a/b/c.txt"');
    for (const bad of ['/files/%E6%9D', '/n/%ff', '/n/%zz']) expect((await ask('GET', bad)).status).toBe(400);
    expect((await ask('GET', '/n/..')).location).toBe('http://example.com/');
    expect((await ask('GET', `/n/${'a'.repeat(9000)}`)).status).toBe(200);
    expect((await ask('GET', `/n/${'a'.repeat(20_000)}`)).status).toBe(414);
  });

  it('answers a WebSocket handshake to an HTTP rule as HTTP (no upgrade handler), and many requests at once', async () => {
    const handshake = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    expect(await ask('GET', '/items/3', 'example.com', handshake)).toMatchObject({ status: 200, body: 'item 3 GET' });
    const targets = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? `/items/${i}` : i % 3 === 1 ? `/big/x${i}` : `/day/2024-13-${i}`));
    const answers = await Promise.all(targets.map((target) => ask('GET', target)));
    expect(answers.map((answer) => [answer.status, answer.body.split('\n')[0]])).toEqual(
      targets.map((target, i) => (i % 3 === 0 ? [200, `item ${i} GET`] : i % 3 === 1 ? [200, `big name x${i}`] : [404, '404 Not Found'])),
    );
  });

  it('redirects a doubled slash in two steps behind mount: the clean path, then the slash', async () => {
    expect((await ask('GET', '/dir//caf%C3%A9')).location).toBe('http://example.com/dir/caf%C3%A9');
    expect((await ask('GET', '/dir/caf%C3%A9')).location).toBe('http://example.com/dir/caf%C3%A9/');
    expect((await ask('GET', '/dir/caf%C3%A9/')).body).toBe('dir "café"');
  });

  it('matches hosts in lower case without the trailing dot, and builds another host absolute', async () => {
    expect((await ask('GET', '/', 'Alice.Example.COM.')).body).toBe('tenant alice http://api.example.com/status');
    expect((await ask('GET', '/status', 'api.example.com')).body).toBe('ok');
    expect((await ask('GET', '/status')).status).toBe(404);
    expect((await ask('GET', '/')).body).toBe('index');
  });

  it('builds URLs as url_for does: query, anchor, external, under the mount point', async () => {
    const expected = (prefix: string, host: string) => [
      `${prefix}/items/3`,
      `http://${host}${prefix}/items/3#rev%20iews`,
      `${prefix}/items/?q=a+b%26c&next=%2Fx%3Fy&tag=%C3%A9&tag=%2F`,
      `${prefix}/n/caf%C3%A9%20%C3%BC%3F%23%25`,
      `${prefix}/files/a%20b/c%25d/%C3%BC`,
      `${prefix}/page/`,
      `${prefix}/page/2`,
      `${prefix}/k/b`,
      `http://bob.example.com${prefix}/`,
    ];
    expect((await ask('GET', '/links', 'example.com:8080')).body.split('\n')).toEqual(expected('', 'example.com:8080'));
    expect((await ask('GET', '/shop/links')).body.split('\n')).toEqual(expected('/shop', 'example.com'));
    expect((await ask('GET', '/shop')).location).toBe('http://example.com/shop/');
  });
});

describe('the same map through the TestClient', () => {
  it('answers as the server does', async () => {
    const client = new TestClient(site);
    expect((await client.get('/items/3')).textBody).toBe('item 3 GET');
    expect((await client.get('/items', { status: 308 })).location).toBe('http://localhost/items/');
    expect((await client.post('/items', { followRedirects: 1 })).textBody).toBe('items POST');
    expect((await client.get('/big/zz')).textBody).toBe('big name zz');
    await client.get('/day/2024-13-45', { status: 404 });
    expect((await client.request('PATCH', '/items/3', { status: 405 })).headers.get('allow')).toBe('DELETE, GET, HEAD, OPTIONS, PUT');
  });
});
