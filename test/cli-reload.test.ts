/**
 * `tsgi serve --reload`: a change under the module's folder (or a --reload-dir) restarts the
 * server on the same port; a syntax error is printed and the supervisor waits for the next
 * change; SIGINT stops everything.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, get, servingUrl, waitFor } from './cli-helpers.ts';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-cli-reload-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A module answering `text` (from a file it imports, so a change there counts too). */
function writeApp(folder: string, text: string): void {
  writeFileSync(join(folder, 'message.ts'), `export const message: string = ${JSON.stringify(text)};\n`);
  writeFileSync(
    join(folder, 'app.ts'),
    `import { message } from './message.ts';
export const app = (_environ: object, start: (status: string, headers: [string, string][]) => void) => {
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode(message)];
};
`,
  );
}

/** GETs `url` until it answers `text` (the restarted server). */
async function until(url: string, text: string, what: () => string): Promise<void> {
  let last = '';
  const deadline = Date.now() + 20_000;
  while (last !== text) {
    if (Date.now() > deadline) throw new Error(`still '${last}': ${what()}`);
    last = await get(url, {}, 2_000).then(
      (res) => res.body,
      () => '',
    );
    if (last !== text) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('tsgi serve --reload', () => {
  it('restarts on a change, waits out a syntax error, and stops on SIGINT', { timeout: 60_000 }, async () => {
    const folder = join(dir, 'site');
    mkdirSync(folder);
    writeApp(folder, 'first');
    const run = cli(['serve', join(folder, 'app.ts'), '--port', '0', '--reload']);
    const url = await servingUrl(run);
    const output = () => `stdout: ${run.out.stdout}\nstderr: ${run.out.stderr}`;
    expect(run.out.stdout).toMatch(/ reload on\)\n/);
    expect((await get(url)).body).toBe('first');

    // A change in an imported file: the same port answers the new text.
    writeFileSync(join(folder, 'message.ts'), 'export const message: string = "second";\n');
    await until(url, 'second', output);
    expect(run.out.stdout).toMatch(/^Change in .*message\.ts: restarting$/m);
    expect(run.out.stdout).toContain(`Reloaded: serving on ${url}`);

    // A syntax error: printed, and the supervisor waits.
    writeFileSync(join(folder, 'message.ts'), 'export const message: string = ;\n');
    await waitFor(() => /waiting for a change to restart it/.test(run.out.stderr), output, 20_000);
    expect(run.out.stderr).toMatch(/error while loading/);
    expect(run.child.exitCode).toBeNull();

    // Fixed: serving again. A change to a file that is not code does nothing.
    writeFileSync(join(folder, 'notes.txt'), 'not code');
    writeFileSync(join(folder, 'message.ts'), 'export const message: string = "third";\n');
    await until(url, 'third', output);
    expect(run.out.stdout).not.toContain('notes.txt');

    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    await expect(get(url, {}, 2_000)).rejects.toThrow();
  });

  it('watches --reload-dir instead of the module folder; its child ends with it', { timeout: 60_000 }, async () => {
    const folder = join(dir, 'watched');
    const other = join(dir, 'elsewhere');
    mkdirSync(folder);
    mkdirSync(other);
    writeApp(folder, 'one');
    const run = cli(['serve', join(folder, 'app.ts'), '--port', '0', '--reload', '--reload-dir', other]);
    const url = await servingUrl(run);
    writeFileSync(join(folder, 'message.ts'), 'export const message: string = "ignored";\n');
    writeFileSync(join(other, 'trigger.json'), '{}');
    await waitFor(() => /^Change in .*trigger\.json: restarting$/m.test(run.out.stdout), () => run.out.stdout, 20_000);
    // The restart loads the module afresh, with the change made meanwhile.
    await until(url, 'ignored', () => run.out.stdout);
    expect(run.out.stdout).not.toMatch(/Change in .*message\.ts/);
    // The supervisor killed outright: its child does not outlive it.
    run.child.kill('SIGKILL');
    await run.exited;
    let refused = false;
    const deadline = Date.now() + 10_000;
    while (!refused && Date.now() < deadline) {
      refused = await get(url, {}, 1_000).then(
        () => false,
        () => true,
      );
      if (!refused) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(refused).toBe(true);
  });
});
