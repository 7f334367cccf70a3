/**
 * `tsgi serve` started as a node:cluster worker of a primary that is not its own: pm2's
 * cluster mode (`pm2 start node_modules/.bin/tsgi -i 2 -- serve app.ts`) runs the command in
 * workers of pm2's daemon. Such a process has no `tsgi serve --workers` primary to print its
 * start line, to stop it or to read its heartbeats: it serves as one process does, and stops
 * gracefully on the SIGINT pm2 sends it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { appModules, cli, get, servingUrl, waitFor } from './cli-helpers.ts';

const fixture = appModules('tsgi-cli-foreign-cluster-', {
  'app.mjs': `export const app = async (environ, start) => {
  if (environ.PATH_INFO === '/slow') {
    process.stdout.write('received /slow\\n');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('ok')];
};
`,
  // A primary as pm2's: it forks the command line it is given as its one worker, and stops it
  // with SIGINT (pm2's default kill_signal) sent to the worker's process.
  'primary.mjs': `import cluster from 'node:cluster';
const [, flag, main, ...args] = process.argv.slice(2);
cluster.setupPrimary({ exec: main, execArgv: [flag], args });
const worker = cluster.fork();
process.on('SIGINT', () => worker.process.kill('SIGINT'));
worker.on('exit', (code, signal) => process.exit(signal === null ? code : 128));
`,
  // The same with two workers, as \`pm2 start … -i 2\`: it exits once both have.
  'primary-two.mjs': `import cluster from 'node:cluster';
const [, flag, main, ...args] = process.argv.slice(2);
cluster.setupPrimary({ exec: main, execArgv: [flag], args });
const workers = [cluster.fork(), cluster.fork()];
process.on('SIGINT', () => workers.forEach((worker) => worker.process.kill('SIGINT')));
let left = 2;
cluster.on('exit', () => --left === 0 && process.exit(0));
`,
});

describe('tsgi serve in a worker of another node:cluster primary (pm2 cluster mode)', () => {
  it('prints its start line, serves, and stops gracefully on SIGINT', async () => {
    const run = cli(['serve', fixture('app.mjs'), '--port', '0'], {}, undefined, [process.execPath, fixture('primary.mjs')]);
    const url = await servingUrl(run, 15_000);
    expect(await get(`${url}/`)).toEqual({ status: 200, body: 'ok' });
    const slow = get(`${url}/slow`);
    await waitFor(() => run.out.stdout.includes('received /slow\n'), () => 'the request never arrived');
    run.child.kill('SIGINT');
    expect(await slow).toEqual({ status: 200, body: 'ok' });
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.out.stdout).toContain('Stopping on SIGINT');
  });
});

describe('tsgi serve --workers in a worker of another node:cluster primary', () => {
  it('is refused with one line, exit 2: that primary starts the processes', async () => {
    const run = cli(['serve', fixture('app.mjs'), '--port', '0', '--workers', '2'], {}, undefined, [process.execPath, fixture('primary.mjs')]);
    expect(await run.exited).toEqual({ code: 2, signal: null });
    expect(run.out.stderr).toBe(
      "tsgi: --workers cannot start workers in a node:cluster worker of another primary (pm2's cluster mode): let that primary start the instances (pm2 -i), or run tsgi serve --workers alone (pm2's fork mode)\n",
    );
    expect(run.out.stdout).toBe('');
  });
});

describe('tsgi serve --uds in workers of another node:cluster primary', () => {
  it('removes a stale socket left by a crash, and its second worker shares the socket the first bound', async () => {
    const path = fixture('stale.sock');
    // A stale socket: its process (pm2's daemon, killed) died without removing it.
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(statSync(path).isSocket()).toBe(true);
    const run = cli(['serve', fixture('app.mjs'), '--uds', path], {}, undefined, [process.execPath, fixture('primary-two.mjs')]);
    expect(await servingUrl(run, 15_000)).toBe(`unix:${path}`);
    await waitFor(() => (run.out.stdout.match(/^Serving on unix:/gm) ?? []).length === 2, () => run.out.stdout + run.out.stderr);
    const status = await new Promise<number>((resolve, reject) => {
      http.get({ socketPath: path, path: '/', agent: false, timeout: 10_000 }, (res) => resolve(res.resume().statusCode!)).on('error', reject);
    });
    expect(status).toBe(200);
    expect(run.out.stderr).toBe('');
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(path)).toBe(false);
  });
});
