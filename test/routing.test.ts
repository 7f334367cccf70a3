/**
 * tsgi/routing through its public API: typed placeholders, dispatch (404, 405 with Allow,
 * OPTIONS, HEAD, strict slashes), URL building under SCRIPT_NAME, mounting, custom converters.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { Request, Response, redirect } from 'tsgi';
import { mount } from 'tsgi/middleware';
import { type Converter, RouteMap, type RouteValues, routeArgsKey } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';
import { request, start } from './node-helpers.ts';

const routes = new RouteMap({
  index: '/',
  items: '/items/',
  item: '/items/<int:id>',
  itemBySlug: '/items/<slug>',
  edit: { path: '/items/<int:id>/edit', methods: ['GET', 'POST'] },
  file: '/files/<path:rest>',
  fileInfo: '/files/<path:rest>/info',
  key: '/keys/<uuid:key>',
  page: '/pages/<any(about,help):name>',
  price: '/price/<float:amount>',
  about: { path: '/about', strictSlashes: false },
  docs: { path: '/docs/', strictSlashes: false },
  report: '/reports/r<int:year>.<ext>',
});

const app = routes.app({
  index: (_req, _values, urls) => urls.build('item', { id: 3 }),
  items: () => 'items',
  item: (req, values) => Response.json({ values, route: routeArgsKey.get(req) }),
  itemBySlug: (_req, { slug }) => `slug ${slug}`,
  edit: (req, { id }, urls) => (req.method === 'POST' ? redirect(urls.build('item', { id }), 303) : `edit ${id}`),
  file: (_req, { rest }) => `file ${rest}`,
  fileInfo: (_req, { rest }) => `info ${rest}`,
  key: (_req, { key }) => `key ${key}`,
  page: (_req, { name }) => `page ${name}`,
  price: (_req, { amount }) => `price ${amount * 2}`,
  about: () => 'about',
  docs: () => 'docs',
  report: (_req, { year, ext }) => `report ${year + 1} ${ext}`,
});

const client = new TestClient(app);
const text = async (path: string) => (await client.get(path)).textBody;

describe('matching', () => {
  it('gives each placeholder its converter’s value, typed from the pattern', async () => {
    expectTypeOf<RouteValues<'/a/<int:id>/<path:rest>/<b>/<uuid:u>/<float:f>'>>().toEqualTypeOf<{ id: number; rest: string; b: string; u: string; f: number }>();
    expect(await (await client.get('/items/42')).json()).toEqual({ values: { id: 42 }, route: { endpoint: 'item', rule: '/items/<int:id>', values: { id: 42 } } });
    expect(await text('/items/hello-world')).toBe('slug hello-world');
    expect(await text('/items/42/edit')).toBe('edit 42');
    expect(await text('/files/a/b/c.txt')).toBe('file a/b/c.txt');
    expect(await text('/files/a/b/info')).toBe('info a/b');
    expect(await text('/keys/0F0E0D0C-0B0A-0908-0706-050403020100')).toBe('key 0f0e0d0c-0b0a-0908-0706-050403020100');
    expect(await text('/pages/help')).toBe('page help');
    expect(await text('/price/1.25')).toBe('price 2.5');
    expect(await text('/reports/r2024.csv')).toBe('report 2025 csv');
  });

  it('prefers static segments, then the converter of lower weight (int before string)', async () => {
    expect(await text('/items/')).toBe('items');
    expect(await text('/items/7')).toContain('"id":7');
    expect(await text('/items/99999999999999999999')).toBe('slug 99999999999999999999'); // not a safe integer
  });

  it('answers 404 when no rule matches the path', async () => {
    for (const path of ['/nothing', '/pages/other', '/keys/not-a-uuid', '/price/1', '/items/1/2', '/files/', '/reports/rx.csv']) {
      await client.get(path, { status: 404 });
    }
  });

  it('answers 405 with Allow when only the method is wrong, OPTIONS with 204 and Allow, HEAD with GET', async () => {
    const wrong = await client.delete('/items/1/edit', { status: 405 });
    expect(wrong.headers.get('allow')).toBe('GET, HEAD, OPTIONS, POST');
    const options = await client.options('/items/1', { status: 204 });
    expect(options.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    const head = await client.head('/items/1');
    expect(head.headers.get('content-type')).toBe('application/json');
    expect(head.textBody).toBe('');
    await client.options('/nothing', { status: 404 });
  });

  it('redirects a path without its trailing slash (308, query kept); refuses an extra slash', async () => {
    const res = await client.post('/items?sort=name', { status: 308 });
    expect(res.headers.get('location')).toBe('http://localhost/items/?sort=name');
    await client.get('/items/42/', { status: 404 });
  });

  it('matches both forms for a rule without strict slashes', async () => {
    expect(await text('/about')).toBe('about');
    expect(await text('/about/')).toBe('about');
    expect(await text('/docs')).toBe('docs');
    expect(await text('/docs/')).toBe('docs');
  });

  it('answers lookup() without a request', () => {
    expect(routes.lookup('GET', '/items/5')).toMatchObject({ kind: 'match', values: { id: 5 } });
    expect(routes.lookup('PUT', '/items/5')).toEqual({ kind: 'method', allowed: new Set(['GET', 'HEAD']) });
    expect(routes.lookup('GET', '/items')).toEqual({ kind: 'slash' });
    expect(routes.lookup('GET', '/zzz')).toEqual({ kind: 'none' });
    // Methods are case-sensitive (RFC 9110 §9.1).
    expect(routes.lookup('get', '/items/5')).toMatchObject({ kind: 'method' });
  });
});

describe('building URLs', () => {
  it('builds under the request’s SCRIPT_NAME, extra values in the query, a full URL on request', () => {
    const urls = routes.bind(Request.blank('/', { baseUrl: 'https://example.com/my%20app' }));
    expect(urls.build('item', { id: 3 })).toBe('/my%20app/items/3');
    expect(urls.build('item', { id: 3, page: 2, tag: ['a', 'b c'], none: undefined })).toBe('/my%20app/items/3?page=2&tag=a&tag=b+c');
    expect(urls.build('index', undefined, { external: true, anchor: 'top' })).toBe('https://example.com/my%20app/#top');
    expect(urls.build('file', { rest: 'a b/ü.txt' })).toBe('/my%20app/files/a%20b/%C3%BC.txt');
    expect(urls.build('itemBySlug', { slug: 'a b?#' })).toBe('/my%20app/items/a%20b%3F%23');
    expect(routes.build('report', { year: 2024, ext: 'pdf' })).toBe('/reports/r2024.pdf');
  });

  it('leaves null and undefined out of a query array too, as Werkzeug’s url_for does', () => {
    // `[req.query.get('tag')]` without a tag is [undefined]: no `tag=undefined` in the link.
    expect(routes.build('item', { id: 3, tag: ['a', null, undefined, 'b'] })).toBe('/items/3?tag=a&tag=b');
    expect(routes.build('item', { id: 3, tag: [null] })).toBe('/items/3');
  });

  it('refuses an unknown endpoint, a missing value, or a value the converter refuses', () => {
    const urls = routes.bind(Request.blank('/'));
    // @ts-expect-error: not an endpoint
    expect(() => urls.build('nope')).toThrow(/no route named "nope"/);
    // @ts-expect-error: id is required
    expect(() => urls.build('item', {})).toThrow(/needs a value for id/);
    expect(() => urls.build('item', { id: -1 })).toThrow(/non-negative safe integer/);
    expect(() => urls.build('page', { name: 'contact' })).toThrow(/not one of about, help/);
    // A URL that would not lead back to its rule: PATH_INFO decodes %2F to '/'.
    expect(() => urls.build('itemBySlug', { slug: 'a/b' })).toThrow(/"a\/b" does not match <slug>/);
    expect(() => urls.build('itemBySlug', { slug: '' })).toThrow(/does not match <slug>/);
  });

  it('match() answers the typed endpoint and values, or throws the HTTP exception', () => {
    const urls = routes.bind(Request.blank('/items/9'));
    const found = urls.match();
    expect(found).toEqual({ endpoint: 'item', values: { id: 9 } });
    expect(() => routes.bind(Request.blank('/items/9', { method: 'PUT' })).match()).toThrow(expect.objectContaining({ code: 405, allow: ['GET', 'HEAD', 'OPTIONS'] }));
    expect(() => routes.bind(Request.blank('/nothing')).match()).toThrow(expect.objectContaining({ code: 404 }));
    expect(routes.bind(Request.blank('/items/9/edit')).allowedMethods()).toEqual(['GET', 'HEAD', 'OPTIONS', 'POST']);
  });
});

describe('routes.build() outside a request', () => {
  it('appends the anchor, and refuses external (there is no host) instead of dropping them', () => {
    expect(routes.build('item', { id: 3, page: 2 }, { anchor: 'reviews and more' })).toBe('/items/3?page=2#reviews%20and%20more');
    expect(() => routes.build('item', { id: 3 }, { external: true })).toThrow(/no request to take a host from/);
    expect(routes.build('item', { id: 3 }, { external: false })).toBe('/items/3');
  });
});

describe('anchors', () => {
  it('keeps the characters a fragment may hold (RFC 3986 §3.5), as Flask’s url_for(_anchor=…): a hash router’s #/users/3', () => {
    expect(routes.build('index', undefined, { anchor: '/users/3?tab=a&b=c:d@e' })).toBe('/#/users/3?tab=a&b=c:d@e');
    // What a fragment may not hold is still encoded: a space, `#`, `%`, non-ASCII.
    expect(routes.build('index', undefined, { anchor: 'a b#c%d/é' })).toBe('/#a%20b%23c%25d/%C3%A9');
  });

  it('writes an anchor with a lone surrogate (from a JSON body) as U+FFFD, not a URIError', async () => {
    const docs = new RouteMap({ doc: { path: '/doc', methods: ['POST'] } });
    const c = new TestClient(docs.app({ doc: async (req, _values, urls) => urls.build('doc', {}, { anchor: ((await req.json()) as { section: string }).section }) }));
    expect((await c.post('/doc', { body: '{"section":"a\\ud800b"}', headers: { 'Content-Type': 'application/json' } })).textBody).toBe('/doc#a%EF%BF%BDb');
    expect(routes.build('item', { id: 1 }, { anchor: '\udc00' })).toBe('/items/1#%EF%BF%BD');
  });
});

describe('match() with a path of its own', () => {
  it('redirects to that path with its slash, not to the request’s', () => {
    const urls = routes.bind(Request.blank('/elsewhere?q=1', { baseUrl: 'https://example.com/shop' }));
    expect(() => urls.match('GET', '/items')).toThrow(expect.objectContaining({ code: 308, location: 'https://example.com/shop/items/?q=1' }));
    expect(urls.failure({ kind: 'slash' }, '/docs')).toMatchObject({ location: 'https://example.com/shop/docs/?q=1' });
    expect(urls.failure({ kind: 'slash' })).toMatchObject({ location: 'https://example.com/shop/elsewhere/?q=1' });
  });
});

describe('as a mounted app', () => {
  it('builds its links and redirects with the mount prefix', async () => {
    const site = new TestClient(mount({ '/shop': app }));
    expect((await site.get('/shop/')).textBody).toBe('/shop/items/3');
    expect((await site.get('/shop', { status: 308 })).headers.get('location')).toBe('http://localhost/shop/');
    const edited = await site.post('/shop/items/5/edit', { followRedirects: 1 });
    expect(edited.url).toBe('http://localhost/shop/items/5');
    expect(await edited.json()).toMatchObject({ values: { id: 5 } });
  });
});

describe('custom converters and bad rules', () => {
  it('uses a custom converter, typed by its value', async () => {
    const date: Converter<Date> = {
      regex: '\\d{4}-\\d{2}-\\d{2}',
      toValue: (text) => {
        const value = new Date(`${text}T00:00:00Z`);
        return Number.isNaN(value.getTime()) ? undefined : value;
      },
      toUrl: (value) => value.toISOString().slice(0, 10),
    };
    const diary = new RouteMap({ day: '/day/<date:day>' }, { converters: { date } });
    const dayApp = diary.app({
      day: (_req, { day }) => {
        expectTypeOf(day).toEqualTypeOf<Date>();
        return `${day.getUTCFullYear()}`;
      },
    });
    const c = new TestClient(dayApp);
    expect((await c.get('/day/2024-02-29')).textBody).toBe('2024');
    await c.get('/day/2024-13-45', { status: 404 });
    expect(diary.build('day', { day: new Date(Date.UTC(2020, 0, 2)) })).toBe('/day/2020-01-02');
  });

  it('refuses bad patterns and a missing handler', () => {
    expect(() => new RouteMap({ a: 'no-slash' })).toThrow(/must start with '\/'/);
    expect(() => new RouteMap({ a: '/<nope:x>' })).toThrow(/unknown converter "nope"/);
    expect(() => new RouteMap({ a: '/<x>/<int:x>' })).toThrow(/appears twice/);
    expect(() => new RouteMap({ a: '/<x' })).toThrow(/malformed placeholder/);
    // A typo names the placeholder, not the whole static text before it, and the form to write.
    expect(() => new RouteMap({ a: '/users/<int id>' })).toThrow(
      new TypeError('/users/<int id>: malformed placeholder near "<int id>": write <name> or <converter:name>, as <int:id>'),
    );
    expect(() => new RouteMap({ a: '/x/<int:id' })).toThrow(/^\/x\/<int:id: malformed placeholder near "<int:id": write <name> or <converter:name>/);
    expect(() => new RouteMap({ a: { path: '/a/<id>', redirectTo: '/b/<id' } })).toThrow(/redirectTo: malformed placeholder near "<id": write <name>/);
    const grouped: Converter<string> = { regex: '(a|b)', toValue: (t) => t, toUrl: (v) => v };
    expect(() => new RouteMap({ a: '/<g:x>' }, { converters: { g: grouped } })).toThrow(/capture groups: use \(\?:…\)/);
    expect(() => new RouteMap({ a: { path: '/', methods: ['G ET'] } })).toThrow(/invalid method/);
    // @ts-expect-error: a handler is missing
    expect(() => new RouteMap({ a: '/', b: '/b' }).app({ a: () => 'a' })).toThrow(/no handler for the route "b"/);
    // An endpoint named as an Object.prototype method needs its own handler, not the prototype's
    // (Object.prototype.toString answered `[object Object]` with a 200).
    expect(() => new RouteMap({ a: '/', toString: '/t' }).app({ a: () => 'a' } as never)).toThrow(/no handler for the route "toString"/);
  });
});

describe('a pattern with a query or fragment', () => {
  it('is refused: the path it is matched against holds neither (Werkzeug takes it, and it never matches)', async () => {
    expect(() => new RouteMap({ search: '/search?q=<q>' })).toThrow(
      new TypeError(
        `search (/search?q=<q>): a pattern is matched against the path alone, which holds no query: the '?' would match only an encoded %3F in the path: write "/search", read the query in the handler with req.query (Werkzeug's request.args), and build it with values the pattern does not use (urls.build('search', { q }) gives /search?q=…)`,
      ),
    );
    expect(() => new RouteMap({ top: { path: '/page#top', methods: ['GET'] } })).toThrow(
      new TypeError(
        `top (/page#top): a pattern is matched against the path alone, and browsers send no fragment: the '#' would match only an encoded %23 in the path: write "/page", and build the fragment with urls.build('top', values, { anchor: "top" })`,
      ),
    );
    expect(() => new RouteMap({ a: '/items/<int:id>?', b: '/x' })).toThrow(/^a \(\/items\/<int:id>\?\): .*write "\/items\/<int:id>"/);
    expect(() => new RouteMap({ old: { path: '/old?page=<int:n>', redirectTo: '/new/<n>' } })).toThrow(/write "\/old"/);
    // A '?' or '#' inside a placeholder's arguments is a word of it, not the pattern's text.
    const words = new RouteMap({ w: "/w/<any('why?', 'c#'):word>" });
    expect(words.lookup('GET', '/w/why?')).toMatchObject({ kind: 'match', values: { word: 'why?' } });
    expect(words.build('w', { word: 'c#' })).toBe('/w/c%23');
    // What to write instead, over a socket: the path alone, the query read and built.
    const search = new RouteMap({ search: '/search' });
    const server = await start(search.app({ search: (req, _values, urls) => `${req.query.get('q')} ${urls.build('search', { q: 'b c' })}` }));
    expect((await request(`${server.url}/search?q=a`)).body.toString()).toBe('a /search?q=b+c');
  });
});

describe('placeholder names of the object prototype', () => {
  const proto = new RouteMap({
    p: '/p/<__proto__>',
    c: '/c/<constructor>/<int:toString>',
    h: '/h/<path:hasOwnProperty>',
  });

  it('match their values as own properties (__proto__ included) and hand them to the handler', async () => {
    const found = proto.lookup('GET', '/p/x');
    expect(found.kind === 'match' && Object.hasOwn(found.values, '__proto__') && found.values['__proto__']).toBe('x');
    const c = proto.lookup('GET', '/c/y/3');
    expect(c.kind === 'match' && [c.values['constructor'], c.values['toString']]).toEqual(['y', 3]);
    const client = new TestClient(
      proto.app({
        p: (_req, values) => Response.json({ value: Object.getOwnPropertyDescriptor(values, '__proto__')?.value, prototype: Object.getPrototypeOf(values) === Object.prototype }),
        c: (_req, { constructor: name, toString: n }) => `${name} ${n + 1}`,
        h: (_req, { hasOwnProperty: rest }) => rest,
      }),
    );
    expect(await (await client.get('/p/x')).json()).toEqual({ value: 'x', prototype: true });
    expect((await client.get('/c/y/3')).textBody).toBe('y 4');
    expect((await client.get('/h/a/b')).textBody).toBe('a/b');
  });

  it('build from own values only: a missing one is refused, not read from Object.prototype', () => {
    expect(proto.build('c', { constructor: 'y', toString: 3 })).toBe('/c/y/3');
    expect(proto.build('p', { ['__proto__']: 'x' })).toBe('/p/x');
    expect(() => proto.build('c', { toString: 3 } as never)).toThrow(/needs a value for constructor/);
    expect(() => proto.build('c', { constructor: 'y' } as never)).toThrow(/needs a value for toString/);
    expect(() => proto.build('p', {} as never)).toThrow(/needs a value for __proto__/);
    expect(() => proto.build('h', {} as never)).toThrow(/needs a value for hasOwnProperty/);
  });
});
