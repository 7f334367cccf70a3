/**
 * tsgi/routing: every converter's `toValue` runs, whatever its regex, and converters sharing a
 * regex never share a trie node (a refusal lets other rules try, ending in 404).
 */
import { describe, expect, it } from 'vitest';
import { type Converter, RouteMap } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';

const lower: Converter<string> = { regex: '[^/]+', toValue: (text) => text.toLowerCase(), toUrl: (value) => value };
const even: Converter<number> = { regex: '[^/]+', toValue: (text) => (/^\d*[02468]$/.test(text) ? Number(text) : undefined), toUrl: String };
const odd: Converter<number> = { regex: '[^/]+', toValue: (text) => (/^\d*[13579]$/.test(text) ? Number(text) : undefined), toUrl: String };

describe('custom converters with the string regex', () => {
  it('runs toValue on a converter whose regex is the string converter’s', () => {
    const m = new RouteMap({ a: '/a/<lower:name>', e: '/e/<even:n>' }, { converters: { lower, even } });
    expect(m.lookup('GET', '/a/HELLO')).toMatchObject({ kind: 'match', values: { name: 'hello' } });
    expect(m.lookup('GET', '/e/4')).toMatchObject({ kind: 'match', values: { n: 4 } });
    expect(m.lookup('GET', '/e/3')).toEqual({ kind: 'none' });
  });

  it('keeps two converters with the same regex apart at the same place', async () => {
    const m = new RouteMap({ even: '/n/<even:n>', odd: '/n/<odd:n>', word: '/n/<lower:w>' }, { converters: { lower, even, odd } });
    expect(m.lookup('GET', '/n/4')).toMatchObject({ kind: 'match', rule: { endpoint: 'even' }, values: { n: 4 } });
    expect(m.lookup('GET', '/n/7')).toMatchObject({ kind: 'match', rule: { endpoint: 'odd' }, values: { n: 7 } });
    expect(m.lookup('GET', '/n/ABC')).toMatchObject({ kind: 'match', rule: { endpoint: 'word' }, values: { w: 'abc' } });
    const refusing = new RouteMap({ even: '/n/<even:n>', odd: '/n/<odd:n>' }, { converters: { even, odd } });
    const client = new TestClient(refusing.app({ even: (_req, { n }) => `even ${n}`, odd: (_req, { n }) => `odd ${n}` }));
    expect((await client.get('/n/8')).textBody).toBe('even 8');
    expect((await client.get('/n/9')).textBody).toBe('odd 9');
    await client.get('/n/x', { status: 404 });
  });

  it('shares nothing between a custom converter and the built-in string one', () => {
    const m = new RouteMap({ plain: '/s/<name>', shout: { path: '/s/<lower:name>', methods: ['POST'] } }, { converters: { lower } });
    expect(m.lookup('GET', '/s/ABC')).toMatchObject({ rule: { endpoint: 'plain' }, values: { name: 'ABC' } });
    expect(m.lookup('POST', '/s/ABC')).toMatchObject({ rule: { endpoint: 'shout' }, values: { name: 'abc' } });
  });

  it('runs a custom converter registered under the name string', () => {
    const m = new RouteMap({ a: '/a/<string:name>' }, { converters: { string: lower } });
    expect(m.lookup('GET', '/a/HELLO')).toMatchObject({ kind: 'match', values: { name: 'hello' } });
  });

  it('still shares any() with the same words, and keeps different words apart', () => {
    const m = new RouteMap({
      color: '/x/<any(red,blue):c>',
      colorEdit: { path: '/x/<any(red,blue):c>', methods: ['POST'] },
      shape: '/x/<any(square,round):s>',
    });
    expect(m.lookup('POST', '/x/red')).toMatchObject({ rule: { endpoint: 'colorEdit' }, values: { c: 'red' } });
    expect(m.lookup('GET', '/x/round')).toMatchObject({ rule: { endpoint: 'shape' }, values: { s: 'round' } });
    expect(m.lookup('PUT', '/x/blue')).toMatchObject({ kind: 'method', allowed: new Set(['GET', 'HEAD', 'POST']) });
  });
});

describe('a custom converter regex with a Unicode property escape', () => {
  it('is a TypeError from new RouteMap: regexes run without the u flag, where \\p{L} is the text "p{L}" (a silent 404 for café)', () => {
    const word: Converter<string> = { regex: '[\\p{L}\\p{N}-]+', toValue: (text) => text, toUrl: (value) => value };
    expect(() => new RouteMap({ w: '/w/<word:x>' }, { converters: { word } })).toThrow(
      new TypeError('/w/<word:x>: the converter word\'s regex uses "\\p{…}", a Unicode property escape, which needs the u flag converter regexes run without (there it is the text "p{…}"): match more (as [^/]+) and check the property in toValue'),
    );
    const notLetter: Converter<string> = { regex: '\\P{L}+', toValue: (text) => text, toUrl: (value) => value };
    expect(() => new RouteMap({ w: '/w/<x:x>' }, { converters: { x: notLetter } })).toThrow(TypeError);
    // An escaped backslash before p{ is a backslash and the text p{, as meant.
    const literal: Converter<string> = { regex: '\\\\p\\{x\\}', toValue: (text) => text, toUrl: (value) => value };
    expect(new RouteMap({ w: '/w/<x:x>' }, { converters: { x: literal } }).lookup('GET', '/w/\\p{x}')).toMatchObject({ kind: 'match' });
  });
});

describe('a custom converter regex with a code point escape', () => {
  const converter = (regex: string): Converter<string> => ({ regex, toValue: (text) => text, toUrl: (value) => value });
  it('is a TypeError from new RouteMap naming what to write: without the u flag \\u{41} is "u" 41 times (a silent 404 for A)', () => {
    expect(() => new RouteMap({ w: '/w/<letter:x>' }, { converters: { letter: converter('\\u{41}') } })).toThrow(
      new TypeError('/w/<letter:x>: the converter letter\'s regex uses "\\u{41}", a code point escape, which needs the u flag converter regexes run without (there it is "u" 41 times): write \\u0041'),
    );
    expect(() => new RouteMap({ w: '/w/<x:x>' }, { converters: { x: converter('[\\u{E0}-\\u{FF}]+') } })).toThrow(
      new TypeError('/w/<x:x>: the converter x\'s regex uses "\\u{E0}", a code point escape, which needs the u flag converter regexes run without (there it is the text "u{E0}"): write \\u00E0'),
    );
    expect(() => new RouteMap({ w: '/w/<x:x>' }, { converters: { x: converter('\\u{1F600}') } })).toThrow(
      new TypeError('/w/<x:x>: the converter x\'s regex uses "\\u{1F600}", a code point escape, which needs the u flag converter regexes run without (there it is the text "u{1F600}"): write \\uD83D\\uDE00, its UTF-16 pair (not inside [ ])'),
    );
  });

  it('still takes \\uXXXX and an escaped backslash before u{', () => {
    const m = new RouteMap({ a: '/a/<x:x>', b: '/b/<y:y>' }, { converters: { x: converter('\\u0041+'), y: converter('\\\\u\\{41\\}') } });
    expect(m.lookup('GET', '/a/AA')).toMatchObject({ kind: 'match', values: { x: 'AA' } });
    expect(m.lookup('GET', '/b/\\u{41}')).toMatchObject({ kind: 'match', values: { y: '\\u{41}' } });
  });
});
