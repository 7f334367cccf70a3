/**
 * Scenario: a gunicorn operator runs a small JSON API with `tsgi serve` in production, from
 * docs/cli.md and docs/deployment.md alone: `--workers` on a `--uds` socket (nginx's side) and
 * on a TCP port, an `--env-file`, the access log on standard output; and drives it as
 * production would, over real sockets, while requests keep coming:
 *
 * - a deploy (`kill -HUP`) refuses nothing, a slow request finishes on its old worker, the new
 *   workers read the edited env file, and a broken module deployed so leaves the old workers
 *   serving (gunicorn would stop on a worker that fails to boot);
 * - a worker that dies (`process.exit(1)` in a route) is replaced, the other worker serving on;
 * - `kill -TERM` lets a request in flight finish and exits 0 with its access line whole, and a
 *   connection made after it is refused at once (gunicorn's arbiter closes its listeners
 *   first), with `--workers 1` too, whose primary holds the socket: it used to keep it open, so
 *   such a connection waited in its queue until the exit and was then reset.
 */
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Cli, ROOT, appModules, cli, servingUrl, waitFor } from './cli-helpers.ts';

/** tsgi's sources, as the app's module imports them (it lives in a temporary folder). */
const TSGI = pathToFileURL(join(ROOT, 'src/index.ts')).href;

const API = `import { HTTPNotFound, Request, Response } from '${TSGI}';

export const app = Request.application(async (req) => {
  switch (req.pathInfo) {
    case '/health':
      return Response.json({ pid: process.pid, version: process.env.APP_VERSION ?? null });
    case '/slow':
      process.stdout.write('slow in ' + process.pid + '\\n');
      await new Promise((resolve) => setTimeout(resolve, Number(req.query.get('ms') ?? 2000)));
      return Response.json({ pid: process.pid });
    case '/boom':
      throw new Error('boom');
    case '/exit':
      process.exit(1);
    default:
      throw new HTTPNotFound();
  }
});
`;

const file = appModules('tsgi-scenario-ops-', { 'api.ts': API, '.env': 'APP_VERSION=v1\n' });

interface Answer {
  status?: number;
  body?: string;
  error?: string;
  ms: number;
}

/** GET `path` on a fresh connection to `target` (`http://host:port` or `unix:/path`); never rejects. */
function ask(target: string, path: string, timeout = 10_000): Promise<Answer> {
  const started = Date.now();
  const url = new URL(target.startsWith('unix:') ? 'http://localhost' : target);
  const where: http.RequestOptions = target.startsWith('unix:') ? { socketPath: target.slice(5), path } : { host: url.hostname, port: url.port, path };
  return new Promise((resolve) => {
    const req = http.get({ ...where, agent: false, timeout }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body, ms: Date.now() - started }));
      res.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message, ms: Date.now() - started }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message, ms: Date.now() - started }));
  });
}

/** GETs /health on fresh connections, 8 at a time, until `stop()`; answers the failures. */
function load(target: string): { stop(): Promise<string[]>; count(): number } {
  const failures: string[] = [];
  let running = true;
  let done = 0;
  const loop = async () => {
    while (running) {
      const answer = await ask(target, '/health');
      done++;
      if (answer.status !== 200) failures.push(answer.error ?? String(answer.status));
    }
  };
  const loops = Array.from({ length: 8 }, loop);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return failures;
    },
    count: () => done,
  };
}

/**
 * Starts `--workers 1` on `where`, sends SIGTERM with a slow request in flight, and checks that
 * a connection is refused (or finds no socket) before that request finishes, which then
 * answers `200` with its access line, and that the process exits 0.
 */
async function stopsRefusing(where: string[]): Promise<void> {
  const run = cli(['serve', file('api.ts'), '--workers', '1', ...where]);
  const target = await servingUrl(run);
  let finishedAt = Infinity;
  const slow = ask(target, '/slow?ms=1000').then((answer) => ((finishedAt = Date.now()), answer));
  await waitFor(() => run.out.stdout.includes('slow in '), () => 'the slow request did not arrive');
  run.child.kill('SIGTERM');
  // gunicorn's arbiter closes its listeners at SIGTERM: a balancer's connection is refused (or
  // finds no socket) at once and goes to another instance, rather than waiting in the queue of
  // a server that will never accept it, to be reset at its exit. (One that comes before the
  // worker has closed its listener too may still be answered.)
  let refusedAt = Infinity;
  while (refusedAt === Infinity && run.child.exitCode === null) {
    const late = await ask(target, '/health', 5_000);
    if (late.error === 'ECONNREFUSED' || late.error === 'ENOENT') refusedAt = Date.now();
    else await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const finished = await slow;
  expect(finished.status).toBe(200);
  expect(refusedAt).toBeLessThan(finishedAt);
  expect((await run.exited).code).toBe(0);
  expect(lines(run, /"GET \/slow\?ms=1000 HTTP\/1\.1" 200 \d+ "-" "-"$/)).toHaveLength(1);
}

const lines = (run: Cli, pattern: RegExp) => (run.out.stdout + run.out.stderr).split('\n').filter((line) => pattern.test(line));

describe('a JSON API under tsgi serve, operated as under gunicorn', () => {
  it('--workers 2 on --uds: SIGHUP deploys under load refusing nothing, a broken deploy leaves the old workers, a crash is replaced, SIGTERM exits 0', async () => {
    const socket = join(tmpdir(), `tsgi-scenario-ops-${process.pid}.sock`);
    const run = cli(['serve', file('api.ts'), '--workers', '2', '--uds', socket, '--env-file', file('.env'), '--log-level', 'debug']);
    const target = await servingUrl(run);
    expect(target).toBe(`unix:${socket}`);
    await waitFor(() => lines(run, /^tsgi: worker \d+ listening/).length === 2, () => `two workers not listening: ${run.out.stderr}`);
    const before = JSON.parse((await ask(target, '/health')).body!) as { version: string };
    expect(before.version).toBe('v1');

    // A deploy: a slow request in flight, the env file edited, SIGHUP, requests all along.
    const slow = ask(target, '/slow?ms=1500');
    await waitFor(() => /slow in (\d+)/.test(run.out.stdout), () => 'the slow request did not arrive');
    const slowPid = Number(/slow in (\d+)/.exec(run.out.stdout)![1]);
    writeFileSync(file('.env'), 'APP_VERSION=v2\n');
    const traffic = load(target);
    run.child.kill('SIGHUP');
    await waitFor(() => /^Replaced 2 workers$/m.test(run.out.stdout), () => `no end of the round: ${run.out.stdout}${run.out.stderr}`);
    expect(await traffic.stop()).toEqual([]);
    const finished = await slow;
    expect(finished.status).toBe(200);
    expect(JSON.parse(finished.body!)).toEqual({ pid: slowPid }); // on the old worker
    expect(JSON.parse((await ask(target, '/health')).body!)).toMatchObject({ version: 'v2' });

    // A broken deploy: the new worker fails to load, the old ones stay and serve.
    writeFileSync(file('api.ts'), `${API}\nexport const broken = ;\n`);
    const duringBroken = load(target);
    run.child.kill('SIGHUP');
    await waitFor(() => /a new worker failed to start: the running workers stay/.test(run.out.stderr), () => run.out.stderr);
    writeFileSync(file('api.ts'), API);
    expect(await duringBroken.stop()).toEqual([]);
    expect(duringBroken.count()).toBeGreaterThan(0);

    // An app error is a logged 500; a worker that exits is replaced, the other one serving meanwhile.
    expect((await ask(target, '/boom')).status).toBe(500);
    await waitFor(() => /^\[tsgi\] GET \/boom HTTP\/1\.1: Error: boom$/m.test(run.out.stderr), () => run.out.stderr);
    expect((await ask(target, '/exit')).error).toBe('ECONNRESET');
    // (Once the primary knows: a connection handed to the dying worker before would be lost.)
    await waitFor(() => /^tsgi: worker \d+ died \(exit code 1\); starting a new one/m.test(run.out.stderr), () => run.out.stderr);
    const afterCrash = await Promise.all(Array.from({ length: 6 }, () => ask(target, '/health')));
    expect(afterCrash.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);

    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
    expect(existsSync(socket)).toBe(false);
    // One whole access line per request, the slow one's included.
    expect(lines(run, /"GET \/slow\?ms=1500 HTTP\/1\.1" 200 \d+ "-" "-"$/)).toHaveLength(1);
  });

  it('--workers 1 on a port and on --uds: SIGTERM lets the request in flight finish and refuses a new connection at once', async () => {
    const socket = join(tmpdir(), `tsgi-scenario-ops-1-${process.pid}.sock`);
    // Both at once: the file stays well under 20 s.
    await Promise.all([['--port', '0'], ['--uds', socket]].map((where) => stopsRefusing(where)));
    expect(existsSync(socket)).toBe(false);
  });
});
