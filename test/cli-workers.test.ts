/**
 * `tsgi serve --workers`: replacing workers that die (with back-off), SIGHUP replacing them
 * one by one while requests keep coming, --limit-max-requests, SIGTERM draining the requests in
 * flight, and a Unix socket shared by the workers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cli, ROOT, alive, cli, get, keptConnection, servingUrl, waitFor } from './cli-helpers.ts';
import { freePort } from './free-port.ts';

let dir: string;
/**
 * Answers its pid; /slow?ms waits first, /hang blocks its event loop for good (both say so on
 * stdout first: `at /slow in <pid>`), /stray leaves a
 * promise rejected unhandled (the worker stops gracefully); while loading,
 * exits with 5 when ./broken exists and never ends when ./hang exists (once there, it writes
 * ./hanging-<pid>: {@link hangingPids}).
 */
let pidApp: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-cli-workers-'));
  pidApp = join(dir, 'pid.mjs');
  writeFileSync(
    pidApp,
    `import { existsSync, writeFileSync } from 'node:fs';
if (existsSync(new URL('./broken', import.meta.url))) process.exit(5);
if (existsSync(new URL('./hang', import.meta.url))) {
  writeFileSync(new URL('./hanging-' + process.pid, import.meta.url), '');
  await new Promise(() => setInterval(() => {}, 1000));
}
export const app = async (environ, start) => {
  if (environ.PATH_INFO === '/crash') process.exit(3);
  if (environ.PATH_INFO === '/stray') Promise.reject(new Error('stray rejection'));
  if (environ.PATH_INFO === '/hang' || environ.PATH_INFO === '/slow') process.stdout.write('at ' + environ.PATH_INFO + ' in ' + process.pid + '\\n');
  if (environ.PATH_INFO === '/hang') for (;;);
  if (environ.PATH_INFO === '/slow') await new Promise((resolve) => setTimeout(resolve, Number(environ.QUERY_STRING)));
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode(String(process.pid))];
};
`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The pid that answers GET `path`. */
async function pidOf(url: string, path = '/'): Promise<number> {
  const res = await get(`${url}${path}`, {}, 15_000);
  expect(res.status).toBe(200);
  return Number(res.body);
}

/**
 * The pid that answers GET / once one does (with `--workers 1`, a request the dying worker had
 * taken is reset; those after it wait in the primary's socket for the replacement). Fails after 30 s.
 */
async function pidOnceUp(url: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const pid = await pidOf(url).catch(() => 0);
    if (pid > 0) return pid;
    if (Date.now() > deadline) throw new Error(`no worker answered ${url} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Issues GETs on fresh connections, `concurrency` at a time, until `stop()` is called; answers every outcome. */
function load(url: string, concurrency: number): { stop(): Promise<string[]>; pids: Set<number> } {
  const outcomes: string[] = [];
  const pids = new Set<number>();
  let running = true;
  const loop = async () => {
    let i = 0;
    while (running) {
      // Every fourth request is slow, so some are always in flight when a worker is told to stop.
      const path = i++ % 4 === 0 ? '/slow?150' : '/';
      try {
        const res = await get(`${url}${path}`, {}, 15_000);
        outcomes.push(String(res.status));
        pids.add(Number(res.body));
      } catch (error) {
        outcomes.push((error as Error).message);
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    pids,
    async stop() {
      running = false;
      await Promise.all(loops);
      return outcomes;
    },
  };
}

/** The pid that answers GET / over the Unix socket at `path`, on a fresh connection; fails after 15 s without an answer. */
function pidOverUds(path: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const req = http.get({ socketPath: path, path: '/', agent: false, timeout: 15_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(Number(text)) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/**
 * Calls `request` (a GET answering the pid that served it) in 4 loops until `stop()`: the pids
 * that answered, how many requests were answered, and each failure's code (`ECONNREFUSED`,
 * `ENOENT`) or message.
 */
function hammer(request: () => Promise<number>): { pids: Set<number>; failures: string[]; readonly answered: number; stop(): Promise<void> } {
  const pids = new Set<number>();
  const failures: string[] = [];
  let answered = 0;
  let running = true;
  const loop = async () => {
    while (running) {
      try {
        pids.add(await request());
        answered++;
      } catch (error) {
        failures.push((error as NodeJS.ErrnoException).code ?? (error as Error).message);
      }
    }
  };
  const loops = Array.from({ length: 4 }, loop);
  return {
    pids,
    failures,
    get answered() {
      return answered;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Runs `during` while the pid app's workers hang as they load (its `hang` file exists). */
async function whileLoadsHang(during: () => Promise<void>): Promise<void> {
  writeFileSync(join(dir, 'hang'), '');
  try {
    await during();
  } finally {
    rmSync(join(dir, 'hang'), { force: true });
    for (const pid of hangingPids()) rmSync(join(dir, `hanging-${pid}`), { force: true });
  }
}

/**
 * The workers that reached the hang while loading (under {@link whileLoadsHang}). A worker
 * takes from half a second to well over one to get there on a busy machine: a test waits for
 * this, not for a fixed time, or the hang file may be gone before the worker looks for it.
 */
function hangingPids(): number[] {
  return readdirSync(dir)
    .filter((name) => name.startsWith('hanging-'))
    .map((name) => Number(name.slice('hanging-'.length)));
}

/**
 * Waits for the end of a SIGHUP round that replaced `count` (`'2 workers'`, `'1 worker'`) and
 * for the workers started before it (`before`, their pids) to be gone.
 */
async function roundDone(run: Cli, before: number[], count: string): Promise<void> {
  await waitFor(() => /^Replaced \d+ workers?$/m.test(run.out.stdout), () => run.out.stdout + run.out.stderr, 60_000);
  expect(run.out.stdout).toMatch(new RegExp(`^SIGHUP: replacing ${count} one by one$`, 'm'));
  expect(run.out.stdout).toMatch(new RegExp(`^Replaced ${count}$`, 'm'));
  for (const pid of before) await waitFor(() => !alive(pid), () => `worker ${pid} (started before the SIGHUP) still runs`);
}

/**
 * A deploy app in a new folder: each worker reads ./version and ./delay at load, drops a file
 * `loaded-<pid>`, then waits ./delay ms before it listens; it answers `<version> <pid>`.
 * `loaded()` answers the pids of the workers that loaded so far.
 */
function markerApp(delay: string): { appDir: string; app: string; loaded: () => number[] } {
  const appDir = mkdtempSync(join(tmpdir(), 'tsgi-cli-starting-'));
  const app = join(appDir, 'app.mjs');
  writeFileSync(join(appDir, 'version'), 'v1');
  writeFileSync(join(appDir, 'delay'), delay);
  writeFileSync(
    app,
    `import { readFileSync, writeFileSync } from 'node:fs';
const version = readFileSync(new URL('./version', import.meta.url), 'utf8');
const delay = Number(readFileSync(new URL('./delay', import.meta.url), 'utf8'));
writeFileSync(new URL('./loaded-' + process.pid, import.meta.url), version);
await new Promise((resolve) => setTimeout(resolve, delay));
export const app = (environ, start) => {
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode(version + ' ' + process.pid)];
};
`,
  );
  const loaded = () => readdirSync(appDir).filter((name) => name.startsWith('loaded-')).map((name) => Number(name.slice('loaded-'.length)));
  return { appDir, app, loaded };
}

describe('tsgi serve --workers', () => {
  it('SIGHUP replaces every worker one by one without failing a request', { timeout: 60_000 }, async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '2']);
    const url = await servingUrl(run);
    const traffic = load(url, 4);
    await waitFor(() => traffic.pids.size === 2, () => `pids ${[...traffic.pids]}`);
    const before = new Set(traffic.pids);
    run.child.kill('SIGHUP');
    await waitFor(() => run.out.stdout.includes('Replaced 2 workers'), () => `stdout: ${run.out.stdout}\nstderr: ${run.out.stderr}`, 30_000);
    // The old workers finish what they were serving, then exit; the new ones answer.
    for (const pid of before) await waitFor(() => !alive(pid), () => `old worker ${pid} still runs`);
    traffic.pids.clear();
    await waitFor(() => traffic.pids.size === 2, () => `pids ${[...traffic.pids]}`);
    const outcomes = await traffic.stop();
    expect(outcomes.filter((outcome) => outcome !== "200"), JSON.stringify(outcomes.filter((o) => o !== "200"))).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(20);
    for (const pid of traffic.pids) expect(before.has(pid)).toBe(false);
    expect(run.out.stdout).toMatch(/^SIGHUP: replacing 2 workers one by one$/m);
    expect(run.out.stderr).toBe('');
  });

  it('leaves no request unanswered over a dozen SIGHUPs under load (a closing worker hands connections back)', { timeout: 120_000 }, async () => {
    // A worker that exited as soon as its server closed lost the connections the primary was
    // handing it at that moment: one request in about 40 replacements hung until the client
    // gave up. A worker now leaves the cluster (disconnect) before it exits.
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '2', '--no-access-log']);
    const url = await servingUrl(run);
    const traffic = load(url, 8);
    await waitFor(() => traffic.pids.size === 2, () => `pids ${[...traffic.pids]}`);
    for (let round = 1; round <= 12; round++) {
      run.child.kill('SIGHUP');
      await waitFor(() => (run.out.stdout.match(/^Replaced 2 workers$/gm) ?? []).length === round, () => run.out.stdout, 30_000);
    }
    const outcomes = await traffic.stop();
    expect(outcomes.filter((outcome) => outcome !== '200')).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(200);
    expect(run.out.stderr).toBe('');
  });

  it('a SIGHUP whose new worker fails to start keeps the running workers, and no more of them', { timeout: 60_000 }, async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '1']);
    const url = await servingUrl(run);
    const first = await pidOf(url);
    writeFileSync(join(dir, 'broken'), '');
    try {
      run.child.kill('SIGHUP');
      await waitFor(() => run.out.stderr.includes('the running workers stay'), () => run.out.stderr, 20_000);
      // The failed successor is not replaced in turn (a back-off loop that, once the deploy is
      // fixed, left --workers + 1 processes serving).
      await new Promise((resolve) => setTimeout(resolve, 1_500));
    } finally {
      rmSync(join(dir, 'broken'), { force: true });
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const children = execFileSync('pgrep', ['-P', String(run.child.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
    expect(children).toEqual([first]);
    expect(await pidOf(url)).toBe(first);
    expect(run.out.stderr).toMatch(/^tsgi: worker \d+ failed to start \(exit code 5\): worker \d+ stays$/m);
    expect(run.out.stderr).not.toMatch(/starting a new one/);
  });

  it('a SIGHUP whose new worker hangs while loading ends past --timeout-worker-healthcheck, and the next SIGHUP works', { timeout: 60_000 }, async () => {
    // 5 s, not 1: a worker that does load may take more than a second to start on a busy machine.
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '1', '--timeout-worker-healthcheck', '5']);
    const url = await servingUrl(run);
    const first = await pidOf(url);
    await whileLoadsHang(async () => {
      run.child.kill('SIGHUP');
      await waitFor(() => run.out.stderr.includes('the running workers stay'), () => run.out.stderr, 20_000);
    });
    expect(await pidOf(url)).toBe(first);
    expect(run.out.stderr).toMatch(/^tsgi: worker \d+ is not listening 5 s after it started \(--timeout-worker-healthcheck\): killing it$/m);
    expect(run.out.stderr).toMatch(new RegExp(`^tsgi: worker \\d+ failed to start \\(signal SIGKILL\\): worker ${first} stays$`, 'm'));
    // The round is over: the next SIGHUP starts one, and it succeeds.
    run.child.kill('SIGHUP');
    await waitFor(() => /^Replaced 1 worker$/m.test(run.out.stdout), () => run.out.stdout + run.out.stderr, 20_000);
    // Replaced once its successor listens; the old one may take a last connection as it leaves.
    await waitFor(() => !alive(first), () => `worker ${first} still runs`);
    expect(await pidOf(url)).not.toBe(first);
  });

  it('a worker that dies while its SIGHUP replacement is still loading is logged, and one replaces it', { timeout: 60_000 }, async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '1', '--timeout-worker-healthcheck', '5']);
    const url = await servingUrl(run);
    const first = await pidOf(url);
    await whileLoadsHang(async () => {
      run.child.kill('SIGHUP');
      await waitFor(() => run.out.stdout.includes('SIGHUP: replacing 1 worker'), () => run.out.stdout);
      await get(`${url}/crash`).catch(() => undefined);
      await waitFor(() => !alive(first), () => `worker ${first} still runs`);
      await waitFor(() => run.out.stderr.includes(`worker ${first} died`), () => run.out.stderr, 10_000);
    });
    expect(run.out.stderr).toMatch(new RegExp(`^tsgi: worker ${first} died \\(exit code 3\\) while its replacement starts$`, 'm'));
    // The successor, killed past the deadline, is replaced as any worker that failed to start.
    expect(await pidOnceUp(url)).not.toBe(first);
  });

  describe('a deploy app: answers the version on disk when it loaded, and loads slowly while ./slow exists', () => {
    let deployDir: string;
    let deployApp: string;
    beforeAll(() => {
      deployDir = mkdtempSync(join(tmpdir(), 'tsgi-cli-deploy-'));
      deployApp = join(deployDir, 'deploy.mjs');
      writeFileSync(join(deployDir, 'version'), 'v1');
      writeFileSync(
        deployApp,
        `import { existsSync, readFileSync } from 'node:fs';
const version = readFileSync(new URL('./version', import.meta.url), 'utf8');
if (existsSync(new URL('./slow', import.meta.url))) await new Promise((resolve) => setTimeout(resolve, 1500));
export const app = (environ, start) => {
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode(version + ' ' + process.pid)];
};
`,
      );
    });
    afterAll(() => rmSync(deployDir, { recursive: true, force: true }));

    it('a SIGHUP during a round of replacements starts another once it ends, so every worker runs the last deploy', { timeout: 60_000 }, async () => {
      const run = cli(['serve', deployApp, '--port', '0', '--workers', '2', '--no-access-log']);
      const url = await servingUrl(run);
      const pids = new Set<string>();
      while (pids.size < 2) pids.add((await get(`${url}/`)).body.split(' ')[1]!); // both listen
      writeFileSync(join(deployDir, 'slow'), '');
      writeFileSync(join(deployDir, 'version'), 'v2');
      run.child.kill('SIGHUP'); // deploy v2: the first successor loads v2, slowly
      // Taken before v3 is written (not 300 ms later: a loaded machine may not have read it yet,
      // and the two SIGHUPs could make one round, the case then untested).
      await waitFor(() => run.out.stdout.includes('SIGHUP: replacing'), () => run.out.stdout);
      writeFileSync(join(deployDir, 'version'), 'v3');
      run.child.kill('SIGHUP'); // deploy v3 while the round for v2 goes on
      await waitFor(() => (run.out.stdout.match(/^Replaced 2 workers$/gm) ?? []).length === 2, () => run.out.stdout + run.out.stderr, 30_000);
      const versions = new Set<string>();
      for (let i = 0; i < 8; i++) versions.add((await get(`${url}/`)).body.split(' ')[0]!);
      expect([...versions]).toEqual(['v3']);
      expect(run.out.stderr).toBe('');
    });

    it('a worker past --limit-max-requests whose replacement is still loading is announced once, not every n requests', { timeout: 60_000 }, async () => {
      writeFileSync(join(deployDir, 'slow'), '');
      const run = cli(['serve', deployApp, '--port', '0', '--workers', '1', '--limit-max-requests', '2', '--no-access-log']);
      const url = await servingUrl(run, 20_000);
      const first = (await get(`${url}/`)).body.split(' ')[1]!;
      // The 2nd request starts a replacement, which loads for 1.5 s; the old worker serves on.
      for (let i = 0; i < 5; i++) expect((await get(`${url}/`)).body.split(' ')[1]).toBe(first);
      await waitFor(() => !alive(Number(first)), () => `worker ${first} still runs`, 20_000);
      expect(run.out.stdout.match(new RegExp(`^Worker ${first} served \\d+ requests`, 'gm'))).toEqual([`Worker ${first} served 2 requests`]);
    });

    it('a worker that dies while its SIGHUP successor loads is not said to be killed, still running, once the successor listens', { timeout: 60_000 }, async () => {
      writeFileSync(join(deployDir, 'slow'), '');
      const run = cli(['serve', deployApp, '--port', '0', '--workers', '1', '--no-access-log', '--timeout-graceful-shutdown', '1']);
      const url = await servingUrl(run, 20_000);
      const first = Number((await get(`${url}/`)).body.split(' ')[1]);
      run.child.kill('SIGHUP');
      await waitFor(() => run.out.stdout.includes('SIGHUP: replacing 1 worker'), () => run.out.stdout);
      process.kill(first, 'SIGKILL'); // the successor is still loading (1.5 s)
      await waitFor(() => /^Replaced 1 worker$/m.test(run.out.stdout), () => run.out.stdout + run.out.stderr, 30_000);
      // Past the graceful time (1 s) and the kill margin (5 s) the primary would have sent SIGKILL.
      await new Promise((resolve) => setTimeout(resolve, 7_000));
      expect(run.out.stderr).toBe(`tsgi: worker ${first} died (signal SIGKILL) while its replacement starts\n`);
    });

    it('SIGTERM during a round of replacements stops cleanly, without blaming the new worker', { timeout: 60_000 }, async () => {
      writeFileSync(join(deployDir, 'slow'), '');
      const run = cli(['serve', deployApp, '--port', '0', '--workers', '2', '--no-access-log']);
      await servingUrl(run, 20_000);
      run.child.kill('SIGHUP');
      await waitFor(() => run.out.stdout.includes('SIGHUP: replacing'), () => run.out.stdout);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the successor is still loading
      run.child.kill('SIGTERM');
      const { code } = await run.exited;
      expect(code).toBe(0);
      expect(run.out.stderr).toBe('');
    });
  });

  it('a SIGHUP while a worker is still starting replaces it too, once it listens: every worker ends on the new code', { timeout: 90_000 }, async () => {
    // Each worker reads ./version and ./delay at load, drops a marker named by its pid, then
    // waits ./delay ms before it listens. The second worker of --workers 2 starts once the first
    // listens; the SIGHUP lands while it waits, having read v1. It was left out of the round
    // ("replacing 1 workers"), and answered v1 after it.
    const { appDir, app, loaded } = markerApp('6000');
    try {
      const run = cli(['serve', app, '--port', '0', '--workers', '2', '--no-access-log']);
      const url = await servingUrl(run, 30_000);
      // The second worker has read v1 and waits 6 s before it listens.
      await waitFor(() => loaded().length === 2, () => `loaded: ${loaded()}`, 30_000);
      const before = loaded();
      writeFileSync(join(appDir, 'version'), 'v2');
      writeFileSync(join(appDir, 'delay'), '0');
      run.child.kill('SIGHUP');
      await roundDone(run, before, '2 workers');
      // Both workers answer (a worker left out would answer v1 once its 6 s are over).
      const answers = new Set<string>();
      const deadline = Date.now() + 15_000;
      while (new Set([...answers].map((answer) => answer.split(' ')[1])).size < 2 && Date.now() < deadline) {
        answers.add((await get(`${url}/`)).body);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect([...answers].map((answer) => answer.split(' ')[0])).toEqual(['v2', 'v2']);
      expect(run.out.stderr).toBe('');
    } finally {
      rmSync(appDir, { recursive: true, force: true });
    }
  });

  it('a SIGHUP while the successor of a --limit-max-requests replacement is starting replaces that one too', { timeout: 90_000 }, async () => {
    const { appDir, app, loaded } = markerApp('0');
    try {
      const run = cli(['serve', app, '--port', '0', '--workers', '1', '--limit-max-requests', '2', '--no-access-log']);
      const url = await servingUrl(run, 30_000);
      writeFileSync(join(appDir, 'delay'), '6000');
      const first = (await get(`${url}/`)).body;
      expect((await get(`${url}/`)).body).toBe(first); // the 2nd: its successor loads v1, for 6 s
      await waitFor(() => loaded().length === 2, () => `loaded: ${loaded()}`, 30_000);
      const before = loaded();
      writeFileSync(join(appDir, 'version'), 'v2');
      writeFileSync(join(appDir, 'delay'), '0');
      run.child.kill('SIGHUP');
      // The round waits for the successor, then replaces it (it counted none and left it on v1).
      await roundDone(run, before, '1 worker');
      expect((await get(`${url}/`)).body).toMatch(/^v2 \d+$/);
      expect(run.out.stderr).toBe('');
    } finally {
      rmSync(appDir, { recursive: true, force: true });
    }
  });

  it('a SIGHUP while the replacement of a dead worker hangs loading kills it past --timeout-worker-healthcheck and starts a new one', { timeout: 90_000 }, async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '1', '--timeout-worker-healthcheck', '5']);
    const url = await servingUrl(run);
    const first = await pidOf(url);
    await whileLoadsHang(async () => {
      await get(`${url}/crash`).catch(() => undefined);
      await waitFor(() => run.out.stderr.includes(`worker ${first} died`), () => run.out.stderr, 20_000);
      // Its replacement is forked (after the 0.5 s back-off) and hangs: a fixed wait here (1.5 s)
      // lost the race against a slow start, the hang file gone before the worker looked for it.
      await waitFor(() => hangingPids().length > 0, () => run.out.stderr, 20_000);
    });
    // Without a SIGHUP a restart has no deadline; the round waits on it for 5 s from its start.
    run.child.kill('SIGHUP');
    await waitFor(() => /^Replaced \d+ workers?$/m.test(run.out.stdout), () => run.out.stdout + run.out.stderr, 30_000);
    expect(run.out.stdout).toMatch(/^SIGHUP: replacing 1 worker one by one$/m);
    expect(run.out.stderr).toMatch(/^tsgi: worker \d+ is not listening 5 s after it started \(--timeout-worker-healthcheck\): killing it$/m);
    expect(run.out.stderr).toMatch(/^tsgi: worker \d+ failed to start \(signal SIGKILL\); starting a new one/m);
    expect(await pidOnceUp(url)).not.toBe(first);
  });

  it('a SIGHUP before the start line replaces the first worker once it listens (it was ignored)', { timeout: 90_000 }, async () => {
    const { appDir, app, loaded } = markerApp('5000');
    try {
      const run = cli(['serve', app, '--port', '0', '--workers', '1', '--no-access-log']);
      await waitFor(() => loaded().length === 1, () => `loaded: ${loaded()}; ${run.out.stderr}`, 30_000);
      const [first] = loaded();
      writeFileSync(join(appDir, 'version'), 'v2');
      writeFileSync(join(appDir, 'delay'), '0');
      run.child.kill('SIGHUP'); // the first worker has read v1 and waits 5 s
      const url = await servingUrl(run, 30_000);
      await waitFor(() => /^Replaced 1 worker$/m.test(run.out.stdout), () => run.out.stdout + run.out.stderr, 30_000);
      await waitFor(() => !alive(first!), () => `worker ${first} still runs`);
      expect((await get(`${url}/`)).body).toMatch(/^v2 \d+$/);
      expect(run.out.stderr).toBe('');
    } finally {
      rmSync(appDir, { recursive: true, force: true });
    }
  });

  it('a SIGHUP after $PORT changed in --env-file keeps the workers on the port the primary announced', { timeout: 60_000 }, async () => {
    const [port, other] = await Promise.all([freePort(), freePort()]);
    const envFile = join(dir, 'port.env');
    writeFileSync(envFile, `PORT=${port}\nSECRET=a\n`);
    const run = cli(['serve', pidApp, '--workers', '1', '--env-file', envFile, '--no-access-log']);
    const url = await servingUrl(run);
    expect(url).toBe(`http://127.0.0.1:${port}`);
    const first = await pidOf(url);
    writeFileSync(envFile, `PORT=${other}\nSECRET=b\n`); // a deploy that edits the file
    run.child.kill('SIGHUP');
    await waitFor(() => run.out.stdout.includes('Replaced 1 worker\n'), () => run.out.stdout + run.out.stderr, 30_000);
    await waitFor(() => !alive(first), () => `worker ${first} still runs`);
    // The new worker answers where nginx (or the .socket unit) sends the requests.
    expect(await pidOf(url)).not.toBe(first);
  });

  it('a SIGHUP after $PORT and $WEB_CONCURRENCY in --env-file became values no worker takes still deploys: they are the primary\'s, read at start', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const envFile = join(dir, 'start-only.env');
    writeFileSync(envFile, `PORT=${port}\nWEB_CONCURRENCY=1\nSECRET=a\n`);
    const run = cli(['serve', pidApp, '--env-file', envFile, '--no-access-log']);
    const url = await servingUrl(run);
    expect(url).toBe(`http://127.0.0.1:${port}`);
    const first = await pidOf(url);
    // A deploy that edits the file, its start-only values among the rest (as for another server).
    writeFileSync(envFile, 'PORT=web\nWEB_CONCURRENCY=auto\nSECRET=b\n');
    run.child.kill('SIGHUP');
    await waitFor(() => /Replaced 1 worker\n|failed to start/.test(run.out.stdout + run.out.stderr), () => run.out.stdout + run.out.stderr, 30_000);
    expect(run.out.stderr).toBe('');
    await waitFor(() => !alive(first), () => `worker ${first} still runs`);
    expect(await pidOf(url)).not.toBe(first);
  });

  it('clients that reset their connections at once, mid-request and mid-answer, and a worker killed meanwhile, leave the primary serving', { timeout: 60_000 }, async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '2', '--no-access-log']);
    const url = await servingUrl(run);
    const { port } = new URL(url);
    // Both workers listen (two pids answer), so the primary's socket stays open when one dies.
    const pids = new Set<number>();
    const deadline = Date.now() + 15_000;
    while (pids.size < 2 && Date.now() < deadline) pids.add(await pidOf(url));
    expect(pids.size).toBe(2);
    const victim = [...pids][0]!;
    const resetAfter = (request: string, wait: number) =>
      new Promise<void>((resolve) => {
        const socket = net.connect(Number(port), '127.0.0.1');
        socket.on('error', () => {});
        socket.on('close', () => resolve());
        socket.once('connect', () => (request === '' ? socket.resetAndDestroy() : socket.write(request, () => setTimeout(() => socket.resetAndDestroy(), wait))));
      });
    try {
      const resets: Array<Promise<void>> = [];
      for (let i = 0; i < 10; i++) {
        resets.push(resetAfter('', 0), resetAfter('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9999\r\n\r\nab', 5), resetAfter('GET /slow?50 HTTP/1.1\r\nHost: h\r\n\r\n', 20));
        if (i === 5) process.kill(victim, 'SIGKILL');
      }
      await Promise.all(resets);
      await waitFor(() => /starting a new one/.test(run.out.stderr + run.out.stdout), () => `stdout: ${run.out.stdout}\nstderr: ${run.out.stderr}`);
      expect(await pidOf(url)).not.toBe(victim);
      expect(alive(run.child.pid!)).toBe(true);
      expect(run.out.stderr).not.toMatch(/ECONNRESET|EPIPE|Uncaught/);
    } finally {
      run.child.kill('SIGINT');
    }
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });

  it('replaces a worker after --limit-max-requests, without failing a request', async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '1', '--limit-max-requests', '5']);
    const url = await servingUrl(run);
    const first = await pidOf(url);
    let current = first;
    let served = 1;
    // Every request succeeds; the worker that took the 5th is replaced once its successor listens.
    const deadline = Date.now() + 15_000;
    while (current === first && Date.now() < deadline) {
      current = await pidOf(url);
      served++;
    }
    expect(current).not.toBe(first);
    expect(served).toBeGreaterThan(5);
    expect(run.out.stdout).toMatch(new RegExp(`^Worker ${first} served 5 requests \\(--limit-max-requests\\): replacing it$`, 'm'));
    await waitFor(() => !alive(first), () => `worker ${first} still runs`);
  });

  it('a worker replaced after --limit-max-requests keeps its idle keep-alive connections until they expire: a request sent on one is answered, Connection: close', { timeout: 60_000 }, async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '1', '--limit-max-requests', '2', '--timeout-keep-alive', '30']);
    const url = await servingUrl(run);
    // A proxy's upstream connection: it brings the worker to its limit, then waits idle.
    const conn = await keptConnection(url);
    const first = Number((await conn.send('/')).split('\r\n\r\n')[1]);
    await conn.send('/');
    await waitFor(() => run.out.stdout.includes(`Worker ${first} served 2 requests`), () => run.out.stdout);
    // Once its successor answers, the old worker is told to stop.
    const deadline = Date.now() + 30_000;
    while ((await pidOf(url)) === first) {
      if (Date.now() > deadline) throw new Error('no successor answered');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(conn.isClosed()).toBe(false);
    const late = await conn.send('/', 'POST');
    expect(late).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*Connection: close\r\n/);
    expect(Number(late.split('\r\n\r\n')[1])).toBe(first);
    await conn.closed;
    await waitFor(() => !alive(first), () => `worker ${first} still runs`);
  });

  it('Ctrl-C (SIGINT to the process group) closes the workers\' idle keep-alive connections at once', { timeout: 60_000 }, async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '2', '--timeout-keep-alive', '30']);
    const url = await servingUrl(run);
    const conn = await keptConnection(url);
    await conn.send('/');
    const t0 = Date.now();
    process.kill(-run.child.pid!, 'SIGINT');
    await conn.closed;
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('a worker past --limit-max-requests whose replacement failed asks again after as many more', { timeout: 60_000 }, async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '1', '--limit-max-requests', '3']);
    const url = await servingUrl(run);
    const first = await pidOf(url);
    writeFileSync(join(dir, 'broken'), '');
    try {
      await pidOf(url);
      expect(await pidOf(url)).toBe(first); // the 3rd: a replacement is started, and fails
      await waitFor(() => run.out.stderr.includes(`worker ${first} stays`), () => run.out.stderr, 20_000);
    } finally {
      rmSync(join(dir, 'broken'), { force: true });
    }
    for (let i = 0; i < 3; i++) expect(await pidOf(url)).toBe(first);
    // The 6th request asked again: a replacement takes over.
    let current = first;
    const deadline = Date.now() + 15_000;
    while (current === first && Date.now() < deadline) current = await pidOf(url);
    expect(current).not.toBe(first);
    expect(run.out.stdout).toMatch(new RegExp(`^Worker ${first} served 6 requests \\(--limit-max-requests\\): replacing it$`, 'm'));
  });

  it('--timeout-worker-healthcheck kills and replaces a worker whose event loop is stuck, and leaves a slow request alone', { timeout: 60_000 }, async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '1', '--timeout-worker-healthcheck', '2']);
    const url = await servingUrl(run);
    const first = await pidOf(url);
    // Waiting (not blocking) for longer than the timeout is no hang.
    expect(await pidOf(url, '/slow?3500')).toBe(first);
    expect(alive(first)).toBe(true);
    const hung = get(`${url}/hang`, {}, 20_000).then(
      (res) => `answered ${res.status}`,
      (error: Error) => error.message,
    );
    await waitFor(() => !alive(first), () => run.out.stderr, 15_000);
    expect(await hung).not.toMatch(/^answered/);
    const second = await pidOnceUp(url);
    expect(second).not.toBe(first);
    const lines = run.out.stderr.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^tsgi: worker ${first} has not answered for \\d+\\.\\d s, over --timeout-worker-healthcheck 2: killing it$`));
    expect(lines[1]).toMatch(new RegExp(`^tsgi: worker ${first} died \\(signal SIGKILL\\); starting a new one( in [\\d.]+ s)?$`));
  });

  it('says so when it kills a worker at shutdown: one past the graceful time and its margin, or all at a second signal', { timeout: 60_000 }, async () => {
    const stuck = cli(['serve', pidApp, '--port', '0', '--workers', '1', '--timeout-graceful-shutdown', '1', '--timeout-worker-healthcheck', '0']);
    const url = await servingUrl(stuck);
    const pid = await pidOf(url);
    // Each signal once the worker has the request (and the second once the first was taken):
    // 300 ms sleeps let a loaded machine signal a worker with nothing in flight, or deliver
    // SIGINT and SIGTERM pending together SIGINT first.
    void get(`${url}/hang`, {}, 20_000).catch(() => undefined);
    await waitFor(() => stuck.out.stdout.includes('at /hang in '), () => stuck.out.stdout);
    stuck.child.kill('SIGTERM');
    expect((await stuck.exited).code).toBe(0);
    expect(stuck.out.stderr).toMatch(new RegExp(`^tsgi: worker ${pid} still running 6 s after SIGTERM \\(--timeout-graceful-shutdown 1 and 5 s more\\): killing it$`, 'm'));

    const slow = cli(['serve', pidApp, '--port', '0', '--workers', '1']);
    const slowUrl = await servingUrl(slow);
    void get(`${slowUrl}/slow?20000`, {}, 30_000).catch(() => undefined);
    await waitFor(() => slow.out.stdout.includes('at /slow in '), () => slow.out.stdout);
    slow.child.kill('SIGTERM');
    await waitFor(() => slow.out.stdout.includes('Stopping on SIGTERM'), () => slow.out.stdout);
    slow.child.kill('SIGINT');
    expect((await slow.exited).code).toBe(0);
    expect(slow.out.stderr).toMatch(/^tsgi: SIGINT during the graceful shutdown: killing 1 worker$/m);
  });

  it('--timeout-graceful-shutdown at its most (2147483 s): SIGTERM lets a request in flight finish, its worker not killed at once', { timeout: 60_000 }, async () => {
    // The kill comes that long and its margin after SIGTERM: more than Node's longest timer.
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '1', '--timeout-graceful-shutdown', '2147483']);
    const url = await servingUrl(run);
    const pid = await pidOf(url);
    const answer = get(`${url}/slow?2000`, {}, 20_000);
    await waitFor(() => run.out.stdout.includes('at /slow in '), () => run.out.stdout);
    run.child.kill('SIGTERM');
    expect(await answer).toEqual({ status: 200, body: String(pid) });
    expect((await run.exited).code).toBe(0);
    expect(run.out.stderr).not.toMatch(/killing it/);
  });

  it('prints one start line, the primary\'s, with or without --timeout-worker-healthcheck', { timeout: 60_000 }, async () => {
    for (const healthcheck of ['0', '30']) {
      const run = cli(['serve', pidApp, '--port', '0', '--workers', '2', '--timeout-worker-healthcheck', healthcheck]);
      const url = await servingUrl(run);
      // Both workers listen (and would have printed) once each has answered.
      const seen = new Set<number>();
      const deadline = Date.now() + 30_000;
      while (seen.size < 2 && Date.now() < deadline) seen.add(await pidOf(url));
      expect(seen.size).toBe(2);
      expect(run.out.stdout.match(/^Serving on /gm), `--timeout-worker-healthcheck ${healthcheck}: ${run.out.stdout}`).toHaveLength(1);
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  it('--timeout-worker-healthcheck takes a pause of the primary itself (SIGSTOP, a suspended machine) for no hang of its workers', { timeout: 60_000 }, async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '1', '--timeout-worker-healthcheck', '2']);
    const url = await servingUrl(run);
    const first = await pidOf(url);
    process.kill(run.child.pid!, 'SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    process.kill(run.child.pid!, 'SIGCONT');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await pidOf(url)).toBe(first);
    expect(run.out.stderr).toBe('');
  });

  it('replaces dying workers with back-off, logging why, and recovers', { timeout: 60_000 }, async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '1']);
    const url = await servingUrl(run);
    const first = await pidOf(url);
    writeFileSync(join(dir, 'broken'), '');
    await get(`${url}/crash`).catch(() => undefined);
    // The replacements exit while loading: each pause is twice the one before.
    await waitFor(() => (run.out.stderr.match(/failed to start/g) ?? []).length >= 2, () => run.out.stderr, 20_000);
    rmSync(join(dir, 'broken'));
    const second = await pidOnceUp(url);
    expect(second).not.toBe(first);
    const lines = run.out.stderr.split('\n');
    expect(lines[0]).toBe(`tsgi: worker ${first} died (exit code 3); starting a new one in 0.5 s`);
    expect(lines[1]).toMatch(/^tsgi: worker \d+ failed to start \(exit code 5\); starting a new one in 1 s$/);
    expect(lines[2]).toMatch(/^tsgi: worker \d+ failed to start \(exit code 5\); starting a new one in 2 s$/);
  });

  it('--log-level error still says a worker died: a crash is an error, not a warning that level hides', { timeout: 60_000 }, async () => {
    // No start line at this level: the port is known beforehand.
    const port = await freePort();
    const run = cli(['serve', pidApp, '--port', String(port), '--workers', '1', '--log-level', 'error']);
    const url = `http://127.0.0.1:${port}`;
    const first = await pidOnceUp(url);
    await get(`${url}/crash`).catch(() => undefined);
    await waitFor(() => run.out.stderr.includes(`tsgi: worker ${first} died (exit code 3); starting a new one in 0.5 s\n`), () => run.out.stderr, 20_000);
  });

  it('a quick death long after the last one starts a new back-off streak at 0.5 s, not where a past crash loop left it', { timeout: 90_000 }, async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '1', '--no-access-log']);
    const url = await servingUrl(run);
    const deaths = () => (run.out.stderr.match(/ died \(exit code 3\)/g) ?? []).length;
    // Two quick deaths: the second replacement waits 1 s.
    for (let i = 1; i <= 2; i++) {
      await pidOnceUp(url);
      await get(`${url}/crash`).catch(() => undefined);
      await waitFor(() => deaths() === i, () => run.out.stderr, 20_000);
    }
    await pidOnceUp(url);
    // No worker dies for the last pause and 10 s more: the streak is over.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    run.child.kill('SIGHUP'); // a deploy: a fresh worker, which dies at once
    await waitFor(() => /^Replaced 1 worker$/m.test(run.out.stdout), () => run.out.stdout + run.out.stderr, 30_000);
    const fresh = await pidOf(url);
    await get(`${url}/crash`).catch(() => undefined);
    await waitFor(() => deaths() === 3, () => run.out.stderr, 20_000);
    expect(run.out.stderr.trimEnd().split('\n').at(-1)).toBe(`tsgi: worker ${fresh} died (exit code 3); starting a new one in 0.5 s`);
  });

  it('a SIGHUP during a back-off pause starts the missing worker at once, and the back-off streak starts over', { timeout: 90_000 }, async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '1', '--no-access-log']);
    const url = await servingUrl(run);
    writeFileSync(join(dir, 'broken'), '');
    try {
      await get(`${url}/crash`).catch(() => undefined);
      // The replacements exit while loading, each pause twice the one before: wait for one of 8 s.
      await waitFor(() => / starting a new one in 8 s$/m.test(run.out.stderr), () => run.out.stderr, 60_000);
    } finally {
      rmSync(join(dir, 'broken'), { force: true });
    }
    const hup = Date.now();
    run.child.kill('SIGHUP'); // the deploy that fixes it
    const fresh = await pidOnceUp(url);
    expect(Date.now() - hup).toBeLessThan(6_000); // not once the 8 s are over
    expect(run.out.stdout).toMatch(/^SIGHUP: starting 1 worker, ending the back-off pause$/m);
    expect(run.out.stdout).not.toMatch(/SIGHUP: replacing/);
    // A quick death of the new worker waits 0.5 s, not the 16 s the crash loop had reached.
    await get(`${url}/crash`).catch(() => undefined);
    await waitFor(() => run.out.stderr.includes(`worker ${fresh} died`), () => run.out.stderr, 20_000);
    expect(run.out.stderr.trimEnd().split('\n').at(-1)).toBe(`tsgi: worker ${fresh} died (exit code 3); starting a new one in 0.5 s`);
  });

  it('a SIGHUP during the graceful shutdown is ignored, and says so as in one process', { timeout: 60_000 }, async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '1', '--no-access-log']);
    const url = await servingUrl(run);
    const slow = get(`${url}/slow?3000`);
    await waitFor(() => /^at \/slow in /m.test(run.out.stdout), () => run.out.stdout + run.out.stderr);
    run.child.kill('SIGTERM');
    await waitFor(() => /^Stopping on SIGTERM/m.test(run.out.stdout), () => run.out.stdout + run.out.stderr);
    run.child.kill('SIGHUP');
    await waitFor(
      () => run.out.stderr.includes('tsgi: SIGHUP during the graceful shutdown: ignored (the server takes no new connections)\n'),
      () => run.out.stdout + run.out.stderr,
    );
    expect((await slow).status).toBe(200);
    expect((await run.exited).code).toBe(0);
    expect(run.out.stdout).not.toMatch(/SIGHUP: replacing/);
  });

  it('shares a Unix socket between the workers; SIGTERM to the process group lets the requests in flight finish and removes the socket', async () => {
    const path = join(dir, 'workers.sock');
    const run = cli(['serve', pidApp, '--uds', path, '--workers', '2']);
    expect(await servingUrl(run)).toBe(`unix:${path}`);
    const request = (target: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        http
          .get({ socketPath: path, path: target, agent: false }, (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode!, body: text }));
          })
          .on('error', reject);
      });
    const pids = new Set<number>();
    const deadline = Date.now() + 15_000;
    while (pids.size < 2 && Date.now() < deadline) pids.add(Number((await request('/')).body));
    expect(pids.size).toBe(2);
    const slow = Array.from({ length: 4 }, () => request('/slow?800'));
    // In flight in the workers before the signal (300 ms could pass first on a loaded machine).
    await waitFor(() => (run.out.stdout.match(/^at \/slow in /gm) ?? []).length === 4, () => run.out.stdout);
    // To the whole process group, as systemd's default KillMode does: the workers get it twice.
    process.kill(-run.child.pid!, 'SIGTERM');
    const answers = await Promise.all(slow);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(new Set(answers.map((answer) => Number(answer.body)))).toEqual(pids);
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.out.stdout).toMatch(/^Stopping on SIGTERM: requests in flight get 30 s$/m);
    expect(existsSync(path)).toBe(false);
  });

  it('--uds --workers 1: the socket never goes missing nor refuses a connection during SIGHUP replacements (the primary keeps it)', { timeout: 90_000 }, async () => {
    const path = join(dir, 'hammered.sock');
    const run = cli(['serve', pidApp, '--uds', path, '--workers', '1', '--no-access-log']);
    expect(await servingUrl(run)).toBe(`unix:${path}`);
    const clients = hammer(() => pidOverUds(path));
    // The first worker answers before the first SIGHUP, so each round's new pid is counted apart.
    await waitFor(() => clients.pids.size === 1, () => `no answer: ${clients.failures.join(', ')}`);
    for (let round = 1; round <= 3; round++) {
      const before = clients.pids.size;
      run.child.kill('SIGHUP');
      await waitFor(() => (run.out.stdout.match(/^Replaced 1 worker$/gm) ?? []).length === round, () => run.out.stdout + run.out.stderr, 30_000);
      await waitFor(() => clients.pids.size > before, () => `no answer from the new worker: ${[...clients.pids]}`);
    }
    await clients.stop();
    expect(clients.failures).toEqual([]);
    expect(clients.pids.size).toBe(4);
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
  });

  // The first names the socket as the second does, relative to its folder (the CLI runs in
  // the repository's), which the kernel lists it by unless the primary binds it absolute, or
  // through a symbolic link to its folder (/var/run for /run), which the kernel lists as given;
  // or holding a character past ASCII, which the kernel lists in UTF-8.
  const NAMED = { absolute: '', relative: ' given a relative path', symlinked: ' given a path through a symbolic link to its folder', 'non-ASCII': ' given a path past ASCII (café)' } as const;
  for (const naming of ['absolute', 'relative', 'symlinked', 'non-ASCII'] as const) {
    it(`--uds --workers 1${NAMED[naming]}: a second tsgi serve on the path${naming === 'absolute' || naming === 'non-ASCII' ? '' : ' (named absolute)'}, while the first one's worker still starts (its socket bound, not listening), stops with address already in use, not taking the path over`, { timeout: 60_000 }, async () => {
      const path = join(dir, naming === 'non-ASCII' ? 'starting-café.sock' : `starting-${naming}.sock`);
      const gate = join(dir, `gate-${naming}-open`);
      const gatedApp = join(dir, `gated-${naming}.mjs`);
      writeFileSync(gatedApp, `import { existsSync } from 'node:fs';\nwhile (!existsSync(${JSON.stringify(gate)})) await new Promise((resolve) => setTimeout(resolve, 50));\nexport { app } from ${JSON.stringify(pidApp)};\n`);
      const link = join(dir, 'folder-link');
      if (naming === 'symlinked' && !existsSync(link)) symlinkSync(dir, link);
      const given = naming === 'relative' ? relative(ROOT, path) : naming === 'symlinked' ? join(link, basename(path)) : path;
      const first = cli(['serve', gatedApp, '--uds', given, '--workers', '1', '--no-access-log']);
      // The primary bound the socket; its worker waits at the gate, so nothing listens on it yet.
      await waitFor(() => existsSync(path), () => first.out.stdout + first.out.stderr);
      const inode = lstatSync(path).ino;
      const second = cli(['serve', pidApp, '--uds', path, '--no-access-log']);
      const ended = await Promise.race([second.exited, servingUrl(second).then(() => 'serving' as const)]);
      expect(ended).toEqual({ code: 1, signal: null });
      expect(second.out.stderr).toMatch(/already in use/);
      expect(lstatSync(path).ino).toBe(inode);
      writeFileSync(gate, '');
      expect(await servingUrl(first)).toBe(`unix:${given}`);
      expect(await pidOverUds(path)).toBeGreaterThan(0);
      first.child.kill('SIGTERM');
      expect((await first.exited).code).toBe(0);
    });
  }

  for (const on of ['port', 'uds'] as const) {
    it(`--workers 1 on a ${on === 'port' ? 'port' : 'Unix socket'}: connections made while its only worker is dead (SIGKILL) wait for the replacement, none refused${on === 'uds' ? ' nor finding the path missing' : ''}`, { timeout: 60_000 }, async () => {
      const path = join(dir, 'killed.sock');
      const run = cli(['serve', pidApp, ...(on === 'uds' ? ['--uds', path] : ['--port', '0']), '--workers', '1', '--no-access-log']);
      const url = await servingUrl(run);
      const clients = hammer(on === 'uds' ? () => pidOverUds(path) : () => pidOf(url));
      await waitFor(() => clients.pids.size === 1, () => `no answer: ${clients.failures.join(', ')}`);
      const [first] = clients.pids;
      process.kill(first!, 'SIGKILL');
      // The connections made meanwhile (the back-off pause, the replacement's start) wait in the queue.
      await waitFor(() => /starting a new one/.test(run.out.stderr), () => run.out.stderr);
      const answered = clients.answered;
      await waitFor(() => clients.pids.size === 2, () => `no answer from a replacement: ${clients.failures.join(', ')}\n${run.out.stderr}`, 30_000);
      await waitFor(() => clients.answered > answered + 8, () => 'the replacement stopped answering');
      await clients.stop();
      expect(run.out.stderr).toMatch(new RegExp(`^tsgi: worker ${first} died \\(signal SIGKILL\\); starting a new one`, 'm'));
      // A request the killed worker had taken is lost with it (the connection is reset, as under gunicorn); none other fails.
      expect(clients.failures.filter((failure) => failure !== 'ECONNRESET' && failure !== 'socket hang up')).toEqual([]);
      run.child.kill('SIGTERM');
      expect((await run.exited).code).toBe(0);
      if (on === 'uds') expect(existsSync(path)).toBe(false);
    });
  }

  it('a worker stopped by hand (kill -TERM <pid>) is said to have stopped on that signal, and is replaced at once, without the back-off pause', async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '1', '--no-access-log']);
    const url = await servingUrl(run);
    const first = await pidOf(url);
    process.kill(first, 'SIGTERM');
    await waitFor(() => !alive(first), () => `worker ${first} still runs`);
    const next = await pidOnceUp(url);
    expect(next).not.toBe(first);
    // Quick deaths would wait 0.5 s (the worker lived under 10 s): a clean stop is no death.
    expect(run.out.stderr).toBe(`tsgi: worker ${first} stopped cleanly on a SIGTERM not sent by the primary; starting a new one\n`);
    // Nor does it count in the streak: a crash after it waits the first pause, 0.5 s.
    expect(await get(`${url}/crash`).catch(() => 'cut')).toBe('cut');
    await waitFor(() => run.out.stderr.includes(`worker ${next} died`), () => run.out.stderr);
    expect(run.out.stderr.trimEnd().split('\n').at(-1)).toBe(`tsgi: worker ${next} died (exit code 3); starting a new one in 0.5 s`);
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
  });

  it('a worker started by SIGHUP never changes the mode of a file put at the --uds path since (a symbolic link to a secret)', async () => {
    const path = join(dir, 'swapped.sock');
    const secret = join(dir, 'secret.env');
    writeFileSync(secret, 'TOKEN=hunter2\n', { mode: 0o600 });
    const run = cli(['serve', pidApp, '--uds', path, '--workers', '1']);
    expect(await servingUrl(run)).toBe(`unix:${path}`);
    // Whoever can write the socket's folder replaces the socket by a link to a file of this user.
    rmSync(path);
    symlinkSync(secret, path);
    run.child.kill('SIGHUP');
    await waitFor(() => /Replaced 1 worker/.test(run.out.stdout + run.out.stderr), () => run.out.stdout + run.out.stderr);
    expect(statSync(secret).mode & 0o777).toBe(0o600);
    expect(lstatSync(path).isSymbolicLink()).toBe(true);
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
  });

  it('starts the successor of a worker stopping after an unhandled rejection at once, not once its requests in flight are done', async () => {
    const run = cli(['serve', pidApp, '--port', '0', '--workers', '1']);
    const url = await servingUrl(run);
    const first = await pidOf(url);
    let slowDone = false;
    const slow = pidOf(url, '/slow?6000').finally(() => (slowDone = true));
    // In flight in the worker before it is told to stop (not 200 ms later: maybe not yet there).
    await waitFor(() => run.out.stdout.includes('at /slow in '), () => run.out.stdout);
    expect(await pidOf(url, '/stray')).toBe(first);
    await waitFor(() => run.out.stderr.includes('stopping'), () => run.out.stderr);
    // The stopping worker finishes /slow (6 s); its successor answers meanwhile, once it listens
    // (a worker takes one to two seconds to start: no shorter fixed window than /slow itself).
    // Without it started early, nothing listens until /slow has ended (and a back-off more).
    let next = 0;
    while (next === 0 && !slowDone) {
      next = await pidOf(url).catch(() => 0);
      if (next === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(next).toBeGreaterThan(0);
    expect(next).not.toBe(first);
    expect(await slow).toBe(first);
    expect(run.out.stderr).toMatch(/^tsgi: worker \d+ is stopping after an unhandled promise rejection; starting a new one(?: in [\d.]+ s)?$/m);
    expect(run.out.stderr).not.toMatch(/died|failed to start/);
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
  });
});
