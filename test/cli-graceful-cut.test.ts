/**
 * `tsgi serve` cutting the requests still in flight when `--timeout-graceful-shutdown` runs
 * out: the log says so (as it does for a second signal, and the primary of `--workers` for a
 * worker it kills), rather than a clean-looking stop that lost requests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, get, servingUrl, waitFor } from './cli-helpers.ts';

let fixtures: string;

beforeAll(() => {
  fixtures = mkdtempSync(join(tmpdir(), 'tsgi-cli-cut-'));
  writeFileSync(
    join(fixtures, 'hangs.mjs'),
    `export const app = (environ, start) => {
  if (environ.PATH_INFO === '/hang') {
    process.stdout.write('received /hang\\n');
    return new Promise(() => {});
  }
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('ok')];
};
`,
  );
});

afterAll(() => {
  rmSync(fixtures, { recursive: true, force: true });
});

describe('tsgi serve at the end of the graceful shutdown', () => {
  it('logs the connections it cuts', async () => {
    const run = cli(['serve', join(fixtures, 'hangs.mjs'), '--port', '0', '--timeout-graceful-shutdown', '0.3']);
    const url = await servingUrl(run);
    const hung = new Promise<string>((resolve) => {
      http.get(`${url}/hang`, { agent: false }, () => resolve('answered')).on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    await waitFor(() => run.out.stdout.includes('received /hang\n'), () => 'the request never arrived');
    run.child.kill('SIGTERM');
    expect(await hung).toBe('ECONNRESET');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.out.stderr).toBe('tsgi: 1 connection still open at the end of the graceful shutdown (--timeout-graceful-shutdown 0.3 s): cutting it\n');
  });

  it('logs nothing when every request finished in time', async () => {
    const run = cli(['serve', join(fixtures, 'hangs.mjs'), '--port', '0', '--timeout-graceful-shutdown', '0.3']);
    const url = await servingUrl(run);
    expect((await get(`${url}/`)).body).toBe('ok');
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.out.stderr).toBe('');
  });
});
