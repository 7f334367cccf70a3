/**
 * Running one of test/runtimes/scripts/ under Bun or Deno from the project's copies in
 * node_modules, with tsgi resolved to its sources (`--conditions=tsgi-source`).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const RUNTIMES: Record<string, string[]> = {
  bun: [path.join(ROOT, 'node_modules/.bin/bun'), '--conditions=tsgi-source'],
  deno: [path.join(ROOT, 'node_modules/deno/deno'), 'run', '--allow-net', '--allow-env', '--allow-read', '--no-prompt', '--unstable-no-legacy-abort', '--conditions=tsgi-source'],
};

/** The runtimes {@link runScript} knows. */
export const SCRIPT_RUNTIMES = Object.keys(RUNTIMES);

/** Runs `test/runtimes/scripts/<name>` under `runtime` (killed after 25 s); answers what it printed. */
export async function runScript(runtime: string, name: string): Promise<string> {
  const [command, ...args] = RUNTIMES[runtime]!;
  const { stdout } = await promisify(execFile)(command!, [...args, `test/runtimes/scripts/${name}`], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    // Killed before the suite's 30 s test timeout, so a hung script never outlives its test.
    timeout: 25_000,
  });
  return stdout;
}
