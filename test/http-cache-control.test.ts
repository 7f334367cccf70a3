/**
 * Cache-Control (src/http/cache-control.ts): RFC 9111 §5.2 directives as camelCase fields,
 * hostile values, extensions, the live onChange rewrite, and a response's several lines.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { CacheControl } from 'tsgi/http';
import { CookieSessions, sessionOf } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

describe('parsing', () => {
  it('absent: every field off', () => {
    const cc = new CacheControl(undefined);
    expect(cc.maxAge).toBeNull();
    expect(cc.sMaxAge).toBeNull();
    expect(cc.maxStale).toBeNull();
    expect(cc.noCache).toBe(false);
    expect(cc.private).toBe(false);
    expect(cc.noStore).toBe(false);
    expect(cc.public).toBe(false);
    expect(cc.toString()).toBe('');
    expect(cc.entries()).toEqual([]);
  });

  it('reads every registered directive', () => {
    const cc = new CacheControl(
      'max-age=60, s-maxage=120, stale-while-revalidate=30, stale-if-error=600, min-fresh=5, max-stale=10, ' +
        'no-cache, private, no-store, public, must-revalidate, proxy-revalidate, immutable, no-transform, ' +
        'only-if-cached, must-understand',
    );
    expect(cc.maxAge).toBe(60);
    expect(cc.sMaxAge).toBe(120);
    expect(cc.staleWhileRevalidate).toBe(30);
    expect(cc.staleIfError).toBe(600);
    expect(cc.minFresh).toBe(5);
    expect(cc.maxStale).toBe(10);
    expect(cc.noCache).toBe(true);
    expect(cc.private).toBe(true);
    for (const flag of ['noStore', 'public', 'mustRevalidate', 'proxyRevalidate', 'immutable', 'noTransform', 'onlyIfCached', 'mustUnderstand'] as const) {
      expect(cc[flag], flag).toBe(true);
    }
    expect(cc.extensions).toEqual({});
  });

  it('names are case-insensitive; arguments in token or quoted form', () => {
    const cc = new CacheControl('Max-Age="60", S-MAXAGE = 7');
    expect(cc.maxAge).toBe(60);
    expect(cc.sMaxAge).toBe(7);
    expect(cc.toString()).toBe('max-age=60, s-maxage=7');
  });

  it('no-cache and private with field lists', () => {
    const cc = new CacheControl('no-cache="Set-Cookie, X-Token", private=Authorization');
    expect(cc.noCache).toEqual(['Set-Cookie', 'X-Token']);
    expect(cc.private).toEqual(['Authorization']);
    expect(new CacheControl('no-cache=""').noCache).toBe(true);
    expect(new CacheControl('no-cache=" , "').noCache).toBe(true);
  });

  it('max-stale without argument means any staleness', () => {
    expect(new CacheControl('max-stale').maxStale).toBe(true);
    expect(new CacheControl('max-stale=abc').maxStale).toBe(0);
  });

  it.each([
    ['max-age=99999999999999999999', 2147483648],
    ['max-age=2147483648', 2147483648],
    ['max-age=2147483647', 2147483647],
    ['max-age=007', 7],
    ['max-age=-1', 0],
    ['max-age=1.5', 0],
    ['max-age=abc', 0],
    ['max-age', 0],
    ['max-age=""', 0],
    ['max-age="  5"', 5],
    ['max-age=1e3', 0],
  ])('hostile delta-seconds %j read as %d', (header, expected) => {
    expect(new CacheControl(header).maxAge).toBe(expected);
  });

  it('a repeated directive keeps its first value (duplicate header lines joined)', () => {
    const cc = new CacheControl(['max-age=10', 'max-age=20, public'].join(', '));
    expect(cc.maxAge).toBe(10);
    expect(cc.public).toBe(true);
    expect(cc.toString()).toBe('max-age=10, public');
  });

  it('keeps extensions in order, with unquoted values', () => {
    const cc = new CacheControl('community="UCI", foo, bar=baz, public, q="a\\"b"');
    expect(cc.extensions).toEqual({ community: 'UCI', foo: true, bar: 'baz', q: 'a"b' });
    expect(cc.get('COMMUNITY')).toBe('UCI');
    expect(cc.has('foo')).toBe(true);
    expect(cc.get('missing')).toBeUndefined();
    expect(cc.toString()).toBe('community=UCI, foo, bar=baz, public, q="a\\"b"');
    expect(new CacheControl('__proto__=x').extensions).toEqual(Object.assign(Object.create(null), { ['__proto__']: 'x' }));
  });

  it('drops malformed directives and keeps the rest', () => {
    const cc = new CacheControl('max-age=60 junk, , bad=, "quoted", no-store, x="unterminated, public');
    expect(cc.entries()).toEqual([
      ['no-store', true],
    ]);
    const cc2 = new CacheControl('@@@, public, max-age=5;x, private');
    expect(cc2.entries()).toEqual([
      ['public', true],
      ['private', true],
    ]);
  });

  it('never throws and round-trips through toString', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (header) => {
        const cc = new CacheControl(header);
        const again = new CacheControl(cc.toString());
        expect(again.entries()).toEqual(cc.entries());
        expect(again.maxAge).toBe(cc.maxAge);
      }),
    );
  });
});

describe('live updates', () => {
  it('setting a field rewrites the header through onChange', () => {
    const seen: string[] = [];
    const cc = new CacheControl('public, max-age=60', (value) => seen.push(value));
    cc.maxAge = 120;
    cc.noStore = true;
    cc.public = false;
    cc.noCache = ['Set-Cookie', 'X-A'];
    cc.sMaxAge = null;
    cc.maxAge = undefined as unknown as null;
    expect(seen).toEqual([
      'public, max-age=120',
      'public, max-age=120, no-store',
      'max-age=120, no-store',
      'max-age=120, no-store, no-cache="Set-Cookie, X-A"',
      'max-age=120, no-store, no-cache="Set-Cookie, X-A"',
      'no-store, no-cache="Set-Cookie, X-A"',
    ]);
  });

  it('an emptied header reports the empty string', () => {
    const seen: string[] = [];
    const cc = new CacheControl('no-store', (value) => seen.push(value));
    cc.noStore = false;
    expect(seen).toEqual(['']);
  });

  it('fields set to true, field lists, max-stale forms', () => {
    const cc = new CacheControl();
    cc.private = true;
    cc.noCache = [];
    cc.maxStale = true;
    expect(cc.toString()).toBe('private, no-cache, max-stale');
    cc.maxStale = 30;
    cc.private = ['Authorization'];
    expect(cc.toString()).toBe('private="Authorization", no-cache, max-stale=30');
    expect(cc.private).toEqual(['Authorization']);
  });

  it('huge numbers are stored as 2^31', () => {
    const cc = new CacheControl();
    cc.maxAge = 1e15;
    expect(cc.maxAge).toBe(2147483648);
  });

  it('invalid assignments throw and change nothing', () => {
    const seen: string[] = [];
    const cc = new CacheControl('max-age=5', (value) => seen.push(value));
    expect(() => (cc.maxAge = -1)).toThrow(RangeError);
    expect(() => (cc.maxAge = 1.5)).toThrow(RangeError);
    expect(() => (cc.maxAge = NaN)).toThrow(RangeError);
    expect(() => (cc.maxAge = '60' as unknown as number)).toThrow(TypeError);
    expect(() => (cc.maxAge = true as unknown as number)).toThrow(TypeError);
    expect(() => (cc.noStore = 'yes' as unknown as boolean)).toThrow(TypeError);
    expect(() => (cc.noCache = ['bad name'])).toThrow(TypeError);
    expect(() => cc.set('bad name', true)).toThrow(TypeError);
    expect(() => cc.set('x', 'line\nbreak')).toThrow(TypeError);
    expect(seen).toEqual([]);
    expect(cc.toString()).toBe('max-age=5');
  });

  it('generic set/delete keep positions and quote as needed', () => {
    const seen: string[] = [];
    const cc = new CacheControl('a=1, max-age=5, b', (value) => seen.push(value));
    cc.set('A', 'x y');
    expect(cc.toString()).toBe('a="x y", max-age=5, b');
    expect(cc.delete('max-age')).toBe(true);
    expect(cc.delete('max-age')).toBe(false);
    cc.set('c', true).set('d', 'tok');
    expect(cc.toString()).toBe('a="x y", b, c, d=tok');
    expect(seen).toHaveLength(4);
  });

  it('property: format → parse round trip of generated directive sets', () => {
    const value = fc.oneof(
      fc.constant(true as const),
      fc.string({ maxLength: 10 }).filter((s) => /^[\t\x20-\x7e\x80-\xff]*$/.test(s)),
    );
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, value), { selector: ([n]) => n, maxLength: 6 }), fc.option(fc.nat(), { nil: null }), (directives, maxAge) => {
        const cc = new CacheControl();
        for (const [n, v] of directives) if (n !== 'max-age') cc.set(n, v);
        cc.maxAge = maxAge;
        const parsed = new CacheControl(cc.toString());
        expect(parsed.entries()).toEqual(cc.entries());
        expect(parsed.maxAge).toBe(maxAge === null ? null : Math.min(maxAge, 2147483648));
      }),
    );
  });
});

describe('several Cache-Control lines (RFC 9110 §5.3: a quoted-string cannot span lines)', () => {
  const LINES: Array<[string, string]> = [
    ['Cache-Control', 'no-cache="Set-Cookie'],
    ['Cache-Control', 'no-store'],
  ];

  it('a malformed line loses only its own directives: res.cacheControl and its rewrite', () => {
    const res = new Response('x', { headers: LINES });
    expect(res.cacheControl.noStore).toBe(true);
    expect(res.cacheControl.noCache).toBe(false);
    res.cacheControl.mustRevalidate = true;
    expect(res.headers.getAll('cache-control')).toEqual(['no-store, must-revalidate']);
    const valid = new Response('x', { headers: [['Cache-Control', 'max-age=60, foo="a, b"'], ['Cache-Control', 'private="Set-Cookie", max-age=5']] });
    expect(valid.cacheControl.entries()).toEqual([['max-age', '60'], ['foo', 'a, b'], ['private', 'Set-Cookie']]);
  });

  it('over a socket, a session page keeps the no-store of a second line', async () => {
    const site = Request.application((req) => {
      sessionOf(req).set('user', 'bob');
      return new Response('page', { headers: LINES });
    });
    const server = await start(new CookieSessions({ secret: 'a-long-enough-secret-for-tests-0123456789' }).middleware(site));
    const res = await request(server.url);
    expect(res.headers['set-cookie']).toHaveLength(1);
    expect(res.headers['cache-control']).toMatch(/\bno-store\b/);
  });
});
