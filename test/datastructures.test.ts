import { describe, expect, it } from 'vitest';
import { EnvironHeaders, HTTPBadRequest, HeaderList, MultiDict, Request, Response } from 'tsgi';
import { headerEnvironKey, headerName } from '../src/gateway/header-keys.ts';
import { start } from './node-helpers.ts';

describe('MultiDict', () => {
  it('fromQueryString(qs, charset) reads a GET form from a Shift_JIS page in Shift_JIS (WebOb url_encoding), over a socket', async () => {
    const app = Request.application((req) => Response.json([...MultiDict.fromQueryString(req.queryString, 'shift_jis')]));
    const server = await start(app);
    try {
      const res = await fetch(`${server.url}/search?q=%93%8C%8B%9E+%91%E5%8D%E3&%8C%A7=%zz%82%A0&empty`);
      expect(await res.json()).toEqual([['q', '東京 大阪'], ['県', '%zzあ'], ['empty', '']]);
    } finally {
      await server.close();
    }
    expect([...MultiDict.fromQueryString('a=%E9%80', 'windows-1252')]).toEqual([['a', 'é€']]);
    expect([...MultiDict.fromQueryString('a=%C3%A9&&b', 'UTF-8')]).toEqual([['a', 'é'], ['b', '']]);
    expect(() => MultiDict.fromQueryString('a=1', 'klingon')).toThrow(RangeError);
    // as a urlencoded body declaring it is read: US-ASCII is a subset of UTF-8, and UTF-16 has no one-byte '=' or '&'
    expect([...MultiDict.fromQueryString('a=%C3%A9', 'us-ascii')]).toEqual([['a', 'é']]);
    expect([...MultiDict.fromQueryString('a=%C3%A9', 'ascii')]).toEqual([['a', 'é']]);
    expect([...MultiDict.fromQueryString('a=%C3%A9', 'ANSI_X3.4-1968')]).toEqual([['a', 'é']]);
    expect(() => MultiDict.fromQueryString('a=1', 'utf-16le')).toThrow(RangeError);
  });

  it('builds from pairs, a record with arrays, and another MultiDict', () => {
    const fromPairs = new MultiDict([
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
    ]);
    expect([...fromPairs]).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
    ]);
    const fromRecord = new MultiDict({ a: ['1', '3'], b: '2' });
    expect(fromRecord.getAll('a')).toEqual(['1', '3']);
    expect(fromRecord.get('b')).toBe('2');
    const copy = new MultiDict(fromPairs);
    copy.add('c', '4');
    expect(copy.size).toBe(4);
    expect(fromPairs.size).toBe(3);
    expect(new MultiDict().size).toBe(0);
  });

  it('get answers the FIRST value (Werkzeug), or the fallback', () => {
    const d = MultiDict.fromQueryString('tag=a&tag=b');
    expect(d.get('tag')).toBe('a');
    expect(d.get('missing')).toBeUndefined();
    expect(d.get('missing', 'dflt')).toBe('dflt');
    expect(d.get('tag', 'dflt')).toBe('a');
  });

  it('getAll answers every value in order, [] when absent', () => {
    const d = MultiDict.fromQueryString('x=1&y=2&x=3&x=4');
    expect(d.getAll('x')).toEqual(['1', '3', '4']);
    expect(d.getAll('z')).toEqual([]);
  });

  it('getOne answers a single value and throws 400 for none or several', () => {
    const d = MultiDict.fromQueryString('a=1&b=2&b=3');
    expect(d.getOne('a')).toBe('1');
    expect(() => d.getOne('b')).toThrow(HTTPBadRequest);
    expect(() => d.getOne('b')).toThrow(/b was given 2 times/);
    let error: unknown;
    try {
      d.getOne('c');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HTTPBadRequest);
    expect((error as InstanceType<typeof HTTPBadRequest>).code).toBe(400);
    expect((error as Error).message).toMatch(/Missing parameter: c/);
  });

  it('has, add, set (keeps the first position), delete', () => {
    const d = new MultiDict<string>();
    expect(d.has('a')).toBe(false);
    d.add('a', '1').add('b', '2').add('a', '3');
    expect(d.has('a')).toBe(true);
    d.set('a', 'x');
    expect([...d]).toEqual([
      ['a', 'x'],
      ['b', '2'],
    ]);
    d.set('c', 'new');
    expect(d.keys()).toEqual(['a', 'b', 'c']);
    expect(d.delete('a')).toBe(1);
    expect(d.delete('a')).toBe(0);
    expect(d.keys()).toEqual(['b', 'c']);
  });

  it('keeps a leading ? of the query in the first key, as the URL parser does (/p??a=1)', async () => {
    expect([...MultiDict.fromQueryString('?a=1&b=2')]).toEqual([['?a', '1'], ['b', '2']]);
    expect([...MultiDict.fromQueryString('??a')]).toEqual([['??a', '']]);
    const app = Request.application((req) => Response.json([...req.query]));
    const server = await start(app, { host: '127.0.0.1' });
    const res = await fetch(`${server.url}/p??a=1&b=2`);
    expect(await res.json()).toEqual([...new URL('http://h/p??a=1&b=2').searchParams]);
    expect([...Request.blank('/p??a=1').query]).toEqual([['?a', '1']]);
  });

  it('iterates over copies of the pairs as they were: deleting in the loop skips none', () => {
    const form = MultiDict.fromQueryString('_csrf=t&_method=PUT&name=ann&_next=%2F');
    for (const [key] of form) if (key.startsWith('_')) form.delete(key);
    expect([...form]).toEqual([['name', 'ann']]);
    const d = new MultiDict([['a', '1']]);
    for (const pair of d) pair[1] = 'changed';
    const [first] = d.entries();
    first![0] = 'b';
    expect(d.get('a')).toBe('1');
    expect(d.has('b')).toBe(false);
    for (const [key, value] of d) d.add(key, value);
    expect(d.getAll('a')).toEqual(['1', '1']);
  });

  it('keys are distinct in first-seen order; values and entries keep every pair', () => {
    const d = MultiDict.fromQueryString('b=1&a=2&b=3');
    expect(d.keys()).toEqual(['b', 'a']);
    expect(d.values()).toEqual(['1', '2', '3']);
    expect([...d.entries()]).toEqual([
      ['b', '1'],
      ['a', '2'],
      ['b', '3'],
    ]);
    expect(d.size).toBe(3);
  });

  it('toObject keeps the first value, toJSON every value, both null-prototype', () => {
    const d = MultiDict.fromQueryString('a=1&a=2&__proto__=x&constructor=y');
    const obj = d.toObject();
    expect(obj.a).toBe('1');
    expect(Object.getPrototypeOf(obj)).toBeNull();
    expect(obj['__proto__']).toBe('x');
    expect(obj.constructor).toBe('y');
    expect(d.toJSON().a).toEqual(['1', '2']);
    const json = JSON.parse(JSON.stringify(d)) as Record<string, string[]>;
    expect(Object.keys(json)).toEqual(['a', '__proto__', 'constructor']);
    expect(json.a).toEqual(['1', '2']);
    expect(Object.getOwnPropertyDescriptor(json, '__proto__')?.value).toEqual(['x']);
  });

  it('toString URL-encodes and round-trips through fromQueryString', () => {
    const d = new MultiDict([
      ['q', 'a b&c=d'],
      ['é', '€'],
      ['q', ''],
    ]);
    const text = d.toString();
    expect(text).toBe('q=a+b%26c%3Dd&%C3%A9=%E2%82%AC&q=');
    expect([...MultiDict.fromQueryString(text)]).toEqual([...d]);
  });

  describe('fromQueryString', () => {
    it('handles empty and repeated keys: a=&b&a=2', () => {
      const d = MultiDict.fromQueryString('a=&b&a=2');
      expect(d.getAll('a')).toEqual(['', '2']);
      expect(d.get('b')).toBe('');
      expect(d.has('b')).toBe(true);
      expect(d.keys()).toEqual(['a', 'b']);
    });

    it('is empty for an empty string and skips empty pairs', () => {
      expect(MultiDict.fromQueryString('').size).toBe(0);
      expect([...MultiDict.fromQueryString('&&a=1&&')]).toEqual([['a', '1']]);
    });

    it('decodes + as space and percent-escapes as UTF-8', () => {
      const d = MultiDict.fromQueryString('q=a+b%20c&name=caf%C3%A9&plus=%2B');
      expect(d.get('q')).toBe('a b c');
      expect(d.get('name')).toBe('café');
      expect(d.get('plus')).toBe('+');
    });

    it('never throws: malformed escapes stay as written, bad UTF-8 becomes U+FFFD', () => {
      const d = MultiDict.fromQueryString('a=%zz&b=100%&c=%FF&d=%E2%82');
      expect(d.get('a')).toBe('%zz');
      expect(d.get('b')).toBe('100%');
      expect(d.get('c')).toBe('\uFFFD');
      expect(d.get('d')).toBe('\uFFFD');
    });

    it('keeps = inside values and splits on the first one only', () => {
      expect(MultiDict.fromQueryString('a=b=c').get('a')).toBe('b=c');
      expect(MultiDict.fromQueryString('=x').get('')).toBe('x');
    });
  });
});

describe('HeaderList', () => {
  it('builds from pairs, a record (arrays = repeated fields, undefined skipped) and HeaderList', () => {
    const a = new HeaderList([
      ['Content-Type', 'text/plain'],
      ['Set-Cookie', 'a=1'],
    ]);
    expect(a.list).toEqual([
      ['Content-Type', 'text/plain'],
      ['Set-Cookie', 'a=1'],
    ]);
    const b = new HeaderList({ 'X-A': '1', 'Set-Cookie': ['a=1', 'b=2'], 'X-Skip': undefined });
    expect(b.getAll('set-cookie')).toEqual(['a=1', 'b=2']);
    expect(b.has('x-skip')).toBe(false);
    const c = new HeaderList(b);
    c.add('X-B', '2');
    expect(c.size).toBe(4);
    expect(b.size).toBe(3);
    expect(new HeaderList(new Map([['X-M', 'v']])).get('x-m')).toBe('v');
    expect(new HeaderList().size).toBe(0);
  });

  it('takes numbers in a record and in pairs, as set() and add() do', () => {
    const h = new HeaderList({ 'Content-Length': 42, 'X-N': [1, '2'] });
    expect(h.toList()).toEqual([
      ['Content-Length', '42'],
      ['X-N', '1'],
      ['X-N', '2'],
    ]);
    expect(new HeaderList([['Age', 7]]).get('age')).toBe('7');
    const res = new Response([new TextEncoder().encode('abc')], { headers: { 'Content-Length': 3 } });
    expect(res.contentLength).toBe(3);
  });

  it('a HeaderList built from another changes apart from it, whichever of the two changes', () => {
    const fields: Array<[string, string]> = [
      ['Content-Type', 'text/plain'],
      ['ETag', '"a"'],
      ['Set-Cookie', 'a=1'],
    ];
    const changes: Array<(h: HeaderList) => unknown> = [
      (h) => h.set('ETag', '"b"'),
      (h) => h.set('X-New', '1'),
      (h) => h.add('Set-Cookie', 'b=2'),
      (h) => h.append('Vary', 'Accept'),
      (h) => h.delete('etag'),
      (h) => h.set('Set-Cookie', null),
      (h) => h.clear(),
    ];
    for (const change of changes) {
      const original = new HeaderList(fields);
      const copy = new HeaderList(original);
      expect(copy.list).toEqual(fields);
      change(copy);
      expect(original.list).toEqual(fields);
      const again = new HeaderList(original);
      change(original);
      expect(again.list).toEqual(fields);
      expect(original.list).toEqual(copy.list);
    }
    // A change after the first still reaches only its own list.
    const original = new HeaderList(fields);
    const copy = new HeaderList(original);
    copy.add('X-A', '1');
    copy.add('X-B', '2');
    original.add('X-C', '3');
    expect(copy.keys()).toEqual(['Content-Type', 'ETag', 'Set-Cookie', 'X-A', 'X-B']);
    expect(original.keys()).toEqual(['Content-Type', 'ETag', 'Set-Cookie', 'X-C']);
    // Deleting a field that is not there changes nothing and copies nothing.
    expect(new HeaderList(original).delete('x-absent')).toBe(0);
  });

  it('lookups ignore case; names keep the case given', () => {
    const h = new HeaderList([['X-Request-ID', 'abc']]);
    expect(h.get('x-request-id')).toBe('abc');
    expect(h.get('X-REQUEST-ID')).toBe('abc');
    expect(h.has('X-Request-Id')).toBe(true);
    expect(h.keys()).toEqual(['X-Request-ID']);
    expect(h.get('missing')).toBeNull();
    expect(h.getAll('missing')).toEqual([]);
  });

  it('only ASCII letters match in the other case: token characters 0x20 apart stay distinct', () => {
    // `^` and `~`, `_` and DEL, `@` and `` ` `` differ by the same bit as `A` and `a`.
    const h = new HeaderList([
      ['A^B', 'caret'],
      ['X-Tag_', 'underscore'],
      ['Z`', 'backtick'],
    ]);
    expect(h.get('a^b')).toBe('caret');
    expect(h.get('a~b')).toBeNull();
    expect(h.get('x-tag\x7f')).toBeNull();
    expect(h.get('x-TAG_')).toBe('underscore');
    expect(h.get('z@')).toBeNull();
    expect(h.get('Z`')).toBe('backtick');
    h.set('a~b', 'tilde');
    expect(h.getAll('A^B')).toEqual(['caret']);
    expect(h.delete('A~B')).toBe(1);
    expect(h.keys()).toEqual(['A^B', 'X-Tag_', 'Z`']);
  });

  it('a non-ASCII name never matches an ASCII field (the Kelvin sign is not k)', () => {
    // String.prototype.toLowerCase folds U+212A KELVIN SIGN into `k` and U+0130 into `i̇`;
    // field names compare by ASCII case only (RFC 9110 §5.1).
    const h = new HeaderList([
      ['X-K', 'kelvin'],
      ['X-I', 'dotless'],
    ]);
    expect(h.get('x-\u212a')).toBeNull();
    expect(h.getAll('X-\u212A')).toEqual([]);
    expect(h.delete('x-\u212a')).toBe(0);
    expect(h.get('x-\u0130')).toBeNull();
    expect(h.get('x-k')).toBe('kelvin');
    expect(() => h.set('X-\u212a', '1')).toThrow(TypeError);
  });

  it('get answers the first value; getAll every value, in order', () => {
    const h = new HeaderList();
    h.add('Vary', 'Accept').add('vary', 'Cookie').append('VARY', 'Origin');
    expect(h.get('Vary')).toBe('Accept');
    expect(h.getAll('vary')).toEqual(['Accept', 'Cookie', 'Origin']);
    expect(h.size).toBe(3);
    expect(h.keys()).toEqual(['Vary']);
  });

  it('set replaces every field at the first position; null/undefined delete', () => {
    const h = new HeaderList([
      ['A', '1'],
      ['B', '2'],
      ['a', '3'],
      ['C', '4'],
    ]);
    h.set('A', 'x');
    expect(h.list).toEqual([
      ['A', 'x'],
      ['B', '2'],
      ['C', '4'],
    ]);
    h.set('Content-Length', 42);
    expect(h.get('content-length')).toBe('42');
    h.set('b', null);
    h.set('c', undefined);
    expect(h.list).toEqual([
      ['A', 'x'],
      ['Content-Length', '42'],
    ]);
  });

  it('delete answers how many fields went; clear empties', () => {
    const h = new HeaderList([
      ['Set-Cookie', 'a=1'],
      ['X', '1'],
      ['set-cookie', 'b=2'],
    ]);
    expect(h.delete('SET-COOKIE')).toBe(2);
    expect(h.delete('set-cookie')).toBe(0);
    expect(h.list).toEqual([['X', '1']]);
    h.clear();
    expect(h.size).toBe(0);
  });

  it.each([
    ['value with CR/LF', 'X-A', 'a\r\nSet-Cookie: evil=1'],
    ['value with LF', 'X-A', 'a\nb'],
    ['value with CR', 'X-A', 'a\rb'],
    ['value with NUL', 'X-A', 'a\0b'],
    ['name with a space', 'X A', 'v'],
    ['name with a colon', 'X:A', 'v'],
    ['name with CR/LF', 'X\r\nA', 'v'],
    ['empty name', '', 'v'],
  ])('refuses a %s in set, add, append and the constructor', (_label, name, value) => {
    const h = new HeaderList();
    expect(() => h.set(name, value)).toThrow(TypeError);
    expect(() => h.add(name, value)).toThrow(TypeError);
    expect(() => h.append(name, value)).toThrow(TypeError);
    expect(() => new HeaderList([[name, value]])).toThrow(TypeError);
    expect(() => new HeaderList({ [name]: value })).toThrow(TypeError);
    expect(h.size).toBe(0);
  });

  it('allows an empty value and a tab inside a value', () => {
    const h = new HeaderList([
      ['X-Empty', ''],
      ['X-Tab', 'a\tb'],
    ]);
    expect(h.get('x-empty')).toBe('');
    expect(h.get('x-tab')).toBe('a\tb');
  });

  it('iterates pairs; toList copies; toJSON joins (Set-Cookie with newlines)', () => {
    const h = new HeaderList([
      ['Set-Cookie', 'a=1'],
      ['Vary', 'Accept'],
      ['Set-Cookie', 'b=2'],
      ['vary', 'Cookie'],
    ]);
    expect([...h]).toEqual(h.list);
    expect([...h.entries()]).toEqual(h.list);
    const copy = h.toList();
    copy[0]![1] = 'changed';
    copy.push(['X', 'y']);
    expect(h.get('set-cookie')).toBe('a=1');
    expect(h.size).toBe(4);
    expect(h.toJSON()).toEqual({ 'set-cookie': 'a=1\nb=2', vary: 'Accept, Cookie' });
  });

  it('toJSON gives a field named like an Object.prototype member its own value', () => {
    const h = new HeaderList([['Constructor', 'a'], ['__proto__', 'b'], ['toString', 'c'], ['constructor', 'd']]);
    const json = h.toJSON();
    expect(Object.getPrototypeOf(json)).toBeNull();
    expect(Object.keys(json)).toEqual(['constructor', '__proto__', 'tostring']);
    expect(json.constructor).toBe('a, d');
    expect(json['__proto__']).toBe('b');
    expect(JSON.parse(JSON.stringify(h))).toEqual(JSON.parse('{"constructor":"a, d","__proto__":"b","tostring":"c"}'));
  });
});

describe('EnvironHeaders', () => {
  function environ(): Request['environ'] {
    return Request.blank('/', {
      headers: { 'X-Forwarded-For': '10.0.0.1', 'Content-Type': 'text/plain', Accept: 'text/html' },
      body: 'hi',
    }).environ;
  }

  it('maps names to CGI keys and back', () => {
    expect(headerEnvironKey('Content-Type')).toBe('CONTENT_TYPE');
    expect(headerEnvironKey('content-length')).toBe('CONTENT_LENGTH');
    expect(headerEnvironKey('X-Forwarded-For')).toBe('HTTP_X_FORWARDED_FOR');
    expect(headerEnvironKey('accept')).toBe('HTTP_ACCEPT');
    expect(headerName('HTTP_X_REAL_IP')).toBe('X-Real-Ip');
    expect(headerName('CONTENT_TYPE')).toBe('Content-Type');
    expect(headerName('CONTENT_LENGTH')).toBe('Content-Length');
    expect(headerName('SERVER_NAME')).toBeNull();
    expect(headerName('tsgi.input')).toBeNull();
  });

  it('reads case-insensitively, including Content-Type and Content-Length', () => {
    const h = new EnvironHeaders(environ());
    expect(h.get('x-forwarded-for')).toBe('10.0.0.1');
    expect(h.get('X-FORWARDED-FOR')).toBe('10.0.0.1');
    expect(h.get('content-type')).toBe('text/plain');
    expect(h.get('Content-Length')).toBe('2');
    expect(h.has('accept')).toBe(true);
    expect(h.get('missing')).toBeNull();
    expect(h.has('missing')).toBe(false);
  });

  it('never finds a name with "_" (so X_Forwarded_For cannot pose as X-Forwarded-For)', () => {
    const env = environ();
    const h = new EnvironHeaders(env);
    expect(h.get('X_Forwarded_For')).toBeNull();
    expect(h.has('x_forwarded_for')).toBe(false);
    expect(h.get('Content_Type')).toBeNull();
    h.delete('X_Forwarded_For');
    expect(env.HTTP_X_FORWARDED_FOR).toBe('10.0.0.1');
    expect(() => h.set('X_Real_Ip', '1.2.3.4')).toThrow(TypeError);
    expect(env.HTTP_X_REAL_IP).toBeUndefined();
  });

  it('compares names in ASCII case only: a non-token name finds, and deletes, nothing', () => {
    const env = Request.blank('/', { headers: { 'X-Session': 's1', 'Accept-Language': 'fr' } }).environ;
    const h = new EnvironHeaders(env);
    // JavaScript upper-cases the long s (U+017F) to S, sharp s to SS, and the ligature ﬀ to FF.
    expect(h.get('hoſt')).toBeNull();
    expect(h.has('HOſT')).toBe(false);
    expect(h.get('x-seßion')).toBeNull();
    expect(h.get('X-Session')).toBe('s1');
    h.delete('hoſt');
    h.delete('x-seßion');
    h.delete('Accept-Language ');
    expect(env.HTTP_HOST).toBe('localhost');
    expect(env.HTTP_X_SESSION).toBe('s1');
    expect(env.HTTP_ACCEPT_LANGUAGE).toBe('fr');
    expect(() => h.set('hoſt', 'evil')).toThrow(TypeError);
    expect(env.HTTP_HOST).toBe('localhost');
  });

  it('is live: writes go to the environ, environ changes are seen', () => {
    const env = environ();
    const h = new EnvironHeaders(env);
    h.set('X-Custom', 'v1');
    expect(env.HTTP_X_CUSTOM).toBe('v1');
    h.set('Content-Type', 'application/json');
    expect(env.CONTENT_TYPE).toBe('application/json');
    env.HTTP_X_CUSTOM = 'v2';
    expect(h.get('x-custom')).toBe('v2');
    h.set('x-custom', null);
    expect('HTTP_X_CUSTOM' in env).toBe(false);
    h.delete('Accept');
    expect(env.HTTP_ACCEPT).toBeUndefined();
  });

  it('refuses CR/LF in values and invalid names', () => {
    const env = environ();
    const h = new EnvironHeaders(env);
    expect(() => h.set('X-A', 'a\r\nb')).toThrow(TypeError);
    expect(() => h.set('X A', 'v')).toThrow(TypeError);
    expect(env.HTTP_X_A).toBeUndefined();
  });

  it('lists the headers, skipping non-header and non-string keys and stray HTTP_CONTENT_*', () => {
    const env = environ();
    env.HTTP_CONTENT_TYPE = 'x/stray';
    env.HTTP_CONTENT_LENGTH = '99';
    env.HTTP_NOT_A_STRING = 42;
    const h = new EnvironHeaders(env);
    const keys = h.keys();
    expect(keys).toContain('X-Forwarded-For');
    expect(keys).toContain('Content-Type');
    expect(keys).toContain('Content-Length');
    expect(keys).toContain('Host');
    expect(keys.filter((k) => k === 'Content-Type')).toHaveLength(1);
    expect(keys.filter((k) => k === 'Content-Length')).toHaveLength(1);
    expect(keys).not.toContain('Not-A-String');
    expect(keys).not.toContain('Server-Name');
    const record = Object.fromEntries(h);
    expect(record['Content-Type']).toBe('text/plain');
    expect(record['Content-Length']).toBe('2');
    expect(h.toJSON()['x-forwarded-for']).toBe('10.0.0.1');
    expect([...h.entries()]).toEqual([...h]);
  });

  it('lists only the names get() finds: never a pair with a null value', () => {
    const env = Request.blank('/').environ;
    env.HTTP_x_lower = 'a';
    env['HTTP_BAD NAME'] = 'b';
    env.HTTP_ = 'c';
    const h = new EnvironHeaders(env);
    expect(h.keys()).toEqual(['Host']);
    expect([...h]).toEqual([['Host', 'localhost']]);
    expect(h.toJSON()).toEqual({ host: 'localhost' });
  });
});
