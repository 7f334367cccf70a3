/**
 * `compress` under `toFetchHandler` on Bun and Deno flushes each chunk of a streamed body as it
 * comes (docs/middleware-compress.md). Their `node:zlib` streams' `read()` answers one buffered
 * chunk, not all of them as Node's does, so a gzip or deflate answer sent only its header
 * first and each chunk's bytes one chunk late. Runs test/runtimes/scripts/compress-flush.ts
 * over a real socket on 127.0.0.1.
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

it.each(Object.keys(runtimes))('sends the first chunk before the second is made under %s', async (runtime) => {
  const [command, ...args] = runtimes[runtime]!;
  const { stdout } = await promisify(execFile)(command!, [...args, 'test/runtimes/scripts/compress-flush.ts'], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
  });
  expect(stdout.trim().split('\n')).toEqual(['gzip "first\\n"', 'deflate "first\\n"', 'br "first\\n"']);
});
