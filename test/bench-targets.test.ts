// The benchmark's targets (bench/targets.ts): every one, frameworks included, must give the same
// answer, or the figures compare different work; and the target groups must expand as documented.
import { describe, expect, it } from 'vitest';
import { settingsFrom } from '../bench/options.ts';
import { DEFAULT_TARGETS, HELLO, TARGET_GROUPS, TARGETS, selectTargets } from '../bench/targets.ts';
import { bigBody } from '../bench/upstream.ts';

const FRAMEWORKS = ['express', 'koa', 'hono', 'h3'];
const PROXIES = ['proxy-tsgi', 'proxy-tsgi-1m', 'proxy-http-proxy-3', 'proxy-http-proxy-3-1m', 'proxy-hono', 'proxy-hono-1m'];

describe('every benchmark target', () => {
  it.each(TARGETS.map((target) => [target.name, target] as const))(
    '%s answers GET with 200 and its body (Hello, World! as text/plain, or the 1 MiB body) on 127.0.0.1, and closes',
    async (_name, target) => {
      const server = await target.start();
      let closed = false;
      try {
        expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/(1mib)?$/);
        const response = await fetch(server.url, { signal: AbortSignal.timeout(2000) });
        expect(response.status).toBe(200);
        if (target.bodySize === undefined) {
          expect(response.headers.get('content-type')).toMatch(/^text\/plain(\s*;\s*charset=utf-8)?$/i);
          expect(await response.text()).toBe(HELLO);
        } else {
          expect(Buffer.from(await response.arrayBuffer()).equals(bigBody(target.bodySize))).toBe(true);
        }
        await server.close();
        closed = true;
        // Closed means closed: the port no longer accepts connections.
        await expect(fetch(server.url, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
      } finally {
        if (!closed) await server.close();
      }
    },
  );
});

describe('target selection', () => {
  it('keeps the frameworks and the proxies out of the default set', () => {
    expect(DEFAULT_TARGETS).toEqual(['node', 'tsgi-raw', 'tsgi-app']);
    for (const name of [...FRAMEWORKS, ...PROXIES]) {
      expect(TARGETS.find((t) => t.name === name)?.default).toBe(false);
    }
  });

  it('expands the frameworks group to the default set and every framework, in order', () => {
    expect(TARGET_GROUPS.frameworks).toEqual(['node', 'tsgi-raw', 'tsgi-app', ...FRAMEWORKS]);
    expect(selectTargets(['frameworks']).map((t) => t.name)).toEqual(['node', 'tsgi-raw', 'tsgi-app', ...FRAMEWORKS]);
  });

  it('expands the proxy group to each proxy for / and /1mib, compared with tsgi’s on the same route', () => {
    expect(selectTargets(['proxy']).map((t) => t.name)).toEqual(PROXIES);
    for (const target of selectTargets(['proxy'])) {
      if (target.name.startsWith('proxy-tsgi')) expect(target.baseline).toBeUndefined();
      else expect(target.baseline).toBe(target.name.endsWith('-1m') ? 'proxy-tsgi-1m' : 'proxy-tsgi');
    }
  });

  it('expands the fetch group to tsgi and Hono on Bun and Deno, a hello-world and a 5-middleware stack each', () => {
    const runtimes = ['bun', 'deno'].flatMap((r) => [`${r}-tsgi`, `${r}-tsgi-stack`, `${r}-hono`, `${r}-hono-stack`]);
    expect(selectTargets(['fetch']).map((t) => t.name)).toEqual(runtimes);
    for (const name of runtimes) expect(TARGETS.find((t) => t.name === name)?.default).toBe(false);
  });

  it('accepts the group through --targets and BENCH_TARGETS', () => {
    expect(settingsFrom(['--targets', 'frameworks'], {}).targets).toEqual(['frameworks']);
    const fromEnv = settingsFrom([], { BENCH_TARGETS: 'frameworks' }).targets;
    expect(selectTargets(fromEnv).map((t) => t.name)).toEqual(TARGET_GROUPS.frameworks);
  });

  it('mixes groups and names, measuring a target named twice once, at its first place', () => {
    expect(selectTargets(['node-length', 'frameworks', 'node', 'h3']).map((t) => t.name)).toEqual([
      'node-length',
      'node',
      'tsgi-raw',
      'tsgi-app',
      ...FRAMEWORKS,
    ]);
  });

  it('has no group named like a target, and only known targets in groups', () => {
    const names = TARGETS.map((t) => t.name);
    for (const [group, members] of Object.entries(TARGET_GROUPS)) {
      expect(names).not.toContain(group);
      for (const member of members) expect(names).toContain(member);
    }
  });

  it('throws on an unknown name, listing the known targets and groups', () => {
    expect(() => selectTargets(['node', 'fastify'])).toThrow(/unknown target\(s\): fastify;.*express.*groups: frameworks, proxy/);
    // Only the groups' own keys count, not Object.prototype's.
    expect(() => selectTargets(['toString'])).toThrow(/unknown target\(s\): toString/);
  });
});
