/**
 * `tsgi serve --uds-mode`: the mode of the `--uds` socket, over a real socket; a value that is
 * no octal permission mode is a one-line usage error (exit 2). Few cases: each starts the CLI.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, finish, servingUrl } from './cli-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsgi-uds-mode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tsgi serve --uds-mode', () => {
  it('gives the socket that mode (0660: the group may connect), and it serves', async () => {
    const path = join(dir, 'group.sock');
    const run = cli(['serve', 'examples/demo.ts:app', '--uds', path, '--uds-mode', '0660', '--no-access-log']);
    expect(await servingUrl(run)).toBe(`unix:${path}`);
    expect(statSync(path).mode & 0o777).toBe(0o660);
    const status = await new Promise<number>((resolve, reject) => {
      http.get({ socketPath: path, path: '/', agent: false, timeout: 10_000 }, (res) => resolve(res.resume().statusCode!)).on('error', reject);
    });
    expect(status).toBeLessThan(500);
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });

  it('gives it that mode under --workers (each worker) and --reload (the supervisor binds it)', async () => {
    await Promise.all(
      [['--workers', '2'], ['--reload']].map(async (extra) => {
        const path = join(dir, `${extra[0]!.slice(2)}.sock`);
        const run = cli(['serve', 'examples/demo.ts:app', '--uds', path, '--uds-mode', '600', '--no-access-log', ...extra]);
        expect(await servingUrl(run)).toBe(`unix:${path}`);
        expect(statSync(path).mode & 0o777, extra[0]).toBe(0o600);
        run.child.kill('SIGTERM');
        expect(await run.exited, extra[0]).toEqual({ code: 0, signal: null });
      }),
    );
  });

  it('refuses a value that is no octal mode, or the flag without --uds: one line, exit 2', async () => {
    const path = join(dir, 'refused.sock');
    const cases: Array<[string[], string]> = [
      [['--uds', path, '--uds-mode', '680'], "invalid --uds-mode '680': expected an octal permission mode, as 660 or 0660"],
      [['--uds', path, '--uds-mode', 'rw-rw----'], "invalid --uds-mode 'rw-rw----': expected an octal permission mode, as 660 or 0660"],
      [['--uds', path, '--uds-mode', '10660'], "invalid --uds-mode '10660': expected an octal permission mode, as 660 or 0660"],
      [['--port', '0', '--uds-mode', '660'], '--uds-mode needs --uds'],
    ];
    const results = await Promise.all(cases.map(([args]) => finish(['serve', 'examples/demo.ts:app', ...args])));
    results.forEach((result, i) => {
      expect(result, cases[i]![0].join(' ')).toMatchObject({ code: 2, stderr: `tsgi: ${cases[i]![1]}\n` });
    });
  });
});
