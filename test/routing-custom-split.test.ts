/**
 * A custom converter sharing a segment, a tail or a host with other placeholders: its regex is
 * one the backtracking check (src/routing/guarded-regex.ts) cannot read, so the joined regex
 * still backtracked on a text the custom regex refuses (`/u/<a>-<b>-<c>-<slug:d>`: 1.5 s on
 * 400 dashes and an `A`, growing with the fourth power of the length). Such a rule is now
 * split without backtracking (src/routing/split-match.ts). Driven over a socket; the split is
 * the plain regex's (property).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, serve } from 'tsgi';
import { timedGet } from './routing-helpers.ts';
import { type Converter, RouteMap } from 'tsgi/routing';

const slug: Converter<string> = { regex: '[a-z-]+', toValue: (text) => text, toUrl: (value) => value };
/** A custom converter whose regex is no run of one class: matched by running it, in quadratic time at most. */
const words: Converter<string> = { regex: '[a-z0-9]+(?:-[a-z0-9]+)*', toValue: (text) => text, toUrl: (value) => value };
/** A custom converter across slashes. */
const dirs: Converter<string> = { regex: '[a-z/-]+', toValue: (text) => text, toUrl: (value) => value, crossesSlashes: true };

const routes = new RouteMap(
  {
    four: '/u/<a>-<b>-<c>-<slug:d>',
    slugs: '/v/<slug:a>-<slug:b>-<slug:c>.txt',
    words: '/w/<a>-<b>-<words:c>.txt',
    tail: '/t/<path:p>-<dirs:d>',
    shop: { path: '/', host: '<a>-<b>-<slug:c>.example.com' },
  },
  { converters: { slug, dirs, words } },
);
let server: ServerHandle;

beforeAll(async () => {
  server = await serve(
    routes.app({
      four: (_req, { a, b, c, d }) => `four ${a}|${b}|${c}|${d}`,
      slugs: (_req, { a, b, c }) => `slugs ${a}|${b}|${c}`,
      words: (_req, { a, b, c }) => `words ${a}|${b}|${c}`,
      tail: (_req, { p, d }) => `tail ${p}|${d}`,
      shop: (_req, { a, b, c }) => `shop ${a}|${b}|${c}`,
    }),
    { host: '127.0.0.1', port: 0 },
  );
});
afterAll(() => server.close());

/** GET `path` with `Host: host`, timed (see test/routing-helpers.ts). */
const get = (path: string, host?: string) => timedGet(server.url, path, host);

describe('a custom converter sharing a segment, a tail or a host', () => {
  it('answers a crafted 8 KB segment at once (1.5 s at 400 dashes before, growing as the fourth power)', async () => {
    for (const path of [`/u/${'-'.repeat(8000)}A`, `/u/${'A-'.repeat(4000)}A`, `/v/${'-'.repeat(8000)}A.txt`, `/v/${'-B'.repeat(4000)}.txt`]) {
      const res = await get(path);
      expect(res.status, path.slice(-20)).toBe(404);
      expect(res.ms, path.slice(-20)).toBeLessThan(1000);
    }
    expect((await get('/u/A-B-C-d-e')).text).toBe('four A-B|C|d|e');
    expect((await get('/v/a-b-c.txt')).text).toBe('slugs a|b|c');
  });

  it('answers a crafted 4 KB segment at once for a converter regex of more than one class', async () => {
    for (const path of [`/w/${'a-'.repeat(2000)}A.txt`, `/w/${'-'.repeat(4000)}A.txt`]) {
      const res = await get(path);
      expect(res.status, path.slice(-20)).toBe(404);
      expect(res.ms, path.slice(-20)).toBeLessThan(1000);
    }
    expect((await get('/w/x-y-z-a-b.txt')).text).toBe('words x-y-z|a|b');
  });

  it('answers a crafted tail and a crafted host at once', async () => {
    const tail = await get(`/t/${'-/'.repeat(3000)}A`);
    expect(tail.status).toBe(404);
    expect(tail.ms).toBeLessThan(1000);
    expect((await get('/t/x/y-a/b')).text).toBe('tail x/y|a/b');
    const host = await get('/', `${'-'.repeat(4000)}1.example.com`);
    expect(host.status).toBe(404);
    expect(host.ms).toBeLessThan(1000);
    expect((await get('/', 'x-y-z-eu.example.com')).text).toBe('shop x-y|z|eu');
  });
});

describe('a custom converter sharing a segment splits as the plain regex (property)', () => {
  // Each rule with the regex its segment or tail is matched by, written out by hand.
  const cases = [
    { prefix: '/u/', rule: '/u/<a>-<b>-<slug:c>', regex: /^([^/]+)-([^/]+)-([a-z-]+)$/s },
    { prefix: '/v/', rule: '/v/<slug:a><b>.<slug:c>', regex: /^([a-z-]+)([^/]+)\.([a-z-]+)$/s },
    { prefix: '/w/', rule: '/w/<slug:a><any(ab,a):w><c>', regex: /^([a-z-]+)(ab|a)([^/]+)$/s },
    { prefix: '/t/', rule: '/t/<path:p>-<dirs:d>', regex: /^([^/].*?)-([a-z/-]+)$/s },
    { prefix: '/x/', rule: '/x/<a>-<words:b><c>', regex: /^([^/]+)-([a-z0-9]+(?:-[a-z0-9]+)*)([^/]+)$/s },
    { prefix: '/y/', rule: '/y/<a><two:b>-<c>', regex: /^([^/]+)([ab-]{2,3})-([^/]+)$/s },
  ];
  const two: Converter<string> = { regex: '[ab-]{2,3}', toValue: (text) => text, toUrl: (value) => value };
  const maps = cases.map(({ rule }) => new RouteMap({ x: rule }, { converters: { slug, dirs, words, two } }));
  const text = fc
    .array(fc.constantFrom('a', 'b', '1', 'A', '-', '.', '/'), { minLength: 1, maxLength: 16 })
    .map((chars) => chars.join(''))
    .filter((t) => t.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..'));

  it('matches, and splits, every text as the plain regex does', () => {
    cases.forEach(({ prefix, regex }, i) => {
      fc.assert(
        fc.property(text, (t) => {
          const expected = regex.exec(t);
          const found = maps[i]!.lookup('GET', prefix + t);
          if (expected === null) return found.kind !== 'match';
          return found.kind === 'match' && Object.values(found.values).join('|') === expected.slice(1).join('|');
        }),
        { numRuns: 4000 },
      );
    });
  });
});
