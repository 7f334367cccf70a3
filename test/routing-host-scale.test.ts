/**
 * Many host rules at one path (a tenant per host: `{ path: '/', host: 'h1.example.com' }` ×
 * 8,000): each rule was inserted in order by a scan of the others and checked against each of
 * them for duplicates (4.5 s to build), and a lookup tried every rule's host regex in turn
 * (10 ms each). Rules on a static host are now indexed by it (src/routing/rule-list.ts).
 * Timings with the map itself; answers over a socket.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, serve } from 'tsgi';
import { RouteMap, type RuleSpec } from 'tsgi/routing';

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

/** The milliseconds `new RouteMap(spec)` takes, and the map. */
function timedBuild(spec: Record<string, RuleSpec>): { ms: number; routes: RouteMap<Record<string, RuleSpec>> } {
  const started = performance.now();
  const routes = new RouteMap(spec);
  return { ms: performance.now() - started, routes };
}

/** `count` lookups of `path` on the tenants' hosts, each checked to reach `endpoint` + the host's number; the milliseconds taken. */
function lookups(routes: RouteMap<Record<string, RuleSpec>>, path: string, endpoint: string, count: number): number {
  const started = performance.now();
  let wrong = 0;
  for (let i = 0; i < count; i++) {
    const n = (i * 7919) % HOSTS;
    const found = routes.lookup('GET', path, `h${n}.example.com`);
    if (found.kind !== 'match' || found.rule.endpoint !== `${endpoint}${n}`) wrong++;
  }
  const ms = performance.now() - started;
  expect(wrong).toBe(0);
  return ms;
}

describe('a rule per host at one path', () => {
  it('builds 8,000 host rules at one path in linear time (2.3 s before, growing with the square) and looks up 1,000 in under 200 ms (0.8 s before)', () => {
    // Four times the rules in at most seven times the time: linear (4), not quadratic (16;
    // 11 before, with the compiling of each rule); the machine's load weighs on both alike.
    const quarter = timedBuild(tenants(false, HOSTS / 4));
    const { ms, routes } = timedBuild(tenants(false));
    expect(ms / quarter.ms).toBeLessThan(7);
    expect(lookups(routes, '/', 'home', 1000)).toBeLessThan(200);
  });

  it('does so for host rules with a tail too (/files/<path:rest>)', () => {
    const routes = new RouteMap(tenants(true));
    expect(lookups(routes, '/files/a/b', 'files', 1000)).toBeLessThan(200);
    const found = routes.lookup('GET', '/files/a/b', 'h5.example.com');
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
