/**
 * A client that hangs up in the middle of its upload, under `toFetchHandler` on Bun and Deno:
 * the body readers answer it as on Node, a `400` (HTTPBadRequest: the body could not be read
 * completely), not a runtime error that `errors` logs as a 500. Deno fails the body stream
 * with `BadResource`, which no Node error code names. Runs
 * test/runtimes/scripts/fetch-cut-upload.ts over a real socket on 127.0.0.1.
 */
import { expect, it } from 'vitest';
import { SCRIPT_RUNTIMES, runScript } from './run-script.ts';

it.each(SCRIPT_RUNTIMES)('answers a cut upload 400 under %s', async (runtime) => {
  const stdout = await runScript(runtime, 'fetch-cut-upload.ts');
  expect(stdout.trim()).toBe('HTTPBadRequest 400');
});
