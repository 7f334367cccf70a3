/**
 * A custom converter's `toValue` that throws: an error that says the text is no value
 * (`SyntaxError` from `BigInt('zz')`, `RangeError` from an invalid date's `toISOString()`,
 * `URIError`, `atob`'s `InvalidCharacterError`) refuses the match, the next rule tried, else `404`, as Django takes a
 * converter's `ValueError`; any other error (a `TypeError` from the converter's own bug, an
 * error of something it called) is the app's failure, logged and answered `500`, as Werkzeug
 * and Django answer an exception of `to_python` other than theirs. Over a socket.
 */
import { describe, expect, it } from 'vitest';
import { type Converter, RouteMap } from 'tsgi/routing';
import { request, start } from './node-helpers.ts';

const CODES = new Map([['one', { id: 1 }]]);

/** Each name a kind of failure of `toValue`; any other text is looked up in `CODES`. */
const code: Converter<number> = {
  regex: '[a-z]+',
  toValue(text) {
    if (text === 'syntax') return Number(BigInt(text));
    if (text === 'range') return new Date('2024-13-45T00:00:00Z').toISOString().length;
    if (text === 'uri') return decodeURIComponent('%E6%9D').length;
    if (text === 'base') return atob('a').length; // a DOMException named InvalidCharacterError
    if (text === 'custom') throw new Error('the code service is down');
    return CODES.get(text)!.id; // a TypeError for a code not in the table: the converter's bug
  },
  toUrl: String,
};

const routes = new RouteMap({ code: '/c/<code:c>', name: '/n/<code:c>', fallback: '/n/<name>' }, { converters: { code } });
const app = routes.app({ code: (req, { c }) => `code ${c}`, name: (req, { c }) => `name ${c}`, fallback: (req, { name }) => `fallback ${name}` });

describe('a converter whose toValue throws', () => {
  it("refuses the match for a SyntaxError, RangeError, URIError or atob's InvalidCharacterError: the next rule, else 404", async () => {
    const server = await start(app);
    expect((await request(`http://127.0.0.1:${server.port}/c/one`)).body.toString()).toBe('code 1');
    for (const text of ['syntax', 'range', 'uri', 'base']) {
      const next = await request(`http://127.0.0.1:${server.port}/n/${text}`);
      expect([next.status, next.body.toString()]).toEqual([200, `fallback ${text}`]);
      expect((await request(`http://127.0.0.1:${server.port}/c/${text}`)).status).toBe(404);
    }
    expect(server.log.text).toBe('');
  });

  it('answers 500 and logs any other error (a TypeError of its own bug, an Error of what it called), not a 404 that hides it', async () => {
    const server = await start(app);
    for (const [text, logged] of [['two', 'TypeError'], ['custom', 'the code service is down']] as const) {
      const res = await request(`http://127.0.0.1:${server.port}/n/${text}`);
      expect(res.status).toBe(500);
      expect(server.log.text).toContain(logged);
    }
  });
});
