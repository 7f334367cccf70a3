/**
 * `tsgi serve` and a promise rejection nobody handles (a fire-and-forget call the app left
 * without a catch): Node alone would end the process at once, cutting every request in flight;
 * the CLI logs it and stops gracefully, as on SIGTERM, with exit status 1.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { appModules, cli, get, servingUrl, waitFor } from './cli-helpers.ts';

const fixture = appModules('tsgi-cli-rejection-', {
  'stray.mjs': `export const app = (environ, start) => {
  if (environ.PATH_INFO === '/stray') Promise.reject(new Error('stray rejection'));
  if (environ.PATH_INFO === '/object') Promise.reject({ code: 'E_CACHE' });
  if (environ.PATH_INFO === '/slow') {
    process.stdout.write('received /slow\\n');
    return (async function* () {
      await new Promise((resolve) => setTimeout(resolve, 500));
      start('200 OK', [['Content-Type', 'text/plain']]);
      yield new TextEncoder().encode('slow done');
    })();
  }
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('ok')];
};
`,
  'own-handler.mjs': `process.on('unhandledRejection', (reason) => process.stdout.write('the app handled ' + reason.message + '\\n'));
export const app = (environ, start) => {
  if (environ.PATH_INFO === '/stray') Promise.reject(new Error('stray rejection'));
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('ok')];
};
`,
});

describe('tsgi serve after an unhandled promise rejection', () => {
  it('logs it, lets the requests in flight finish, and exits 1', async () => {
    const run = cli(['serve', fixture('stray.mjs'), '--port', '0']);
    const url = await servingUrl(run);
    const slow = get(`${url}/slow`);
    await waitFor(() => run.out.stdout.includes('received /slow\n'), () => 'the slow request never arrived');
    expect(await get(`${url}/stray`)).toEqual({ status: 200, body: 'ok' });
    expect(await slow).toEqual({ status: 200, body: 'slow done' });
    expect(await run.exited).toEqual({ code: 1, signal: null });
    expect(run.out.stderr).toMatch(/^tsgi: unhandled promise rejection: stopping: Error: stray rejection\n {4}at app \(file:/m);
    expect(run.out.stderr.match(/^tsgi:/gm)).toHaveLength(1);
    expect(run.out.stdout).toMatch(/^Stopping after an unhandled promise rejection: requests in flight get 30 s$/m);
  });

  it('says why it stops even at --log-level critical, which hides app errors', async () => {
    // No start line at this level: a port known to be free is given, and taken again should
    // another process bind it between the probe and the CLI (tests and servers run alongside).
    let run: ReturnType<typeof cli>;
    for (let attempt = 1; ; attempt++) {
      const port = await new Promise<number>((resolve) => {
        const probe = net.createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as net.AddressInfo;
          probe.close(() => resolve(port));
        });
      });
      run = cli(['serve', fixture('stray.mjs'), '--port', String(port), '--log-level', 'critical']);
      const url = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 100 && run.child.exitCode === null; i++) {
        if ((await get(`${url}/stray`).catch(() => undefined)) !== undefined) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await run.exited).toEqual({ code: 1, signal: null });
      if (attempt === 3 || !run.out.stderr.includes('address already in use')) break;
    }
    expect(run.out.stderr).toMatch(/^tsgi: unhandled promise rejection: stopping: Error: stray rejection$/m);
  });

  it('shows a reason that is no Error as util.inspect does, not [object Object]', async () => {
    const run = cli(['serve', fixture('stray.mjs'), '--port', '0']);
    const url = await servingUrl(run);
    expect(await get(`${url}/object`)).toEqual({ status: 200, body: 'ok' });
    expect(await run.exited).toEqual({ code: 1, signal: null });
    expect(run.out.stderr).toMatch(/^tsgi: unhandled promise rejection: stopping: \{ code: 'E_CACHE' \}$/m);
  });

  it("leaves it to the app's own unhandledRejection handler: the server keeps serving", async () => {
    const run = cli(['serve', fixture('own-handler.mjs'), '--port', '0']);
    const url = await servingUrl(run);
    expect(await get(`${url}/stray`)).toEqual({ status: 200, body: 'ok' });
    await waitFor(() => run.out.stdout.includes('the app handled stray rejection\n'), () => run.out.stdout);
    expect(await get(`${url}/`)).toEqual({ status: 200, body: 'ok' });
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.out.stderr).not.toMatch(/unhandled promise rejection/);
  });

  it.each(['warn', 'none'])('leaves it to Node under --unhandled-rejections=%s in NODE_OPTIONS: the server keeps serving', async (mode) => {
    const run = cli(['serve', fixture('stray.mjs'), '--port', '0'], { NODE_OPTIONS: `--unhandled-rejections=${mode}` });
    const url = await servingUrl(run);
    expect(await get(`${url}/stray`)).toEqual({ status: 200, body: 'ok' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await get(`${url}/`)).toEqual({ status: 200, body: 'ok' });
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.out.stderr).not.toMatch(/^tsgi: unhandled promise rejection/m);
  });

  it('keeps the status Node sets under --unhandled-rejections=warn-with-error-code: serves on, exits 1', async () => {
    const run = cli(['serve', fixture('stray.mjs'), '--port', '0'], { NODE_OPTIONS: '--unhandled-rejections=warn-with-error-code' });
    const url = await servingUrl(run);
    expect(await get(`${url}/stray`)).toEqual({ status: 200, body: 'ok' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await get(`${url}/`)).toEqual({ status: 200, body: 'ok' });
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 1, signal: null });
    expect(run.out.stderr).not.toMatch(/^tsgi: unhandled promise rejection/m);
    expect(run.out.stderr).toMatch(/stray rejection/);
  });
});
