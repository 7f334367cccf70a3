/**
 * A segment or host holding several placeholders is matched by a regex that backtracks on a
 * text it does not match: without the check in front of it (src/routing/guarded-regex.ts), one
 * crafted request held the server for seconds (three placeholders, 4,000 dashes: 13 s).
 * Driven over a socket: the server answers the crafted request at once and keeps serving, and
 * what matched before matches the same way.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, serve } from 'tsgi';
import { timedGet } from './routing-helpers.ts';
import { RouteMap } from 'tsgi/routing';

const routes = new RouteMap({
  file: '/r/<a>-<b>-<c>.txt',
  four: '/q/<a>-<b>-<c>-<int:d>.txt',
  doc: '/docs/<path:page>/v<version>/<path:rest>',
  tail: '/t/<path:page>-<a>-<b>',
  shop: { path: '/', host: '<shop>-<region>-<zone>.example.com' },
  number: '/n/<a>.<b>.<c>.<float(signed=True):x>',
  id: '/i/<a>-<b>-<c>-<uuid:id>',
  lang: '/l/<a>-<b>-<c>-<any(en,de):lang>',
  cc: '/c/<a>-<b>-<c>-<string(length=2):cc>',
  signed: '/s/<a>_<b>_<c>_<int(signed=True):n>',
});
let server: ServerHandle;

beforeAll(async () => {
  server = await serve(
    routes.app({
      file: (_req, { a, b, c }) => `file ${a}|${b}|${c}`,
      four: (_req, { a, b, c, d }) => `four ${a}|${b}|${c}|${d}`,
      shop: (_req, { shop, region, zone }) => `shop ${shop}|${region}|${zone}`,
      doc: (_req, { page, version, rest }) => `doc ${page}|${version}|${rest}`,
      tail: (_req, { page, a, b }) => `tail ${page}|${a}|${b}`,
      number: (_req, { a, b, c, x }) => `number ${a}|${b}|${c}|${x}`,
      id: (_req, { a, b, c, id }) => `id ${a}|${b}|${c}|${id}`,
      lang: (_req, { a, b, c, lang }) => `lang ${a}|${b}|${c}|${lang}`,
      cc: (_req, { a, b, c, cc }) => `cc ${a}|${b}|${c}|${cc}`,
      signed: (_req, { a, b, c, n }) => `signed ${a}|${b}|${c}|${n}`,
    }),
    { host: '127.0.0.1', port: 0 },
  );
});
afterAll(() => server.close());

/** GET `path` with `Host: host`, timed (see test/routing-helpers.ts). */
const get = (path: string, host?: string) => timedGet(server.url, path, host);

describe('placeholders sharing a segment or a host', () => {
  it('answers a crafted segment of 4,000 characters at once (three placeholders: 13 s before)', async () => {
    const crafted = await get(`/r/${'-'.repeat(4000)}`);
    expect(crafted.status).toBe(404);
    expect(crafted.ms).toBeLessThan(1000);
    const four = await get(`/q/${'-'.repeat(4000)}1.txx`);
    expect(four.status).toBe(404);
    expect(four.ms).toBeLessThan(1000);
    expect((await get('/r/a-b-c.txt')).text).toBe('file a|b|c');
  });

  it('answers at once a crafted segment whose last placeholder takes only some characters (int, float, uuid, any, length)', async () => {
    // Each held the server for seconds (four: 3.7 s at 2,000 dashes, 46 s at 4,000): the
    // text had the static parts in place, and only the last converter's characters were wrong.
    const crafted = [
      `/q/${'x-'.repeat(2000)}y.txt`,
      `/n/${'x.'.repeat(2000)}1..1`,
      `/i/${'x-'.repeat(2000)}0000000-0000-0000-0000-000000000000`,
      `/l/${'x-'.repeat(2000)}fr`,
      `/c/${'x-'.repeat(2000)}abc`,
      `/c/${'x-'.repeat(2000)}\u{1F600}`,
      `/s/${'x_'.repeat(2000)}1-1`,
    ];
    for (const path of crafted) {
      const res = await get(encodeURI(path));
      expect(res.status, path.slice(-40)).toBe(404);
      expect(res.ms, path.slice(-40)).toBeLessThan(1000);
    }
    expect((await get('/q/x-y-z-w-42.txt')).text).toBe('four x-y|z|w|42');
    expect((await get('/n/a.b.c.d.-1.5')).text).toBe('number a.b|c|d|-1.5');
    expect((await get('/i/a-b-c-d-6F9619FF-8B86-D011-B42D-00C04FC964FF')).text).toBe('id a-b|c|d|6f9619ff-8b86-d011-b42d-00c04fc964ff');
    expect((await get('/l/a-b-c-d-de')).text).toBe('lang a-b|c|d|de');
    expect((await get('/c/a-b-c-d-fr')).text).toBe('cc a-b|c|d|fr');
    expect((await get(encodeURI('/c/a-b-c-d-\u{1F600}\u{1F600}'))).text).toBe('cc a-b|c|d|\u{1F600}\u{1F600}');
    expect((await get('/s/a_b_c_d_-7')).text).toBe('signed a_b|c|d|-7');
  });

  it('answers a crafted tail after a path placeholder at once (slashes where the others may have none)', async () => {
    const crafted = await get(`/t/${'-'.repeat(4000)}/`);
    expect(crafted.status).toBe(404);
    expect(crafted.ms).toBeLessThan(1000);
    expect((await get('/t/a/b-c-d')).text).toBe('tail a/b|c|d');
    expect((await get('/t/a-b/c-d')).status).toBe(404);
  });

  it('answers a crafted host at once', async () => {
    const crafted = await get('/', `${'-'.repeat(4000)}.example.org`);
    expect(crafted.status).toBe(404);
    expect(crafted.ms).toBeLessThan(1000);
    expect((await get('/', 'books-eu-west.example.com')).text).toBe('shop books|eu|west');
  });

  it('splits a matching text as before: each placeholder as much as the ones after it leave (greedy)', async () => {
    expect((await get('/r/a-b-c-d.txt')).text).toBe('file a-b|c|d');
    expect((await get('/r/---.txt')).status).toBe(404);
    expect((await get('/r/a--b-c.txt')).text).toBe('file a-|b|c');
    expect((await get('/r/a-b-c.txt.txt')).text).toBe('file a|b|c.txt');
    expect((await get('/q/x-y-z-w-42.txt')).text).toBe('four x-y|z|w|42');
    expect((await get('/q/x-y-z-4a.txt')).status).toBe(404);
    expect((await get('/r/a-b.txt')).status).toBe(404);
    // A tail after a path placeholder: its `/` and the static text after it read as one.
    expect((await get('/docs/a/b/v1/x/v2/y')).text).toBe('doc a/b|1|x/v2/y');
  });
});

describe('the check never refuses what the regex matches (property)', () => {
  // Each rule with the regex its segment or tail is matched by, written out by hand.
  const cases = [
    { prefix: '/r/', rule: '/r/<a>-<b>-<c>.txt', regex: /^([^/]+)-([^/]+)-([^/]+)\.txt$/s, int: -1 },
    { prefix: '/s/', rule: '/s/<a><int:b>.<c>', regex: /^([^/]+)(\d+)\.([^/]+)$/s, int: 1 },
    { prefix: '/t/', rule: '/t/<path:p>-<a>-<b>', regex: /^([^/].*?)-([^/]+)-([^/]+)$/s, int: -1 },
    { prefix: '/u/', rule: '/u/<path:p>/v<int:n>/<path:rest>', regex: /^([^/].*?)\/v(\d+)\/([^/].*?)$/s, int: 1 },
  ];
  const maps = cases.map(({ rule }) => new RouteMap({ x: rule }));
  // Texts of the characters the patterns care about; no empty, `.` or `..` segment (the router normalises those first).
  const text = fc
    .array(fc.constantFrom('a', '1', '-', '.', '/', 'v', 't', 'x'), { minLength: 1, maxLength: 24 })
    .map((chars) => chars.join(''))
    .filter((t) => t.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..'));

  it('matches, and splits, every text as the plain regex does', () => {
    fc.assert(
      fc.property(fc.nat(cases.length - 1), text, (i, t) => {
        const expected = cases[i]!.regex.exec(t);
        const found = maps[i]!.lookup('GET', cases[i]!.prefix + t);
        if (expected === null) return found.kind !== 'match';
        if (found.kind !== 'match') return false;
        // The int placeholder's value is the number its digits read as.
        return Object.values(found.values).map(String).join('|') === expected.slice(1).map((v, at) => (at === cases[i]!.int ? String(Number(v)) : v)).join('|');
      }),
      { numRuns: 3000 },
    );
  });
});


describe('the check over built-in converters never refuses what the regex matches (property)', () => {
  const digits = (text: string) => String(Number(text));
  const same = (text: string) => text;
  // Each rule, the regex its segment is matched by, written out by hand, and how each value reads its text.
  const cases = [
    { rule: '/<a>-<int(signed=True):n>.<float:f>', regex: /^([^/]+)-(-?\d+)\.(\d+\.\d+)$/s, read: [same, digits, digits] },
    { rule: '/<a><float(signed=True):f><b>', regex: /^([^/]+)(-?\d+\.\d+)([^/]+)$/s, read: [same, digits, same] },
    { rule: '/<a><any(ab,a,b1):w><string(length=2):c>', regex: /^([^/]+)(ab|a|b1)((?:[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|[^/\uD800-\uDBFF]){2})$/s, read: [same, same, same] },
    { rule: '/<string(minlength=2):a>-<string(maxlength=1):b><int:n>', regex: /^((?:[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|[^/\uD800-\uDBFF]){2,})-((?:[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|[^/\uD800-\uDBFF]){1,1})(\d+)$/s, read: [same, same, digits] },
    { rule: '/<int(signed=True):n>.<float(signed=True):f>', regex: /^(-?\d+)\.(-?\d+\.\d+)$/s, read: [digits, digits] },
    { rule: '/<any(ab,a,b1):w><a>', regex: /^(ab|a|b1)([^/]+)$/s, read: [same, same] },
    // A pair's second half after a placeholder that ends between the halves is a character.
    { rule: '/<a><string(length=1):c>', regex: /^([^/]+)((?:[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|[^/\uD800-\uDBFF]){1,1})$/s, read: [same, same] },
    { rule: '/<a>-<uuid:id>', regex: /^([^/]+)-([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$/s, read: [same, same] },
  ];
  const maps = cases.map(({ rule }) => new RouteMap({ x: rule }));
  const uuid = '0a1b2c3d-0000-4000-8000-00000000000f';
  // Short texts of the pieces the patterns are made of, so matching ones are common.
  const text = fc
    .array(fc.constantFrom('a', 'b', '1', '-', '.', 'x', '-1', '1.2', '-1.5', 'b1', '\u{1F600}', '\uD83D', '\uDE00', uuid), { minLength: 1, maxLength: 6 })
    .map((chars) => chars.join(''))
    .filter((t) => t !== '.' && t !== '..');

  it('matches, and splits, every text as the plain regex does', () => {
    cases.forEach(({ regex, read }, i) => {
      fc.assert(
        fc.property(text, (t) => {
          const expected = regex.exec(t);
          const found = maps[i]!.lookup('GET', `/${t}`);
          if (expected === null) return found.kind !== 'match';
          if (found.kind !== 'match') return false;
          return Object.values(found.values).map(String).join('|') === expected.slice(1).map((v, at) => read[at]!(v)).join('|');
        }),
        { numRuns: 5000 },
      );
    });
  });
});
