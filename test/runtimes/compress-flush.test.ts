/**
 * `compress` under `toFetchHandler` on Bun and Deno flushes each chunk of a streamed body as it
 * comes (docs/middleware-compress.md). Their `node:zlib` streams' `read()` answers one buffered
 * chunk, not all of them as Node's does, so a gzip or deflate answer sent only its header
 * first and each chunk's bytes one chunk late. Runs test/runtimes/scripts/compress-flush.ts
 * over a real socket on 127.0.0.1.
 */
import { expect, it } from 'vitest';
import { SCRIPT_RUNTIMES, runScript } from './run-script.ts';

it.each(SCRIPT_RUNTIMES)('sends the first chunk before the second is made under %s', async (runtime) => {
  const stdout = await runScript(runtime, 'compress-flush.ts');
  expect(stdout.trim().split('\n')).toEqual(['gzip "first\\n"', 'deflate "first\\n"', 'br "first\\n"']);
});
