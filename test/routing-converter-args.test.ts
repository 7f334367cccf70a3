/**
 * tsgi/routing: Werkzeug's converter arguments on the built-in converters
 * (`<int(min=1):page>`, `<int(fixed_digits=4):year>`, `<float(signed=True):x>`,
 * `<string(length=2):lang>`): a value outside them does not match (the next rule is tried,
 * else 404), `build` refuses a value the rule could not match, a bad argument list is a
 * `TypeError` from `new RouteMap`, and the values stay typed from the pattern.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type Converter, RouteMap, type RouteValues } from 'tsgi/routing';
import { start } from './node-helpers.ts';

const routes = new RouteMap({
  list: '/list/<int(min=1):page>',
  range: '/range/<int(min=1, max=9):n>',
  rangeWord: '/range/<word>',
  year: '/archive/<int(fixed_digits=4):year>',
  temp: '/temp/<int(signed=True):deg>',
  unsigned: '/unsigned/<int:n>',
  offset: '/offset/<float(min=-2.5, max=2.5, signed=True):x>',
  ratio: '/ratio/<float(max=1.0):r>',
  lang: '/lang/<string(length=2):code>',
  short: '/short/<string(minlength=2, maxlength=3):s>',
  plain: '/plain/<default(length=2):d>',
  positional: '/pos/<int(4, 1, 9999):y>/<string(2):s>',
});

describe('int arguments', () => {
  it('does not match a value under min or over max, so the next rule is tried', () => {
    expect(routes.lookup('GET', '/list/1')).toMatchObject({ kind: 'match', rule: { endpoint: 'list' }, values: { page: 1 } });
    expect(routes.lookup('GET', '/list/0')).toEqual({ kind: 'none' });
    expect(routes.lookup('GET', '/range/9')).toMatchObject({ rule: { endpoint: 'range' }, values: { n: 9 } });
    expect(routes.lookup('GET', '/range/10')).toMatchObject({ rule: { endpoint: 'rangeWord' }, values: { word: '10' } });
    expect(routes.lookup('GET', '/range/0')).toMatchObject({ rule: { endpoint: 'rangeWord' }, values: { word: '0' } });
  });

  it('needs exactly fixed_digits digits and zero-pads when building', () => {
    expect(routes.lookup('GET', '/archive/0042')).toMatchObject({ kind: 'match', values: { year: 42 } });
    expect(routes.lookup('GET', '/archive/42')).toEqual({ kind: 'none' });
    expect(routes.lookup('GET', '/archive/12345')).toEqual({ kind: 'none' });
    expect(routes.build('year', { year: 42 })).toBe('/archive/0042');
    expect(routes.build('year', { year: 2024 })).toBe('/archive/2024');
    expect(() => routes.build('year', { year: 12345 })).toThrow(new TypeError('year (/archive/<int(fixed_digits=4):year>): <year>: an int placeholder of 4 digits takes at most 4 digits, not 12345'));
  });

  it('matches and builds a leading minus with signed=True only', () => {
    expect(routes.lookup('GET', '/temp/-5')).toMatchObject({ kind: 'match', values: { deg: -5 } });
    expect(routes.lookup('GET', '/temp/7')).toMatchObject({ kind: 'match', values: { deg: 7 } });
    expect(routes.lookup('GET', '/temp/-0')).toMatchObject({ kind: 'match', values: { deg: 0 } });
    expect(Object.is((routes.lookup('GET', '/temp/-0') as unknown as { values: { deg: number } }).values.deg, 0)).toBe(true);
    expect(routes.lookup('GET', '/unsigned/-5')).toEqual({ kind: 'none' });
    expect(routes.build('temp', { deg: -5 })).toBe('/temp/-5');
    expect(() => routes.build('unsigned', { n: -5 })).toThrow(TypeError);
  });

  it('refuses to build a value the rule could not match', () => {
    expect(routes.build('list', { page: 1 })).toBe('/list/1');
    expect(() => routes.build('list', { page: 0 })).toThrow(new TypeError('list (/list/<int(min=1):page>): <page>: an int placeholder from 1 takes no 0'));
    expect(() => routes.build('range', { n: 10 })).toThrow(new TypeError('range (/range/<int(min=1, max=9):n>): <n>: an int placeholder from 1 to 9 takes no 10'));
    expect(() => routes.build('list', { page: 1.5 })).toThrow(TypeError);
    expect(() => routes.build('list', { page: '2' as unknown as number })).toThrow(TypeError);
  });

  it('takes the arguments by position as Werkzeug does (fixed_digits, min, max, signed)', () => {
    expect(routes.lookup('GET', '/pos/0042/fr')).toMatchObject({ kind: 'match', values: { y: 42, s: 'fr' } });
    expect(routes.lookup('GET', '/pos/0000/fr')).toEqual({ kind: 'none' });
    // string(2) is minlength=2.
    expect(routes.lookup('GET', '/pos/0042/fra')).toMatchObject({ kind: 'match', values: { y: 42, s: 'fra' } });
    expect(routes.lookup('GET', '/pos/0042/f')).toEqual({ kind: 'none' });
    expect(routes.build('positional', { y: 7, s: 'de' })).toBe('/pos/0007/de');
  });

  it('counts a minus among the fixed digits, as Werkzeug (zfill) does', () => {
    const m = new RouteMap({ t: '/t/<int(fixed_digits=3, signed=True):v>' });
    expect(m.build('t', { v: -1 })).toBe('/t/-01');
    expect(m.lookup('GET', '/t/-01')).toMatchObject({ kind: 'match', values: { v: -1 } });
    expect(m.lookup('GET', '/t/-001')).toEqual({ kind: 'none' });
    expect(m.build('t', { v: 5 })).toBe('/t/005');
  });
});

describe('float arguments', () => {
  it('matches a signed float within min and max, and builds it back', () => {
    expect(routes.lookup('GET', '/offset/-1.5')).toMatchObject({ kind: 'match', values: { x: -1.5 } });
    expect(routes.lookup('GET', '/offset/2.5')).toMatchObject({ kind: 'match', values: { x: 2.5 } });
    expect(routes.lookup('GET', '/offset/-2.75')).toEqual({ kind: 'none' });
    expect(routes.lookup('GET', '/ratio/1.5')).toEqual({ kind: 'none' });
    expect(routes.lookup('GET', '/ratio/-0.5')).toEqual({ kind: 'none' });
    expect(routes.build('offset', { x: -1.5 })).toBe('/offset/-1.5');
    expect(routes.build('offset', { x: -1e-7 })).toBe('/offset/-0.0000001');
    expect(routes.build('offset', { x: 2 })).toBe('/offset/2.0');
    expect(() => routes.build('offset', { x: 3 })).toThrow(new TypeError('offset (/offset/<float(min=-2.5, max=2.5, signed=True):x>): <x>: a float placeholder from -2.5 to 2.5 takes no 3'));
    expect(() => routes.build('ratio', { r: -0.5 })).toThrow(TypeError);
  });
});

describe('string arguments', () => {
  it('matches a segment of the length given, in characters', () => {
    expect(routes.lookup('GET', '/lang/fr')).toMatchObject({ kind: 'match', values: { code: 'fr' } });
    expect(routes.lookup('GET', '/lang/fra')).toEqual({ kind: 'none' });
    expect(routes.lookup('GET', '/lang/f')).toEqual({ kind: 'none' });
    // Two code points, four UTF-16 units: Werkzeug counts characters.
    expect(routes.lookup('GET', '/lang/😀😀')).toMatchObject({ kind: 'match', values: { code: '😀😀' } });
    expect(routes.lookup('GET', '/short/ab')).toMatchObject({ kind: 'match', values: { s: 'ab' } });
    expect(routes.lookup('GET', '/short/abc')).toMatchObject({ kind: 'match', values: { s: 'abc' } });
    expect(routes.lookup('GET', '/short/a')).toEqual({ kind: 'none' });
    expect(routes.lookup('GET', '/short/abcd')).toEqual({ kind: 'none' });
    // A surrogate pair is never split into two characters to reach a length.
    expect(routes.lookup('GET', '/lang/😀')).toEqual({ kind: 'none' });
    expect(routes.lookup('GET', '/short/😀')).toEqual({ kind: 'none' });
    expect(routes.lookup('GET', '/short/😀a')).toMatchObject({ kind: 'match', values: { s: '😀a' } });
    expect(routes.lookup('GET', '/plain/de')).toMatchObject({ kind: 'match', values: { d: 'de' } });
    expect(routes.lookup('GET', '/plain/deu')).toEqual({ kind: 'none' });
  });

  it('splits a segment by the lengths, as Werkzeug’s [^/]{2} does, so what build writes matches back', () => {
    const m = new RouteMap({ two: '/two/<string(length=2):a><string(length=2):b>', lang: '/l/<string(length=2):lang>-<rest>', min: '/m/<string(minlength=3):a>.<b>' });
    expect(m.lookup('GET', '/two/abcd')).toMatchObject({ kind: 'match', values: { a: 'ab', b: 'cd' } });
    expect(m.lookup('GET', '/two/😀😀éx')).toMatchObject({ kind: 'match', values: { a: '😀😀', b: 'éx' } });
    expect(m.lookup('GET', '/two/abc')).toEqual({ kind: 'none' });
    expect(m.lookup('GET', '/l/en-us-x')).toMatchObject({ kind: 'match', values: { lang: 'en', rest: 'us-x' } });
    expect(m.lookup('GET', '/m/a.b.c')).toMatchObject({ kind: 'match', values: { a: 'a.b', b: 'c' } });
    expect(m.lookup('GET', '/m/ab.c')).toEqual({ kind: 'none' });
    const built = m.build('two', { a: 'ab', b: 'cd' });
    expect(built).toBe('/two/abcd');
    expect(m.lookup('GET', decodeURIComponent(built))).toMatchObject({ values: { a: 'ab', b: 'cd' } });
  });

  it('refuses to build a string of another length', () => {
    expect(routes.build('lang', { code: 'fr' })).toBe('/lang/fr');
    expect(() => routes.build('lang', { code: 'fra' })).toThrow(new TypeError('lang (/lang/<string(length=2):code>): <code>: a string placeholder of 2 characters takes no "fra"'));
    expect(() => routes.build('short', { s: 'abcd' })).toThrow(TypeError);
    expect(() => routes.build('lang', { code: 'a/' })).toThrow(TypeError);
  });
});

describe('the argument list', () => {
  const rule = (pattern: string) => () => new RouteMap({ x: pattern });

  it('reads Python literals: numbers, True/False/None, quoted strings, spaces, a trailing comma', () => {
    const m = new RouteMap({
      a: '/a/<int( min = 2 , max=None, signed=False, ):n>',
      c: '/c/<float(max=1e1):f>',
      d: '/d/<int(fixed_digits=0):n>',
      e: '/e/<int():n>',
    });
    expect(m.lookup('GET', '/a/1')).toEqual({ kind: 'none' });
    expect(m.lookup('GET', '/a/3')).toMatchObject({ values: { n: 3 } });
    expect(m.lookup('GET', '/c/10.0')).toMatchObject({ values: { f: 10 } });
    expect(m.lookup('GET', '/c/10.5')).toEqual({ kind: 'none' });
    expect(m.lookup('GET', '/d/12345')).toMatchObject({ values: { n: 12345 } });
    expect(m.lookup('GET', '/e/12')).toMatchObject({ values: { n: 12 } });
  });

  it('throws a TypeError naming the pattern when the map is built', () => {
    const cases: Array<[string, RegExp]> = [
      ['/x/<int(mn=1):n>', /^\/x\/<int\(mn=1\):n>: int\(\) takes no argument mn \(it takes fixed_digits, min, max, signed\)$/],
      ["/x/<int(min='1'):n>", /^\/x\/<int\(min='1'\):n>: int\(\): min takes an integer or None, not "1" \(a string\)$/],
      ['/x/<string(length="3"):n>', /string\(\): length takes an integer or None, not "3" \(a string\)/],
      ['/x/<int(min=1.5):n>', /int\(\): min takes an integer or None, not 1\.5/],
      ['/x/<int(signed=1):n>', /int\(\): signed takes True or False, not 1/],
      ['/x/<int(fixed_digits=-1):n>', /int\(\): fixed_digits takes an integer from 0/],
      ['/x/<int(1, 2, 3, True, 5):n>', /int\(\) takes at most 4 arguments \(5 given\)/],
      ['/x/<int(min=1, min=2):n>', /int\(\) got min twice/],
      ['/x/<int(4, fixed_digits=4):n>', /int\(\) got fixed_digits twice/],
      ['/x/<int(min=5, max=1):n>', /int\(\): min 5 is over max 1/],
      ['/x/<int(min=):n>', /cannot read the arguments "min=": at "min="/],
      ['/x/<int(min=1 max=2):n>', /cannot read the arguments/],
      ['/x/<int(min=1,,):n>', /cannot read the arguments/],
      ['/x/<int(min="1):n>', /cannot read the arguments/],
      ['/x/<int(1=2):n>', /cannot read the arguments/],
      ['/x/<float(fixed_digits=2):n>', /float\(\) takes no argument fixed_digits \(it takes min, max, signed\)/],
      ['/x/<float(min=True):n>', /float\(\): min takes a number or None, not true/],
      ['/x/<string(length=0):s>', /string\(\): length takes an integer from 1/],
      ['/x/<string(minlength=0):s>', /string\(\): minlength takes an integer from 1/],
      ['/x/<string(minlength=3, maxlength=2):s>', /string\(\): minlength 3 is over maxlength 2/],
      ['/x/<string(size=2):s>', /string\(\) takes no argument size \(it takes minlength, maxlength, length\)/],
      ['/x/<path(1):p>', /path\(\) takes no arguments/],
      ['/x/<uuid(version=4):u>', /uuid\(\) takes no arguments/],
    ];
    for (const [pattern, message] of cases) {
      expect(rule(pattern), pattern).toThrow(TypeError);
      expect(rule(pattern), pattern).toThrow(message);
      expect(rule(pattern), pattern).toThrow(pattern);
    }
  });

  it('refuses bounds no text the converter matches can meet: a rule that would match nothing', () => {
    const cases: Array<[string, RegExp]> = [
      ['/x/<int(max=-1):n>', /int\(\): max -1 is under 0 without signed=True: the rule would match nothing/],
      ['/x/<float(max=-0.5):x>', /float\(\): max -0\.5 is under 0 without signed=True: the rule would match nothing/],
      ['/x/<int(fixed_digits=2, min=100):n>', /int\(\): 2 digits hold 0 to 99, outside min 100: the rule would match nothing/],
      ['/x/<int(fixed_digits=3, max=-100, signed=True):n>', /int\(\): 3 digits hold -99 to 999, outside max -100: the rule would match nothing/],
      ['/x/<int(fixed_digits=1, max=-1, signed=True):n>', /int\(\): 1 digits hold 0 to 9, outside max -1/],
    ];
    for (const [pattern, message] of cases) {
      expect(rule(pattern), pattern).toThrow(TypeError);
      expect(rule(pattern), pattern).toThrow(message);
      expect(rule(pattern), pattern).toThrow(pattern);
    }
    // Bounds a text can meet stay: the edges, and a negative max with signed.
    const m = new RouteMap({ a: '/a/<int(fixed_digits=2, min=99):n>', b: '/b/<int(max=-1, signed=True):n>', c: '/c/<int(fixed_digits=3, max=-99, signed=True):n>', d: '/d/<float(max=0.0):x>', e: '/e/<int(max=0):n>' });
    expect(m.lookup('GET', '/a/99')).toMatchObject({ values: { n: 99 } });
    expect(m.lookup('GET', '/b/-3')).toMatchObject({ values: { n: -3 } });
    expect(m.lookup('GET', '/c/-99')).toMatchObject({ values: { n: -99 } });
    expect(m.lookup('GET', '/d/0.0')).toMatchObject({ values: { x: 0 } });
    expect(m.lookup('GET', '/e/0')).toMatchObject({ values: { n: 0 } });
  });

  it('reads a 100 KB argument list in linear time (no regex backtracking), quoting at most 100 characters of it', () => {
    const digits = '1'.repeat(100_000);
    const start = performance.now();
    for (const pattern of [`/x/<int(${digits}x):n>`, `/x/<int(min=${digits}e):n>`, `/x/<float(max=${digits}.${digits}x):n>`, `/x/<int(${'min=1, '.repeat(15_000)}):n>`]) {
      expect(rule(pattern)).toThrow(TypeError);
    }
    expect(performance.now() - start).toBeLessThan(5000); // about 30 ms here; the backtracking regex took 18 s
    expect(rule(`/x/<int(${digits}x):n>`)).toThrow(/: at "1{100}…"$/);
  });

  it('refuses a 200 KB pattern of unclosed argument lists in linear time', () => {
    const start = performance.now();
    expect(rule(`/${'<a('.repeat(70_000)}`)).toThrow(/malformed placeholder/);
    expect(rule(`/${'<int(1'.repeat(35_000)}`)).toThrow(/malformed placeholder/);
    expect(performance.now() - start).toBeLessThan(5000); // a few ms here; the old placeholder scan took 11 s;
    // Arguments hold no parentheses (Werkzeug's end at the first `)` too).
    expect(rule("/x/<any('(', b):w>")).toThrow(/malformed placeholder/);
  });

  it('reads digits grouped with underscores, as Python (and Werkzeug) does: 1_000 is 1000', () => {
    const m = new RouteMap({ n: '/n/<int(min=1_000):n>', f: '/f/<float(max=1_0.5):f>' });
    expect(m.lookup('GET', '/n/999')).toEqual({ kind: 'none' });
    expect(m.lookup('GET', '/n/1000')).toMatchObject({ values: { n: 1000 } });
    expect(m.lookup('GET', '/f/10.5')).toMatchObject({ values: { f: 10.5 } });
    expect(m.lookup('GET', '/f/10.6')).toEqual({ kind: 'none' });
    for (const bad of ['1__000', '1000_', '_1000', '0x10']) expect(rule(`/x/<int(min=${bad}):n>`), bad).toThrow(TypeError);
  });

  it('gives no arguments to a custom converter, one registered under a built-in name included', () => {
    const slug: Converter<string> = { regex: '[a-z-]+', toValue: (text) => text, toUrl: (value) => value };
    expect(() => new RouteMap({ x: '/x/<slug(2):s>' }, { converters: { slug } })).toThrow(new TypeError('/x/<slug(2):s>: slug() is a custom converter, which takes no arguments'));
    expect(() => new RouteMap({ x: '/x/<int(min=1):s>' }, { converters: { int: slug } })).toThrow(/int\(\) is a custom converter/);
    expect(new RouteMap({ x: '/x/<slug():s>' }, { converters: { slug } }).lookup('GET', '/x/a-b')).toMatchObject({ values: { s: 'a-b' } });
    expect(() => new RouteMap({ x: '/x/<nope(1):s>' })).toThrow(/unknown converter "nope"/);
  });

  it('keeps a converter’s weight: int with arguments still goes before string, after static text', () => {
    const m = new RouteMap({ word: '/w/<slug>', fresh: '/w/new', page: '/w/<int(min=1):n>' });
    expect(m.lookup('GET', '/w/new')).toMatchObject({ rule: { endpoint: 'fresh' } });
    expect(m.lookup('GET', '/w/5')).toMatchObject({ rule: { endpoint: 'page' }, values: { n: 5 } });
    expect(m.lookup('GET', '/w/0')).toMatchObject({ rule: { endpoint: 'word' }, values: { slug: '0' } });
  });

  it('shares nothing between int and int with arguments at the same place', () => {
    const m = new RouteMap({ small: '/n/<int(max=9):n>', big: { path: '/n/<int:n>', methods: ['POST'] }, any: '/n/<int(min=0):n>' });
    expect(m.lookup('GET', '/n/5')).toMatchObject({ rule: { endpoint: 'small' } });
    expect(m.lookup('GET', '/n/50')).toMatchObject({ rule: { endpoint: 'any' } });
    expect(m.lookup('POST', '/n/50')).toMatchObject({ rule: { endpoint: 'big' } });
  });

  it('applies the range on every path of a lookup: 405 and its Allow, HEAD, the slash and merge redirects', () => {
    const m = new RouteMap({
      post: { path: '/q/<int(min=1):n>', methods: ['POST'] },
      put: { path: '/q/<int(max=-1, signed=True):n>', methods: ['PUT'] },
      slash: '/s/<int(min=1):n>/',
      merge: { path: '/m/<int(min=1):n>/x', mergeSlashes: true },
      page: '/g/<string(length=2):s>',
    });
    expect(m.lookup('GET', '/q/0')).toEqual({ kind: 'none' });
    expect(m.lookup('GET', '/q/3')).toEqual({ kind: 'method', allowed: new Set(['POST']) });
    expect(m.lookup('GET', '/q/-3')).toEqual({ kind: 'method', allowed: new Set(['PUT']) });
    expect(m.lookup('GET', '/s/0')).toEqual({ kind: 'none' });
    expect(m.lookup('GET', '/s/1')).toEqual({ kind: 'slash' });
    expect(m.lookup('GET', '/m//0/x')).toEqual({ kind: 'none' });
    expect(m.lookup('GET', '/m//1/x')).toEqual({ kind: 'merge', path: '/m/1/x' });
    expect(m.lookup('HEAD', '/g/abc')).toEqual({ kind: 'none' });
    expect(m.lookup('HEAD', '/g/ab')).toMatchObject({ kind: 'match', values: { s: 'ab' } });
    expect(m.lookup('POST', '/g/ab')).toEqual({ kind: 'method', allowed: new Set(['GET', 'HEAD']) });
    expect(m.lookup('POST', '/g/abc')).toEqual({ kind: 'none' });
  });

  it('takes arguments in a host pattern too', () => {
    const m = new RouteMap({ v: { path: '/', host: 'v<int(min=2):version>.example.com' } });
    expect(m.lookup('GET', '/', 'v2.example.com')).toMatchObject({ kind: 'match', values: { version: 2 } });
    expect(m.lookup('GET', '/', 'v1.example.com')).toEqual({ kind: 'none' });
  });
});

describe('types', () => {
  it('types a placeholder with arguments by its converter', () => {
    expectTypeOf<RouteValues<'/a/<int(min=1):page>/<float(signed=True):f>/<string(length=2):s>/<default(length=2):d>/<any(a,b):w>'>>().toEqualTypeOf<{
      page: number;
      f: number;
      s: string;
      d: string;
      w: string;
    }>();
    // Arguments holding `:`, `>` or quotes: the placeholder ends at the `>` after `):name`.
    expectTypeOf<RouteValues<"/a/<any('a:b', c):x>/<any(a>b, 'c:d'):y>/<int(min=1):n>/<z>">>().toEqualTypeOf<{ x: string; y: string; n: number; z: string }>();
    expectTypeOf<RouteValues<'/<a>/<int(min=1):n>/<b>.<float(max=1.0):f>'>>().toEqualTypeOf<{ a: string; n: number; b: string; f: number }>();
    const odd = new RouteMap({ x: "/x/<any('a:b', c>d):w>/<int( min = 1 ):n>" });
    expect(odd.lookup('GET', '/x/c>d/2')).toMatchObject({ kind: 'match', values: { w: 'c>d', n: 2 } });
    odd.app({ x: (_req, values) => {
      expectTypeOf(values).toEqualTypeOf<{ w: string; n: number }>();
      return values.w;
    } });
    expect(odd.build('x', { w: 'a:b', n: 1 })).toBe('/x/a:b/1');
    routes.app({
      list: (_req, { page }) => {
        expectTypeOf(page).toEqualTypeOf<number>();
        return `page ${page}`;
      },
      range: () => '',
      rangeWord: () => '',
      year: () => '',
      temp: () => '',
      unsigned: () => '',
      offset: (_req, { x }) => `${x.toFixed(1)}`,
      ratio: () => '',
      lang: (_req, { code }) => code.toUpperCase(),
      short: () => '',
      plain: () => '',
      positional: () => '',
    });
    // @ts-expect-error page is a number
    expect(() => routes.build('list', { page: '1' })).toThrow(TypeError);
  });
});

describe('over a socket', () => {
  it('answers 404 for a value out of range and the handler for one in range', async () => {
    const m = new RouteMap({ list: '/list/<int(min=1, max=100):page>', lang: '/lang/<string(length=2):code>' });
    const server = await start(m.app({ list: (_req, { page }, urls) => `page ${page + 1}: ${urls.build('list', { page })}`, lang: (_req, { code }) => `lang ${code}` }));
    const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);
    const ok = await get('/list/1');
    expect([ok.status, await ok.text()]).toEqual([200, 'page 2: /list/1']);
    for (const path of ['/list/0', '/list/101', '/lang/fra']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      await res.arrayBuffer();
    }
    const lang = await get('/lang/fr');
    expect([lang.status, await lang.text()]).toEqual([200, 'lang fr']);
    // Lengths count the decoded characters, not the escaped text: 😀😀 and éa are two each.
    for (const [path, body] of [['/lang/%F0%9F%98%80%F0%9F%98%80', 'lang 😀😀'], ['/lang/%C3%A9a', 'lang éa']]) {
      const res = await get(path);
      expect([res.status, await res.text()], path).toEqual([200, body]);
    }
    const one = await get('/lang/%C3%A9');
    expect(one.status).toBe(404);
    await one.arrayBuffer();
    // One emoji is one character (two UTF-16 units), not a length-2 code.
    const emoji = await get('/lang/%F0%9F%98%80');
    expect([emoji.status, await emoji.text()]).toEqual([404, expect.not.stringContaining('lang')]);
    expect(server.log.text).toBe('');
  });
});
