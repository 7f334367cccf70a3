/**
 * Many host rules at one path (a tenant per host: `{ path: '/', host: 'h1.example.com' }` ×
 * 8,000): each rule was inserted in order by a scan of the others and checked against each of
 * them for duplicates (4.5 s to build), and a lookup tried every rule's host regex in turn
 * (10 ms each). Rules on a static host are now indexed by it (src/routing/rule-list.ts).
 * CPU time with the map itself, against the same work on fewer hosts; answers over a socket.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, serve } from 'tsgi';
import { RouteMap, type RuleSpec } from 'tsgi/routing';
import { growthRatio } from './helpers.ts';

const HOSTS = 8000;

/**
 * `hosts` rules, one per host at `/` (and at `/files/<path:rest>` with `tails`), then a rule on
 * any subdomain and one on any host.
 */
function tenants(tails: boolean, hosts = HOSTS): Record<string, RuleSpec> {
  const spec: Record<string, RuleSpec> = {};
  for (let i = 0; i < hosts; i++) {
    spec[`home${i}`] = { path: '/', host: `h${i}.example.com` };
    if (tails) spec[`files${i}`] = { path: '/files/<path:rest>', host: `h${i}.example.com` };
  }
  spec['sub'] = { path: '/', host: '<sub>.example.com' };
  spec['any'] = '/';
  spec['anyFiles'] = '/files/<path:rest>';
  return spec;
}

/** `count` lookups of `path` on the hosts of `tenants(…, hosts)`, each checked to reach `endpoint` + the host's number. */
function lookups(routes: RouteMap<Record<string, RuleSpec>>, hosts: number, path: string, endpoint: string, count = 3000): void {
  let wrong = 0;
  for (let i = 0; i < count; i++) {
    const n = (i * 7919) % hosts;
    const found = routes.lookup('GET', path, `h${n}.example.com`);
    if (found.kind !== 'match' || found.rule.endpoint !== `${endpoint}${n}`) wrong++;
  }
  expect(wrong).toBe(0);
}

/**
 * How many times more CPU time 3,000 lookups of `path` take in a map of 8,000 hosts than in
 * one of 80 ({@link growthRatio}): 100 or more when a lookup tries every host's rule in turn;
 * found by the host, 3 to 20 (the larger map's hash table and rules stay out of the CPU's
 * caches).
 */
async function lookupGrowth(tails: boolean, path: string, endpoint: string): Promise<number> {
  const maps = new Map([HOSTS / 100, HOSTS].map((hosts) => [hosts, new RouteMap(tenants(tails, hosts))]));
  return growthRatio(async (hosts) => lookups(maps.get(hosts)!, hosts, path, endpoint), HOSTS / 100, HOSTS, 5);
}

describe('a rule per host at one path', () => {
  // CPU time against the same work at a tenth or a hundredth of the size, not milliseconds: a
  // loaded machine took 235 ms for the 1,000 look-ups once bounded at 200.
  it('builds 8,000 host rules at one path in linear time (2.3 s before, growing with the square), and finds the rule of a host among 8,000 hosts in about the time it takes among 80 (0.8 ms a lookup before)', async () => {
    // Ten times the rules: linear is 10 times the CPU time, quadratic 100.
    const specs = new Map([HOSTS / 10, HOSTS].map((hosts) => [hosts, tenants(false, hosts)]));
    expect(await growthRatio(async (hosts) => new RouteMap(specs.get(hosts)!), HOSTS / 10, HOSTS)).toBeLessThan(20);
    // A hundred times the hosts: 100 or more when each rule is tried in turn.
    expect(await lookupGrowth(false, '/', 'home')).toBeLessThan(50);
  });

  it('does so for host rules with a tail too (/files/<path:rest>)', async () => {
    expect(await lookupGrowth(true, '/files/a/b', 'files')).toBeLessThan(50);
    const found = new RouteMap(tenants(true)).lookup('GET', '/files/a/b', 'h5.example.com');
    expect(found.kind === 'match' && found.values).toEqual({ rest: 'a/b' });
  });

  it('still refuses a second rule on the same host and path, and takes one on another', () => {
    expect(() => new RouteMap({ a: { path: '/', host: 'h1.example.com' }, b: { path: '/', host: 'h2.example.com' }, c: { path: '/', host: 'H1.example.com' } })).toThrow(
      /c \(\/\) matches the requests a \(\/\) does, for GET/,
    );
    expect(() => new RouteMap({ a: { path: '/files/<path:p>', host: 'h1.example.com' }, b: { path: '/files/<path:q>', host: 'h1.example.com' } })).toThrow(/b .* matches the requests a /);
    expect(() => new RouteMap({ a: { path: '/', host: 'h1.example.com' }, b: { path: '/', host: 'h1.example.com', methods: ['POST'] } })).not.toThrow();
  });
});

describe('over a socket', () => {
  const routes = new RouteMap(tenants(true));
  let server: ServerHandle;
  beforeAll(async () => {
    const handlers: Record<string, () => string> = {};
    for (const endpoint of Object.keys(routes.routes)) handlers[endpoint] = () => endpoint;
    server = await serve(routes.app(handlers as Parameters<typeof routes.app>[0]), { host: '127.0.0.1', port: 0 });
  });
  afterAll(() => server.close());

  /** GET `path` with `Host: host`: the status and the body. */
  function get(path: string, host: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${server.url}${path}`, { headers: { host } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
    });
  }

  it('answers each host with its rule, a static host before a placeholder one, the rule without a host last', async () => {
    expect((await get('/', 'h0.example.com')).text).toBe('home0');
    expect((await get('/', 'H7999.Example.com.')).text).toBe('home7999');
    expect((await get('/files/x', 'h42.example.com')).text).toBe('files42');
    expect((await get('/', 'other.example.com')).text).toBe('sub');
    expect((await get('/', 'example.org')).text).toBe('any');
    expect((await get('/files/x', 'h8000.example.com')).text).toBe('anyFiles');
    // The port is part of the host compared (not the scheme's default): no tenant's rule.
    expect((await get('/', 'h1.example.com:8080')).text).toBe('any');
  });
});
