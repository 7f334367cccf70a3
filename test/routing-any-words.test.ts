/**
 * tsgi/routing: `any(…)`'s words, read as Python literals where quoted (`any("a,b", c)` is the
 * words `a,b` and `c`, a quoted `)` included), and as the text between commas otherwise
 * (`a-b`, `c>d`, `it's`), in time linear in the pattern.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { RouteMap, type RouteValues } from 'tsgi/routing';

const rule = (pattern: string) => () => new RouteMap({ x: pattern });

describe('any() words', () => {
  it('keeps a comma inside quotes in its word', () => {
    const m = new RouteMap({ x: '/x/<any("a,b", c):w>', y: "/y/<any('p, q', r):w>/end" });
    expect(m.lookup('GET', '/x/a,b')).toMatchObject({ kind: 'match', values: { w: 'a,b' } });
    expect(m.lookup('GET', '/x/c')).toMatchObject({ kind: 'match', values: { w: 'c' } });
    for (const path of ['/x/a', '/x/b', '/x/"a', '/x/b"']) expect(m.lookup('GET', path), path).toEqual({ kind: 'none' });
    expect(m.lookup('GET', '/y/p, q/end')).toMatchObject({ values: { w: 'p, q' } });
    expect(m.build('x', { w: 'a,b' })).toBe('/x/a,b');
    expect(() => m.build('x', { w: 'a' })).toThrow(/"a" is not one of a,b, c/);
  });

  it('keeps a closing parenthesis inside quotes in its word, and still refuses an opening one', () => {
    const m = new RouteMap({ x: "/x/<any('a)b', \"c)\"):w>/<int(min=1):n>" });
    expect(m.lookup('GET', '/x/a)b/1')).toMatchObject({ kind: 'match', values: { w: 'a)b', n: 1 } });
    expect(m.lookup('GET', '/x/c)/2')).toMatchObject({ kind: 'match', values: { w: 'c)', n: 2 } });
    expect(m.lookup('GET', '/x/a/1')).toEqual({ kind: 'none' });
    expect(m.build('x', { w: 'c)', n: 3 })).toBe('/x/c)/3');
    expectTypeOf<RouteValues<"/x/<any('a)b', c):w>/<int(min=1):n>">>().toEqualTypeOf<{ w: string; n: number }>();
    // A quoted word may hold `):` too: the name is still the one after the arguments' `)`.
    const colon = new RouteMap({ x: "/x/<any('a):b', c):w>/<int:n>", y: '/y/<any("p):q", \'r):s\'):v>' });
    expect(colon.lookup('GET', '/x/a):b/1')).toMatchObject({ kind: 'match', values: { w: 'a):b', n: 1 } });
    expect(colon.lookup('GET', '/y/r):s')).toMatchObject({ kind: 'match', values: { v: 'r):s' } });
    expectTypeOf<RouteValues<"/x/<any('a):b', c):w>/<int:n>">>().toEqualTypeOf<{ w: string; n: number }>();
    expectTypeOf<RouteValues<"/x/<any('a):b', c>d):w>/<int(min=1):n>">>().toEqualTypeOf<{ w: string; n: number }>();
    expectTypeOf<RouteValues<'/y/<any("p):q", \'r):s\'):v>'>>().toEqualTypeOf<{ v: string }>();
    expect(colon.build('y', { v: 'p):q' })).toBe('/y/p):q');
    expect(rule("/x/<any('(', b):w>")).toThrow(/malformed placeholder/);
    expect(rule("/x/<any('a(b)', b):w>")).toThrow(/malformed placeholder/);
  });

  it('still takes the bare words it took, quotes around a whole word dropped', () => {
    const m = new RouteMap({
      a: '/a/<any(a-b, new , edit):w>',
      b: "/b/<any(a>b, 'c:d', \"e\"):w>",
      c: "/c/<any(it's, x'y'z, 'p'q'):w>",
      d: "/d/<any( 1.0 , v2.0,True, u'a'):w>",
    });
    const words = { a: ['a-b', 'new', 'edit'], b: ['a>b', 'c:d', 'e'], c: ["it's", "x'y'z", "p'q"], d: ['1.0', 'v2.0', 'True', "u'a'"] };
    for (const [endpoint, list] of Object.entries(words)) {
      for (const word of list) expect(m.lookup('GET', `/${endpoint}/${word}`), `${endpoint} ${word}`).toMatchObject({ kind: 'match', rule: { endpoint }, values: { w: word } });
    }
    expect(m.lookup('GET', "/b/'c:d'")).toEqual({ kind: 'none' });
    // A quote in a bare word opens nothing, whatever follows the placeholder.
    const later = new RouteMap({ x: "/<any(it's, x):w>/a',b)" });
    expect(later.lookup('GET', "/it's/a',b)")).toMatchObject({ kind: 'match', values: { w: "it's" } });
    expect(rule('/x/<any(a,,b):w>')).toThrow(/non-empty words/);
    expect(rule('/x/<any(a/b):w>')).toThrow(/without '\/'/);
    expect(rule('/x/<any():w>')).toThrow(/non-empty words/);
  });

  it('reads long and unclosed word lists in linear time', () => {
    const start = performance.now();
    const many = Array.from({ length: 20_000 }, (_, i) => `'w,${i}'`).join(', ');
    expect(new RouteMap({ x: `/x/<any(${many}):w>` }).lookup('GET', '/x/w,19999')).toMatchObject({ values: { w: 'w,19999' } });
    expect(rule(`/${"<a('".repeat(50_000)}`)).toThrow(/malformed placeholder/);
    expect(rule(`/${"<a(')".repeat(40_000)}`)).toThrow(/malformed placeholder/);
    expect(rule(`/<a(${"' ".repeat(50_000)}`)).toThrow(/malformed placeholder/);
    expect(rule(`/<any(${"'a' x, ".repeat(30_000)}`)).toThrow(/malformed placeholder/);
    expect(performance.now() - start).toBeLessThan(5000);
  });
});
