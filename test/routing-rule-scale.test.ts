/**
 * Many rules meeting at one place of the trie: placeholder segments at one depth
 * (`/x/r1-<int:id>` … `/x/r10000-<int:id>`), rules on hosts with placeholders at one path
 * (`<a>.h1.example.com` …), tails after one prefix (`/x/<path:p>/r1` …). Each rule was put in
 * place by sorting the node's edges again, or by a scan of the rules after which it goes:
 * `new RouteMap` grew with the square of the rules (10,000 of them: 2.3 s, 20,000: 12.5 s).
 * CPU time against a tenth of the rules, then the order rules are tried in, over a socket.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, serve } from 'tsgi';
import { RouteMap, type RuleSpec } from 'tsgi/routing';
import { growthRatio } from './helpers.ts';

const RULES = 10_000;

/**
 * Rule `i` of `count` of one shape, each meeting the others at one node of the trie. The static
 * text grows with `i` (up to 80 more characters), so a later rule goes before most of the
 * earlier ones (more static text is tried first): the worst case of an insertion by scan.
 */
const shapes: Record<string, (i: number, count: number) => RuleSpec> = {
  'placeholder segments at one depth': (i) => `/x/r${i}-<int:id>`,
  'hosts with placeholders at one path': (i, count) => ({ path: '/x/<int:id>', host: `<a>.${'h'.repeat(1 + Math.floor((i * 80) / count))}${i}.example.com` }),
  'tails after one prefix': (i, count) => `/x/<path:p>/${'r'.repeat(1 + Math.floor((i * 80) / count))}${i}`,
};

const table = (shape: (i: number, count: number) => RuleSpec, count: number): Record<string, RuleSpec> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`e${i}`, shape(i, count)]));

describe('many rules at one node of the trie', () => {
  for (const [name, shape] of Object.entries(shapes)) {
    it(`builds ${RULES} ${name} in linear time (growing with the square before)`, async () => {
      const specs = new Map([RULES / 10, RULES].map((count) => [count, table(shape, count)]));
      // Ten times the rules: linear is about 10 times the CPU time, quadratic 100.
      expect(await growthRatio(async (count) => new RouteMap(specs.get(count)!), RULES / 10, RULES)).toBeLessThan(20);
    });
  }

  it('keeps the order rules are tried in: lower converter weight first, more static text first, else as written', () => {
    const routes = new RouteMap({
      name: '/o/<name>',
      prefixed: '/o/v<name>',
      number: '/o/<int:n>',
      word: '/o/<any(v1,v2):w>',
      later: '/o/<string(maxlength=9):other>',
      host: { path: '/o/<name>', host: '<sub>.example.com' },
      literal: { path: '/o/<name>', host: 'api.example.com' },
      tail: '/t/<path:p>',
      tailNumber: '/t/<path:p>/<int:n>',
      tailStatic: '/t/<path:p>/end',
    });
    const endpoint = (path: string, host?: string) => {
      const found = routes.lookup('GET', path, host);
      return found.kind === 'match' ? found.rule.endpoint : found.kind;
    };
    expect(endpoint('/o/v1')).toBe('word');
    expect(endpoint('/o/3')).toBe('number');
    expect(endpoint('/o/vx')).toBe('prefixed');
    expect(endpoint('/o/x')).toBe('name');
    expect(endpoint('/o/x', 'a.example.com')).toBe('host');
    expect(endpoint('/o/x', 'api.example.com')).toBe('literal');
    expect(endpoint('/t/a/end')).toBe('tailStatic');
    expect(endpoint('/t/a/3')).toBe('tailNumber');
    expect(endpoint('/t/a/b')).toBe('tail');
  });
});

describe('over a socket', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    const spec = { ...table(shapes['placeholder segments at one depth']!, RULES), page: '/x/<name>' } as Record<string, RuleSpec>;
    const routes = new RouteMap(spec);
    const handlers = Object.fromEntries(Object.keys(spec).map((endpoint) => [endpoint, (_req: unknown, values: Record<string, unknown>) => `${endpoint} ${JSON.stringify(values)}`]));
    server = await serve(routes.app(handlers as never), { host: '127.0.0.1', port: 0 });
  });
  afterAll(() => server.close());

  const get = (path: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      http
        .get(`http://127.0.0.1:${server.port}${path}`, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        })
        .on('error', reject);
    });

  it(`answers each of ${RULES} rules at one depth, and the string placeholder after them`, async () => {
    expect(await get('/x/r0-5')).toEqual({ status: 200, text: 'e0 {"id":5}' });
    expect(await get(`/x/r${RULES - 1}-7`)).toEqual({ status: 200, text: `e${RULES - 1} {"id":7}` });
    expect(await get('/x/r12-x')).toEqual({ status: 200, text: 'page {"name":"r12-x"}' });
  });
});
