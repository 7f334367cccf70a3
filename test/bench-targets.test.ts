// The benchmark's targets (bench/targets.ts): every one, frameworks included, must give the same
// answer on every route, or the figures compare different work; the check must catch a wrong
// answer; and the target groups and units must expand as documented.
import { execFileSync } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { listen } from '../bench/listen.ts';
import { extraFields, settingsFrom } from '../bench/options.ts';
import { BROWSER_FIELDS, ECHO_BODY, HELLO, ROUTES, ROUTE_NAMES, checkAnswer, selectRoutes } from '../bench/routes.ts';
import { DEFAULT_TARGETS, TARGET_GROUPS, TARGETS, selectTargets } from '../bench/targets.ts';
import { unitsOf } from '../bench/units.ts';
import { bigBody } from '../bench/upstream.ts';
import { printIssueTargets } from '../bench/report.ts';
import type { Sample } from '../bench/measure.ts';

const FRAMEWORKS = ['express', 'koa', 'hono', 'h3', 'fastify'];
const PROXIES = ['proxy-tsgi', 'proxy-tsgi-1m', 'proxy-http-proxy-3', 'proxy-http-proxy-3-1m', 'proxy-hono', 'proxy-hono-1m'];

describe('every benchmark target', () => {
  it.each(TARGETS.filter((t) => t.routes).map((target) => [target.name, target] as const))(
    '%s answers /hello, /stack, /stream and /echo byte for byte as routes.ts says, with X-Mw-1…5 on /stack only, and closes',
    async (_name, target) => {
      const server = await target.start();
      let closed = false;
      try {
        expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
        for (const route of ROUTES) {
          expect([route.name, await checkAnswer(new URL(route.path, server.url).href, route)]).toEqual([route.name, []]);
          // The same answer to a browser's request behind a proxy (`--headers browser`).
          const browser = await checkAnswer(new URL(route.path, server.url).href, route, BROWSER_FIELDS);
          expect([route.name, 'browser', browser]).toEqual([route.name, 'browser', []]);
        }
        await server.close();
        closed = true;
        await expect(fetch(server.url, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
      } finally {
        if (!closed) await server.close();
      }
    },
  );

  it.each(TARGETS.filter((t) => !t.routes).map((target) => [target.name, target] as const))(
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

describe('the answer check', () => {
  it('reports a wrong status, Content-Type, body, a missing or wrong X-Mw field and an unexpected one', async () => {
    const server = await listen((req, res) => {
      if (req.url === '/stack') res.writeHead(200, { 'content-type': 'text/plain', 'x-mw-1': '1', 'x-mw-2': '1', 'x-mw-4': '1', 'x-mw-5': 'yes' });
      else if (req.url === '/hello') res.writeHead(200, { 'content-type': 'text/html', 'x-mw-1': '1' });
      else res.writeHead(404, { 'content-type': 'application/json' });
      res.end(req.url === '/echo' ? ECHO_BODY : HELLO);
    });
    try {
      const [hello, stack, , echo] = ROUTES;
      expect(await checkAnswer(`${server.url}hello`, hello!)).toEqual([
        expect.stringMatching(/^Content-Type "text\/html"/),
        'unexpected field(s) x-mw-1',
      ]);
      expect(await checkAnswer(`${server.url}stack`, stack!)).toEqual(['x-mw-3: null, expected "1"', 'x-mw-5: "yes", expected "1"']);
      expect(await checkAnswer(`${server.url}echo`, echo!)).toEqual(['status 404, expected 200']);
      expect(await checkAnswer(`${server.url}hello`, stack!)).toEqual([
        expect.stringMatching(/^Content-Type/),
        ...[2, 3, 4, 5].map((n) => `x-mw-${n}: null, expected "1"`),
      ]);
      expect((await checkAnswer(`${server.url}stack`, { ...hello!, expected: Buffer.from('Hello!') }))[0]).toBe(
        'body "Hello, World!", expected "Hello!"',
      );
    } finally {
      await server.close();
    }
  });
});

describe('routes and units', () => {
  it('measures every route by default, or those --routes names, in the order of routes.ts', () => {
    expect(settingsFrom([], {}).routes.map((r) => r.name)).toEqual(['hello', 'stack', 'stream', 'echo']);
    expect(settingsFrom(['--routes', 'echo, hello'], {}).routes.map((r) => r.name)).toEqual(['hello', 'echo']);
    expect(settingsFrom([], { BENCH_ROUTES: 'stack' }).routes.map((r) => r.name)).toEqual(['stack']);
    expect(() => selectRoutes(['hello', 'json'])).toThrow(/unknown route\(s\): json; known: hello, stack, stream, echo/);
    expect(ROUTE_NAMES).toEqual(['hello', 'stack', 'stream', 'echo']);
  });

  it('restarts the server processes every round only when asked (--fresh or BENCH_FRESH=1), in child mode without profiles', () => {
    expect(settingsFrom([], {}).fresh).toBe(false);
    expect(settingsFrom(['--fresh'], {}).fresh).toBe(true);
    expect(settingsFrom([], { BENCH_FRESH: '1' }).fresh).toBe(true);
    expect(() => settingsFrom(['--fresh', '--mode', 'inprocess'], {})).toThrow(/--fresh needs --mode child/);
    expect(() => settingsFrom(['--fresh', '--profile'], {})).toThrow(/--fresh and --profile/);
  });

  it("sends the load generator's header fields, or a browser's behind a proxy with --headers browser (or BENCH_HEADERS)", () => {
    expect(settingsFrom([], {}).headers).toBe('minimal');
    expect(extraFields(settingsFrom([], {}))).toBeUndefined();
    expect(settingsFrom(['--headers', 'browser'], {}).headers).toBe('browser');
    expect(settingsFrom([], { BENCH_HEADERS: 'browser' }).headers).toBe('browser');
    expect(settingsFrom(['--headers', 'minimal'], { BENCH_HEADERS: 'browser' }).headers).toBe('minimal');
    expect(() => settingsFrom(['--headers', 'chrome'], {})).toThrow(/--headers must be minimal or browser/);
    // About twenty fields with the load generator's Host and Connection, as a browser behind nginx sends.
    const fields = extraFields(settingsFrom(['--headers', 'browser'], {}))!;
    expect(Object.keys(fields).length).toBeGreaterThanOrEqual(18);
    expect(fields).toMatchObject({ 'user-agent': expect.stringContaining('Chrome'), cookie: expect.any(String), 'x-forwarded-for': expect.any(String) });
  });

  it('uses 50 connections unless told otherwise', () => {
    expect(settingsFrom([], {}).connections).toBe(50);
    expect(settingsFrom(['--connections', '10'], {}).connections).toBe(10);
  });

  it('groups a route target per route against node on that route, and single-URL targets against their own baseline or node /hello', () => {
    const targets = selectTargets(['node', 'tsgi-app', 'proxy-tsgi', 'proxy-hono', 'bun-tsgi']);
    const urls = Object.fromEntries(targets.map((t, i) => [t.name, `http://127.0.0.1:${1000 + i}/`]));
    const groups = unitsOf(targets, selectRoutes(['hello', 'stream']), urls);
    expect(groups.map((g) => g.route)).toEqual(['hello', 'stream', undefined]);
    expect(groups.map((g) => g.units.map((u) => [u.name, u.url, u.baseline, u.large]))).toEqual([
      [
        ['node /hello', 'http://127.0.0.1:1000/hello', undefined, false],
        ['tsgi-app /hello', 'http://127.0.0.1:1001/hello', 'node /hello', false],
      ],
      [
        ['node /stream', 'http://127.0.0.1:1000/stream', undefined, true],
        ['tsgi-app /stream', 'http://127.0.0.1:1001/stream', 'node /stream', true],
      ],
      [
        ['proxy-tsgi', 'http://127.0.0.1:1002/', 'node /hello', false],
        ['proxy-hono', 'http://127.0.0.1:1003/', 'proxy-tsgi', false],
        ['bun-tsgi', 'http://127.0.0.1:1004/', 'node /hello', false],
      ],
    ]);
    // Without node /hello measured, a single-URL target has no baseline.
    const withoutHello = unitsOf(targets, selectRoutes(['stack']), urls);
    expect(withoutHello.at(-1)!.units.map((u) => u.baseline)).toEqual([undefined, 'proxy-tsgi', undefined]);
  });
});

describe('target selection', () => {
  it('keeps the frameworks and the proxies out of the default set', () => {
    expect(DEFAULT_TARGETS).toEqual(['node', 'tsgi-raw', 'tsgi-app', 'tsgi-hooks']);
    for (const name of [...FRAMEWORKS, ...PROXIES]) {
      expect(TARGETS.find((t) => t.name === name)?.default).toBe(false);
    }
  });

  it('expands the frameworks group to the default set and every framework, in order, all answering the four routes', () => {
    expect(TARGET_GROUPS.frameworks).toEqual(['node', 'tsgi-raw', 'tsgi-app', 'tsgi-hooks', ...FRAMEWORKS]);
    expect(selectTargets(['frameworks']).map((t) => t.name)).toEqual(['node', 'tsgi-raw', 'tsgi-app', 'tsgi-hooks', ...FRAMEWORKS]);
    expect(selectTargets(['frameworks']).every((t) => t.routes)).toBe(true);
    expect(TARGETS.filter((t) => t.routes).map((t) => t.name)).toEqual(['node', 'node-empty', 'node-chunked', 'node-await', 'tsgi-raw', 'tsgi-app', 'tsgi-hooks', ...FRAMEWORKS]);
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
    expect(selectTargets(['node-chunked', 'frameworks', 'node', 'h3']).map((t) => t.name)).toEqual([
      'node-chunked',
      'node',
      'tsgi-raw',
      'tsgi-app',
      'tsgi-hooks',
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
    expect(() => selectTargets(['node', 'restify'])).toThrow(/unknown target\(s\): restify;.*express.*groups: frameworks, proxy/);
    // Only the groups' own keys count, not Object.prototype's.
    expect(() => selectTargets(['toString'])).toThrow(/unknown target\(s\): toString/);
  });
});

/** Runs the benchmark script `name` (in bench/) with `args` in a child process, for `timeout` ms at most; its standard output. */
async function benchScript(name: string, args: string[], timeout = 60_000): Promise<string> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const script = new URL(`../bench/${name}`, import.meta.url).pathname;
  const { stdout } = await promisify(execFile)(process.execPath, [script, ...args], { timeout });
  return stdout;
}

describe('bench/alloc-profile.ts', () => {
  it('prints the bytes each target allocates per request, by site, collected objects included', async () => {
    const args = ['--targets', 'node,tsgi-app', '--route', 'stack', '--requests', '3000', '--warmup', '500', '--connections', '10', '--top', '3'];
    const stdout = await benchScript('alloc-profile.ts', args);
    const perRequest = Object.fromEntries(
      [...stdout.matchAll(/^(\S+): ([\d,]+) bytes per request$/gm)].map((m) => [m[1], Number(m[2]!.replace(/,/g, ''))]),
    );
    // Node's own request path allocates a few KB a request, nearly all of it garbage at once:
    // only a sampler that counts collected objects sees it.
    expect(perRequest.node).toBeGreaterThan(2000);
    // Five layers, each with its Request, promise and Response copy, allocate more than none.
    expect(perRequest['tsgi-app']).toBeGreaterThan(perRequest.node! + 2000);
    // Three sites per target, each `bytes  function file:line`.
    const sites = stdout.split('\n').filter((line) => /^\s+[\d,]+ {2}\S.*:\d+$/.test(line));
    expect(sites).toHaveLength(6);
    expect(stdout).toMatch(/^ {2}tsgi-app +[\d,]+$/m);
  }, 90_000);
});

describe('bench/instructions.ts', () => {
  const hasValgrind = (() => {
    try {
      execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!hasValgrind)("prints each target's instructions per request under callgrind, with the ratio to node's", async () => {
    const args = ['--targets', 'node,tsgi-raw', '--route', 'hello', '--requests', '200', '--warmup', '300', '--connections', '4', '--top', '3'];
    const v8Logs = async () => (await import('node:fs')).readdirSync(process.cwd()).filter((f) => /^isolate-.*\.log$/.test(f));
    const logsBefore = await v8Logs();
    const stdout = await benchScript('instructions.ts', args, 160_000);
    // --top's `node --perf-basic-prof` writes V8's log into the run's own folder, not here.
    expect(await v8Logs()).toEqual(logsBefore);
    const perRequest = Object.fromEntries(
      [...stdout.matchAll(/^(\S+): ([\d,]+) instructions per request$/gm)].map((m) => [m[1], Number(m[2]!.replace(/,/g, ''))]),
    );
    // A request through node:http runs tens of thousands of instructions at least (llhttp, the
    // streams, the socket write): a count of a few would mean counting was off.
    expect(perRequest.node).toBeGreaterThan(10_000);
    expect(perRequest['tsgi-raw']).toBeGreaterThan(10_000);
    // Three functions per target, each `instructions  name`.
    expect(stdout.split('\n').filter((line) => /^ +[\d,]+ {2}\S/.test(line))).toHaveLength(6);
    expect(stdout).toMatch(/^ {2}node +[\d,]+ {2}1\.000$/m);
    expect(stdout).toMatch(/^ {2}tsgi-raw +[\d,]+ {2}\d\.\d{3}$/m);
  }, 170_000);
});

describe('the route tables', () => {
  it("give each target's server CPU per request and its kernel share, measured in the server process", async () => {
    const args = ['--targets', 'tsgi-raw', '--routes', 'hello', '--rounds', '1', '--duration', '1', '--warmup', '0.5', '--connections', '10'];
    const stdout = await benchScript('run.ts', args);
    const lines = stdout.split('\n');
    const header = lines.find((line) => line.startsWith('/hello ') && line.includes('median req/s'))!;
    expect(header).toMatch(/CPU µs\/req {2}kernel µs {2}loop busy/);
    const row = lines.find((line) => /^tsgi-raw +[\d,]+ /.test(line))!.trim().split(/\s+/);
    // name, median, min, max, CV, p50/p99, CPU µs/req, kernel µs, loop busy…
    const cpu = Number(row[6]);
    const kernel = Number(row[7]);
    // Every request costs the kernel a read and a write at least, and the JavaScript more.
    expect(kernel).toBeGreaterThan(0.5);
    expect(kernel).toBeLessThan(cpu);
  }, 90_000);
});

describe("the report of issue 14's targets", () => {
  it('gives each goal its verdict, and tsgi-app /stack against node-await when that is measured', () => {
    const sample = (rps: number): Sample => ({ rps, cpuPerRequest: undefined, kernelPerRequest: undefined, elu: undefined, p50: 1, p99: 2, problems: 0, others: 0 });
    const rounds = (...rps: number[]) => rps.map(sample);
    const urls = {
      node: 'http://127.0.0.1:1/',
      'node-await': 'http://127.0.0.1:2/',
      'tsgi-app': 'http://127.0.0.1:3/',
      fastify: 'http://127.0.0.1:4/',
      'tsgi-hooks': 'http://127.0.0.1:5/',
    };
    const groups = unitsOf(selectTargets(['node', 'node-await', 'tsgi-app', 'fastify', 'tsgi-hooks']), selectRoutes(['stack']), urls);
    const samples = new Map([
      ['node /stack', rounds(100, 200, 100)],
      ['node-await /stack', rounds(92, 180, 90)],
      ['tsgi-app /stack', rounds(82, 170, 80)],
      ['fastify /stack', rounds(91, 170, 91)],
      ['tsgi-hooks /stack', rounds(93, 186, 95)],
    ]);
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      printIssueTargets(groups, samples);
    } finally {
      log.mockRestore();
    }
    const printed = lines.join('\n');
    // Medians of the per-round ratios: 0.82, 0.85, 0.80 → 0.82; 82/92, 170/180, 80/90 → 0.891.
    expect(printed).toContain('tsgi-app /stack ≥ 0.9: 0.820 NOT met');
    expect(printed).toContain('tsgi-app /stack against node-await /stack (five awaited calls, nothing else): 0.891');
    expect(printed).toContain('tsgi-app /stack ahead of fastify: NOT met (behind or level: fastify 0.910)');
    // 0.93, 0.93, 0.95 → 0.93, ahead of Fastify's 0.91.
    expect(printed).toContain('tsgi-hooks /stack ≥ 0.9: 0.930 met');
    expect(printed).toContain('tsgi-hooks /stack ahead of fastify: met');
  });
});
