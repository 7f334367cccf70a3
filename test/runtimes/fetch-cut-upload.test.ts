/**
 * A client that hangs up in the middle of its upload, under `toFetchHandler` on Bun and Deno:
 * the body readers answer it as on Node, a `400` (HTTPBadRequest: the body could not be read
 * completely), not a runtime error that `errors` logs as a 500. Deno fails the body stream
 * with `BadResource`, which no Node error code names. Runs
 * test/runtimes/scripts/fetch-cut-upload.ts over a real socket on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const runtimes: Record<string, string[]> = {
  bun: [path.join(ROOT, 'node_modules/.bin/bun'), '--conditions=tsgi-source'],
  deno: [path.join(ROOT, 'node_modules/deno/deno'), 'run', '--allow-net', '--allow-env', '--allow-read', '--no-prompt', '--unstable-no-legacy-abort', '--conditions=tsgi-source'],
};

it.each(Object.keys(runtimes))('answers a cut upload 400 under %s', async (runtime) => {
  const [command, ...args] = runtimes[runtime]!;
  const { stdout } = await promisify(execFile)(command!, [...args, 'test/runtimes/scripts/fetch-cut-upload.ts'], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
  });
  expect(stdout.trim()).toBe('HTTPBadRequest 400');
});
