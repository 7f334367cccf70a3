/**
 * tsgi/routing: several rules for one endpoint, `defaults` (with Werkzeug's
 * `redirect_defaults` and build choosing the rule whose defaults fit), and `redirectTo`, as a
 * Flask app ported to a `RouteMap` uses them. Redirects over a real socket.
 */
import { beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { HTTPPermanentRedirect, Request, Response } from 'tsgi';
import { mount } from 'tsgi/middleware';
import { type MatchedRule, RouteMap } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';
import { parseRaw, rawExchange, rawGet, start } from './node-helpers.ts';

const routes = new RouteMap({
  // @app.route('/users/', defaults={'page': 1}) + @app.route('/users/page/<int:page>')
  users: [{ path: '/users/', defaults: { page: 1 } }, '/users/page/<int:page>'],
  // Two URLs, no defaults: both answer, build takes the first written.
  post: ['/posts/<int:id>', '/p/<int:id>'],
  // A name only one rule gives.
  archive: ['/archive/', '/archive/<int:year>'],
  item: '/items/<int:id>',
  files: '/files/<path:rest>',
  slug: '/s/<slug>',
  // Rule(…, redirect_to='items/<id>'): no handler.
  oldItem: { path: '/old/items/<int:id>', redirectTo: '/items/<id>' },
  oldFiles: { path: '/old/files/<path:rest>', redirectTo: '/files/<rest>' },
  oldSlug: { path: '/old/s/<slug>', redirectTo: '/s/<slug>' },
  // Rule(…, redirect_to=fn)
  legacy: { path: '/legacy/<int:n>', redirectTo: ({ n }) => `/items/${Number(n) + 1}` },
  away: { path: '/away/<slug>', redirectTo: ({ slug }) => `https://example.org/${String(slug)}` },
  find: { path: '/find/<q>', redirectTo: ({ q }) => `/s/results?q=${encodeURIComponent(String(q))}` },
  // A rule that redirects next to one that answers: the endpoint keeps its handler.
  // Written first, built last: a URL that redirects is built only when no other rule suits.
  report: [{ path: '/report.php/<int:v>', redirectTo: '/report' }, '/report'],
  // build tries the rules answering GET first, as url_for does.
  save: [{ path: '/save', methods: ['POST'] }, '/saved'],
});

const app = routes.app({
  users: (_req, values, urls) => Response.json({ values, self: urls.build('users', values) }),
  post: (_req, { id }, urls) => `post ${id} ${urls.build('post', { id })}`,
  archive: (_req, { year }) => `archive ${year ?? 'all'}`,
  item: (_req, { id }) => `item ${id}`,
  files: (_req, { rest }) => `files ${rest}`,
  slug: (_req, { slug }) => `slug ${slug}`,
  report: () => 'report',
  save: () => 'saved',
});

let port: number;
/** The app served without `mount`, which would clean `%2F` and `..` out of paths first. */
let barePort: number;
beforeEach(async () => {
  port = (await start(mount({ '/app': app, '': app }))).port;
  barePort = (await start(app)).port;
});
const send = async (target: string, method = 'GET', to = port) => parseRaw((await rawExchange(to, rawGet(target, '', method))).raw);
const client = new TestClient(app);

describe('several rules for one endpoint', () => {
  it('matches each rule, the defaults giving the values a rule has no placeholder for', async () => {
    expect(await (await client.get('/users/')).json()).toEqual({ values: { page: 1 }, self: '/users/' });
    expect(await (await client.get('/users/page/2')).json()).toEqual({ values: { page: 2 }, self: '/users/page/2' });
    expect((await client.get('/posts/3')).textBody).toBe('post 3 /posts/3');
    expect((await client.get('/p/3')).textBody).toBe('post 3 /posts/3');
    expect((await client.get('/archive/')).textBody).toBe('archive all');
    expect((await client.get('/archive/2020')).textBody).toBe('archive 2020');
  });

  it("gives the placeholders' values first, then the rule's defaults (as Werkzeug updates them in)", () => {
    const map = new RouteMap({ page: [{ path: '/<lang>/', defaults: { page: 'index' } }, '/<lang>/<page>'], one: { path: '/one/<a>', defaults: { b: 2, c: 3 } } });
    const found = map.lookup('GET', '/en/');
    expect(found.kind === 'match' && Object.keys(found.values)).toEqual(['lang', 'page']);
    const one = map.lookup('GET', '/one/x');
    expect(one.kind === 'match' && Object.entries(one.values)).toEqual([['a', 'x'], ['b', 2], ['c', 3]]);
  });

  it('types the values as any rule gives them: a name all give required, one some give optional', () => {
    type Handlers = Parameters<typeof routes.app>[0];
    expectTypeOf<Parameters<Handlers['users']>[1]>().toEqualTypeOf<{ page: number }>();
    expectTypeOf<Parameters<Handlers['post']>[1]>().toEqualTypeOf<{ id: number }>();
    expectTypeOf<Parameters<Handlers['archive']>[1]>().toEqualTypeOf<{ year?: number }>();
    // A rule that redirects reaches no handler: its placeholders are not the handler's.
    expectTypeOf<Parameters<Handlers['report']>[1]>().toEqualTypeOf<{}>();
    // Endpoints whose rules all redirect take no handler.
    expectTypeOf<keyof Handlers>().toEqualTypeOf<'users' | 'post' | 'archive' | 'item' | 'files' | 'slug' | 'report' | 'save'>();
    const urls = routes.bind(Request.blank('/'));
    // @ts-expect-error a string page
    expect(() => urls.build('users', { page: 'x' })).toThrow(TypeError);
    // @ts-expect-error post needs an id
    expect(() => urls.build('post')).toThrow(TypeError);
  });

  it('types refuse a handler for an endpoint that only redirects, values of the wrong type, a redirectTo answering no string', () => {
    const map = new RouteMap({
      list: [{ path: '/l/', defaults: { n: null } }, '/l/<int:n>'],
      moved: [{ path: '/m/', redirectTo: '/l/' }, { path: '/m/<int:n>', redirectTo: '/l/<n>' }],
    });
    expect(() => map.app({ list: (_req, { n }, urls) => urls.build('list', { n }) })).not.toThrow();
    // @ts-expect-error moved only redirects: no handler
    map.app({ list: () => '', moved: () => '' });
    // @ts-expect-error n is a number or null
    map.app({ list: (_req, values: { n: string }) => values.n });
    expect(map.build('moved', { n: 2 })).toBe('/m/2');
    // @ts-expect-error redirectTo answers a string
    expect(() => new RouteMap({ bad: { path: '/b', redirectTo: () => 3 } })).not.toThrow();
  });

  it('builds with the first rule the values suit: defaults left out or equal, else a placeholder rule', () => {
    expect(routes.build('users')).toBe('/users/');
    expect(routes.build('users', { page: 1 })).toBe('/users/');
    expect(routes.build('users', { page: 2 })).toBe('/users/page/2');
    expect(routes.build('users', { page: 2, sort: 'name' })).toBe('/users/page/2?sort=name');
    expect(routes.build('users', { sort: 'name' })).toBe('/users/?sort=name');
    expect(routes.build('archive')).toBe('/archive/');
    expect(routes.build('archive', { year: 2020 })).toBe('/archive/2020');
    expect(routes.build('post', { id: 3 })).toBe('/posts/3');
    expect(routes.build('save')).toBe('/saved');
    expect(routes.build('report')).toBe('/report');
    expect(routes.build('report', { v: 2 })).toBe('/report?v=2');
  });

  it('refuses, naming what each rule needs, values no rule takes', () => {
    const only = new RouteMap({ first: { path: '/first/', defaults: { page: 1 } } });
    // @ts-expect-error a default's value, if given, is the default's
    expect(() => only.build('first', { page: 2 })).toThrow('first: no rule takes these values (/first/ needs page left out or equal to its default)');
    expect(() => routes.build('post', {} as never)).toThrow('post: no rule takes these values (/posts/<int:id> needs a value for id; /p/<int:id> needs a value for id)');
    // A converter refusal of the one suitable rule is its own TypeError, as with one rule.
    expect(() => routes.build('users', { page: -2 })).toThrow('users (/users/page/<int:page>): <page>');
  });

  it('never moves a value a rule refuses into the query of a rule without that name', () => {
    const map = new RouteMap({
      archive: ['/archive/', '/archive/<int:year>'],
      tag: ['/tags/', '/tags/<tag>'],
      // Another rule with the name may take what the first refused (Werkzeug's ValidationError).
      ref: ['/r/<int:id>', '/r/<id>'],
    });
    // A single rule refuses these (the URL would not lead back to it): with a list rule next to
    // it, the value must not end up as `/archive/?year=-5`, a link to another page.
    expect(() => map.build('archive', { year: -5 })).toThrow('archive (/archive/<int:year>): <year>');
    expect(() => map.build('archive', { year: 1.5 })).toThrow('archive (/archive/<int:year>): <year>');
    expect(() => map.build('tag', { tag: 'a/b' })).toThrow('tag (/tags/<tag>)');
    expect(() => map.build('tag', { tag: '..' })).toThrow('tag (/tags/<tag>)');
    expect(map.build('archive', { year: 2020, sort: 'x' })).toBe('/archive/2020?sort=x');
    expect(map.build('archive', { sort: 'x' })).toBe('/archive/?sort=x');
    expect(map.build('ref', { id: 3 })).toBe('/r/3');
    expect(map.build('ref', { id: 'abc' as unknown as number })).toBe('/r/abc');
  });

  it("takes Flask's usual pairs: a None default next to an int, an empty path next to a catch-all", async () => {
    const flask = new RouteMap({
      users: [{ path: '/users/', defaults: { user_id: null } }, '/users/<int:user_id>'],
      page: [{ path: '/', defaults: { path: '' } }, '/<path:path>'],
    });
    const flaskApp = flask.app({
      users: (_req, values, urls) => Response.json({ values, self: urls.build('users', values) }),
      page: (_req, { path }, urls) => Response.json({ path, self: urls.build('page', { path }) }),
    });
    expectTypeOf<Parameters<Parameters<typeof flask.app>[0]['users']>[1]>().toEqualTypeOf<{ user_id: number | null }>();
    const flaskClient = new TestClient(flaskApp);
    expect(await (await flaskClient.get('/users/')).json()).toEqual({ values: { user_id: null }, self: '/users/' });
    expect(await (await flaskClient.get('/users/7')).json()).toEqual({ values: { user_id: 7 }, self: '/users/7' });
    expect(await (await flaskClient.get('/')).json()).toEqual({ path: '', self: '/' });
    expect(await (await flaskClient.get('/a/b')).json()).toEqual({ path: 'a/b', self: '/a/b' });
    expect(flask.build('users')).toBe('/users/');
    expect(flask.build('users', { user_id: null })).toBe('/users/');
  });

  it('refuses at construction an empty array, defaults that name a placeholder or are no object', () => {
    expect(() => new RouteMap({ none: [] })).toThrow('the route "none" has no rule');
    expect(() => new RouteMap({ a: { path: '/a/<int:n>', defaults: { n: 1 } } })).toThrow('/a/<int:n>: the default n is a placeholder of the rule too (a)');
    expect(() => new RouteMap({ a: { path: '/a', defaults: [1] as never } })).toThrow('defaults must be an object');
  });
});

describe('a URL whose values equal another rule’s defaults (redirect_defaults)', () => {
  it('answers 308 to that rule’s URL, the query kept, under the mount prefix', async () => {
    const moved = await send('/users/page/1?sort=name');
    expect(moved.status).toBe(308);
    expect(moved.header('location')).toBe('http://127.0.0.1/users/?sort=name');
    expect((await send('/app/users/page/1')).header('location')).toBe('http://127.0.0.1/app/users/');
    expect((await send('/users/page/2')).status).toBe(200);
    expect((await send('/users/')).status).toBe(200);
  });

  it('redirects OPTIONS too, where any method goes; another method is refused first', async () => {
    expect((await send('/users/page/1', 'OPTIONS')).status).toBe(308);
    const post = await send('/users/page/1', 'POST');
    expect(post.status).toBe(405);
    expect(post.header('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('is a lookup of its own kind, and urls.match throws the 308', () => {
    expect(routes.lookup('GET', '/users/page/1')).toEqual({ kind: 'redirect', to: '/users/' });
    const urls = routes.bind(Request.blank('/users/page/1?a=b', { baseUrl: 'https://example.com/shop' }));
    expect(() => urls.match()).toThrow(HTTPPermanentRedirect);
    expect(() => urls.match()).toThrow(expect.objectContaining({ location: 'https://example.com/shop/users/?a=b' }));
  });
});

describe('redirectTo', () => {
  it('answers 308 to the template with the matched values, the query kept, under the mount prefix', async () => {
    const moved = await send('/old/items/3?x=1');
    expect(moved.status).toBe(308);
    expect(moved.header('location')).toBe('http://127.0.0.1/items/3?x=1');
    expect((await send('/app/old/items/3')).header('location')).toBe('http://127.0.0.1/app/items/3');
    expect((await send('/old/files/a/b%20c')).header('location')).toBe('http://127.0.0.1/files/a/b%20c');
    expect((await send('/old/s/caf%C3%A9%20x')).header('location')).toBe('http://127.0.0.1/s/caf%C3%A9%20x');
    expect((await send('/report.php/2')).header('location')).toBe('http://127.0.0.1/report');
  });

  it('answers 308 to what a function answers: a path under the prefix, or a full URL as it is', async () => {
    expect((await send('/app/legacy/3?q=1')).header('location')).toBe('http://127.0.0.1/app/items/4?q=1');
    // A query of its own replaces the request's.
    expect((await send('/find/a%20b?page=2')).header('location')).toBe('http://127.0.0.1/s/results?q=a%20b');
    const away = await send('/away/post?q=1');
    expect(away.status).toBe(308);
    expect(away.header('location')).toBe('https://example.org/post');
  });

  it('is a 404, not a crash, when the values cannot be written into the target', async () => {
    const dots = await send('/old/s/..', 'GET', barePort);
    expect(dots.status).toBe(404);
    expect((await send('/old/s/%2E%2E', 'GET', barePort)).status).toBe(404);
  });

  it('answers a method the rule lacks 405, and OPTIONS the redirect', async () => {
    expect((await send('/old/items/3', 'POST')).status).toBe(405);
    expect((await send('/old/items/3', 'OPTIONS')).status).toBe(308);
  });

  it('answers OPTIONS with the path\'s methods where another rule there answers a method itself, whatever the order written', async () => {
    // A GET alias that redirects next to a POST handler: a preflight for the POST needs the
    // 204, not a 308 (which a browser does not follow for a preflight), in either order.
    const aliasFirst = new RouteMap({ old: { path: '/login', redirectTo: '/signin' }, login: { path: '/login', methods: ['POST'] }, signin: '/signin' });
    const aliasLast = new RouteMap({ login: { path: '/login', methods: ['POST'] }, old: { path: '/login', redirectTo: '/signin' }, signin: '/signin' });
    for (const to of [(await start(aliasFirst.app({ login: () => 'in', signin: () => 'form' }))).port, (await start(aliasLast.app({ login: () => 'in', signin: () => 'form' }))).port]) {
      const options = await send('/login', 'OPTIONS', to);
      expect(options.status).toBe(204);
      expect(options.header('allow')).toBe('GET, HEAD, OPTIONS, POST');
      expect((await send('/login', 'GET', to)).header('location')).toBe('http://127.0.0.1/signin');
      expect((await send('/login', 'POST', to)).status).toBe(200);
    }
    // Where every method of the path redirects, OPTIONS is redirected as they are.
    expect((await send('/old/items/3', 'OPTIONS')).status).toBe(308);
  });

  it('still builds the old URL', () => {
    expect(routes.build('oldItem', { id: 3 })).toBe('/old/items/3');
  });

  it('refuses at construction a template that is no path or names no placeholder', () => {
    expect(() => new RouteMap({ a: { path: '/a/<int:id>', redirectTo: 'b/<id>' } })).toThrow("/a/<int:id> (a): redirectTo must be a path starting with '/'");
    expect(() => new RouteMap({ a: { path: '/a/<int:id>', redirectTo: '/b/<int:id>' } })).toThrow('"<int:id>" names none of the rule\'s placeholders (id)');
    expect(() => new RouteMap({ a: { path: '/a', redirectTo: '/b?x=1' } })).toThrow('without query or fragment');
  });
});

describe('routes.lookup', () => {
  it('shows the matched rule as Werkzeug\'s Rule does (endpoint, pattern, methods), its compiled form kept out of the types', () => {
    const routes = new RouteMap({ item: '/items/<int:id>' });
    const found = routes.lookup('GET', '/items/3');
    if (found.kind !== 'match') throw new Error(`expected a match, got ${found.kind}`);
    expect(found.values).toEqual({ id: 3 });
    expect([found.rule.endpoint, found.rule.pattern, [...found.rule.methods].sort()]).toEqual(['item', '/items/<int:id>', ['GET', 'HEAD']]);
    expectTypeOf(found.rule).toEqualTypeOf<MatchedRule>();
  });
});
