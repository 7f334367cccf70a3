/**
 * tsgi/routing: a build that cannot be satisfied says which endpoint, pattern and placeholder
 * refused which value (Werkzeug's `BuildError` names the endpoint), a string shown as one.
 */
import { describe, expect, it } from 'vitest';
import { Request } from 'tsgi';
import { type Converter, RouteMap } from 'tsgi/routing';

const even: Converter<number> = {
  regex: '\\d+',
  toValue: (text) => Number(text),
  toUrl: (value) => {
    if (value % 2 !== 0) throw new TypeError(`${value} is odd`);
    return String(value);
  },
};
class Refused extends Error {}
const strict: Converter<string> = {
  regex: '[a-z]+',
  toValue: (text) => text,
  toUrl: () => {
    throw new Refused('no');
  },
};
const routes = new RouteMap(
  {
    item: '/items/<int:id>',
    price: '/price/<float:p>',
    key: '/keys/<uuid:key>',
    lang: '/<any(en,fr):lang>/about',
    pair: '/pairs/<even:n>',
    own: '/own/<strict:s>',
  },
  { converters: { even, strict } },
);
const build = (endpoint: string, values: Record<string, unknown>) => () => (routes.build as (endpoint: string, values: Record<string, unknown>) => string)(endpoint, values);

describe('a build its converter refuses', () => {
  it('names the endpoint, the pattern and the placeholder', () => {
    expect(build('item', { id: -1 })).toThrow(new TypeError('item (/items/<int:id>): <id>: an int placeholder takes a non-negative safe integer, not -1'));
    expect(build('price', { p: Number.NaN })).toThrow(new TypeError('price (/price/<float:p>): <p>: a float placeholder takes a non-negative finite number, not NaN'));
    expect(build('lang', { lang: 'de' })).toThrow(new TypeError('lang (/<any(en,fr):lang>/about): <lang>: "de" is not one of en, fr'));
    expect(build('pair', { n: 3 })).toThrow(new TypeError('pair (/pairs/<even:n>): <n>: 3 is odd'));
  });

  it('shows a string as a string, where a number was wanted (url_for(id=request.args["id"]))', () => {
    expect(build('item', { id: '3' })).toThrow(new TypeError('item (/items/<int:id>): <id>: an int placeholder takes a non-negative safe integer, not "3" (a string)'));
    expect(build('price', { p: '1.5' })).toThrow(': <p>: a float placeholder takes a non-negative finite number, not "1.5" (a string)');
  });

  it('refuses a uuid that is no string with a TypeError of its own, not a crash inside the converter', () => {
    expect(build('key', { key: 5 })).toThrow(new TypeError('key (/keys/<uuid:key>): <key>: a uuid placeholder takes a UUID string, not 5'));
  });

  it('refuses a string or path value that is no string, and a toUrl answering no string, saying where (it crashed: "raw.includes is not a function")', () => {
    const texts = new RouteMap({ item: '/items/<slug>', files: '/files/<path:rest>', pair: '/pairs/<raw:n>' }, { converters: { raw: { regex: '\\d+', toValue: Number, toUrl: (value: number) => value as unknown as string } } });
    const built = (endpoint: string, values: Record<string, unknown>) => () => (texts.build as (endpoint: string, values: Record<string, unknown>) => string)(endpoint, values);
    expect(built('item', { slug: 5 })).toThrow(new TypeError('item (/items/<slug>): <slug>: a string placeholder takes a string, not 5'));
    expect(built('files', { rest: true })).toThrow(new TypeError('files (/files/<path:rest>): <rest>: a path placeholder takes a string, not true'));
    expect(built('pair', { n: 4 })).toThrow(new TypeError('pair (/pairs/<raw:n>): <n>: toUrl answered 4, not a string'));
  });

  it('shows no more of a refused value than it needs: 100 characters of a string, the type of an object', () => {
    // A value may come from the request or a record: the message reaches logs.
    const long = `${'x'.repeat(5000)}/`;
    expect(build('item', { id: long })).toThrow(new TypeError(`item (/items/<int:id>): <id>: an int placeholder takes a non-negative safe integer, not "${'x'.repeat(100)}…" (a string)`));
    expect(() => routes.build('lang', { lang: long as 'en' })).toThrow(`<lang>: "${'x'.repeat(100)}…" is not one of en, fr`);
    const user = { name: 'ada', passwordHash: 'secret-hash' };
    expect(build('lang', { lang: user })).toThrow(new TypeError('lang (/<any(en,fr):lang>/about): <lang>: an object is not one of en, fr'));
    expect(build('key', { key: user })).toThrow(new TypeError('key (/keys/<uuid:key>): <key>: a uuid placeholder takes a UUID string, not an object'));
    expect(build('item', { id: { toString: () => 'secret-token' } })).toThrow(new TypeError('item (/items/<int:id>): <id>: an int placeholder takes a non-negative safe integer, not an object'));
    expect(build('item', { id: Object.create(null) })).toThrow(new TypeError('item (/items/<int:id>): <id>: an int placeholder takes a non-negative safe integer, not an object'));
    expect(build('item', { id: 3n })).toThrow(new TypeError('item (/items/<int:id>): <id>: an int placeholder takes a non-negative safe integer, not 3n (a bigint)'));
    const files = new RouteMap({ item: '/items/<slug>', files: '/files/<path:rest>' });
    expect(() => files.build('item', { slug: long })).toThrow(new TypeError(`item (/items/<slug>): "${'x'.repeat(100)}…" does not match <slug>`));
    expect(() => files.build('files', { rest: `${'x'.repeat(5000)}/..` })).toThrow(new TypeError(`files (/files/<path:rest>): the path "/files/${'x'.repeat(93)}…" has a "." or ".." segment, which a client resolves away (RFC 3986 §5.2.4)`));
  });

  it("lets a custom converter's own error class through unchanged", () => {
    expect(build('own', { s: 'a' })).toThrow(Refused);
  });
});

describe('a build whose path would have a dot segment', () => {
  const files = new RouteMap({ item: '/items/<slug>', files: '/files/<path:rest>', ext: '/docs/<name>.<ext>' });
  const base = 'http://example.com';

  it('refuses a "." or ".." segment, which a client resolves away (RFC 3986 §5.2.4), so the link would not lead back', () => {
    // What a browser or fetch would request for the URL Werkzeug writes:
    expect(new URL('/items/..', base).pathname).toBe('/');
    expect(() => files.build('item', { slug: '..' })).toThrow(new TypeError('item (/items/<slug>): the path "/items/.." has a "." or ".." segment, which a client resolves away (RFC 3986 §5.2.4)'));
    expect(() => files.build('item', { slug: '.' })).toThrow('has a "." or ".." segment');
    expect(() => files.build('files', { rest: 'a/../b' })).toThrow('the path "/files/a/../b" has');
    expect(() => files.build('files', { rest: 'a/.' })).toThrow('has a "." or ".." segment');
    expect(() => files.build('ext', { name: '', ext: '' })).toThrow(TypeError);
  });

  it('builds dots that are no segment of their own', () => {
    expect(files.build('item', { slug: '...' })).toBe('/items/...');
    expect(files.build('item', { slug: '.hidden' })).toBe('/items/.hidden');
    expect(files.build('files', { rest: 'a/..b/c.' })).toBe('/files/a/..b/c.');
    expect(files.build('ext', { name: 'a', ext: 'b' })).toBe('/docs/a.b');
    expect(files.build('item', { slug: '%2E%2E' })).toBe('/items/%252E%252E');
  });
});

describe('placeholders sharing a segment', () => {
  const shared = new RouteMap({
    file: '/files/<name>.<ext>',
    flight: '/flights/<from>-<to>',
    doc: '/docs/<path:page>/v<version>/<path:rest>',
    id: '/p/<slug>-<int:id>',
  });
  it('refuses values the URL would read back split otherwise (it would lead to other values), and builds those it reads back', () => {
    // /files/a.tar.gz is read as name "a.tar", ext "gz": a link to another file.
    expect(() => shared.build('file', { name: 'a', ext: 'tar.gz' })).toThrow(
      new TypeError('file (/files/<name>.<ext>): "a.tar.gz" would be read back as <name> "a.tar", <ext> "gz": the URL would not lead back to these values'),
    );
    expect(shared.build('file', { name: 'a.tar', ext: 'gz' })).toBe('/files/a.tar.gz');
    expect(shared.lookup('GET', '/files/a.tar.gz')).toMatchObject({ kind: 'match', values: { name: 'a.tar', ext: 'gz' } });
    expect(() => shared.build('flight', { from: 'ber', to: 'a-b' })).toThrow(/would be read back as <from> "ber-a", <to> "b"/);
    expect(shared.build('flight', { from: 'a-b', to: 'c' })).toBe('/flights/a-b-c');
    expect(shared.build('id', { slug: 'a-1', id: 2 })).toBe('/p/a-1-2');
    // Across slashes too (the tail after a path placeholder).
    expect(() => shared.build('doc', { page: 'a/v1/b', version: '2', rest: 'c' })).toThrow(/would be read back as <page> "a", <version> "1", <rest> "b\/v2\/c"/);
    expect(shared.build('doc', { page: 'a/b', version: '1', rest: 'x/v2/y' })).toBe('/docs/a/b/v1/x/v2/y');
  });

  it('refuses the same in a host (a full URL to another host)', () => {
    const hosts = new RouteMap({ shop: { path: '/', host: '<shop>-<region>.example.com' } });
    const urls = hosts.bind(Request.blank('/', { baseUrl: 'https://www.example.com' }));
    expect(() => urls.build('shop', { shop: 'acme', region: 'eu-west' })).toThrow(/"acme-eu-west\.example\.com" would be read back as <shop> "acme-eu", <region> "west"/);
    expect(urls.build('shop', { shop: 'Acme-EU', region: 'west' })).toBe('https://acme-eu-west.example.com/');
  });
});

describe('a value built into the query', () => {
  const items = new RouteMap({ items: '/items/' });
  const build = (values: Record<string, unknown>) => () => (items.build as (endpoint: string, values: Record<string, unknown>) => string)('items', values);

  it('refuses an object (it went out as [object Object]), naming the name and what is taken', () => {
    const taken = 'a string, number, boolean or bigint, or an array of them (null and undefined are left out)';
    expect(build({ q: { a: 1 } })).toThrow(new TypeError(`items (/items/): the query value q is an object: give ${taken}`));
    expect(build({ tag: ['a', { b: 2 }] })).toThrow(new TypeError(`items (/items/): the query value tag holds an object: give ${taken}`));
    expect(build({ q: [['a']] })).toThrow('the query value q holds an object');
    expect(build({ q: () => 1 })).toThrow('the query value q is a function');
    expect(build({ q: Symbol('s') })).toThrow('the query value q is a symbol');
    // A Date's String() is its local-time text, which no reader parses the same: written by the app.
    expect(build({ since: new Date(0) })).toThrow(new TypeError(`items (/items/): the query value since is a Date: give it as text, as since.toISOString()`));
  });

  it('writes what it took before: strings, numbers, booleans, bigints and arrays of them; null and undefined left out', () => {
    expect(items.build('items', { a: 'x y', n: 1.5, b: false, big: 12n, tag: ['a', 2, true, null, undefined], none: null, gone: undefined })).toBe(
      '/items/?a=x+y&n=1.5&b=false&big=12&tag=a&tag=2&tag=true',
    );
  });
});

describe('a value missing', () => {
  const missing = new RouteMap({
    file: '/repos/<owner>/<repo>/blob/<path:file>',
    post: { path: '/posts/<int:id>/<slug>', host: '<user>.blog.example' },
  });

  it('names every placeholder left without a value, as Werkzeug\'s BuildError lists them (only the first was named)', () => {
    const build = (missing.build as (endpoint: string, values: Record<string, unknown>) => string).bind(missing);
    expect(() => build('file', {})).toThrow(new TypeError('file (/repos/<owner>/<repo>/blob/<path:file>) needs a value for owner, repo, file'));
    expect(() => build('file', { owner: 'tsgi', repo: null, file: undefined })).toThrow(new TypeError('file (/repos/<owner>/<repo>/blob/<path:file>) needs a value for repo, file'));
    expect(build('file', { owner: 'tsgi', repo: 'tsgi', file: 'src/index.ts' })).toBe('/repos/tsgi/tsgi/blob/src/index.ts');
  });

  it("names the host's placeholders with the path's", () => {
    const urls = missing.bind(Request.blank('/', { baseUrl: 'https://www.example.com' }));
    const build = (urls.build as (endpoint: string, values: Record<string, unknown>) => string).bind(urls);
    expect(() => build('post', {})).toThrow(new TypeError('post (/posts/<int:id>/<slug>) needs a value for user, id, slug'));
    expect(() => build('post', { id: 3, slug: 'hello' })).toThrow(new TypeError('post (/posts/<int:id>/<slug>) needs a value for user'));
    expect(build('post', { user: 'amy', id: 3, slug: 'hello' })).toBe('https://amy.blog.example/posts/3/hello');
  });
});

describe('an endpoint the map lacks', () => {
  const named = new RouteMap({ item: '/items/<int:id>', items: '/items/', userProfile: '/users/<name>' });
  const build = (endpoint: string) => () => (named.build as (endpoint: string, values: Record<string, unknown>) => string).call(named, endpoint, {});

  it('names the endpoint it most likely misspells, as Werkzeug\'s BuildError asks "Did you mean"', () => {
    expect(build('itme')).toThrow(new TypeError('no route named "itme": did you mean "item"?'));
    expect(build('user_profile')).toThrow(new TypeError('no route named "user_profile": did you mean "userProfile"?'));
    const urls = named.bind(Request.blank('/'));
    expect(() => (urls.build as (endpoint: string) => string).call(urls, 'Items')).toThrow(new TypeError('no route named "Items": did you mean "items"?'));
  });

  it('names none when no endpoint is close', () => {
    expect(build('checkout')).toThrow(new TypeError('no route named "checkout"'));
  });
});
