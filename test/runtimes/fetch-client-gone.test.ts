/**
 * `accessLog` under `toFetchHandler` on Bun and Deno, an app that never answers, a client that
 * hangs up: the `499 close` line is written when the client leaves (the runtime aborts the
 * request's signal), not only once the app settles, as under `serve()`. Runs
 * test/runtimes/scripts/fetch-client-gone.ts over a real socket on 127.0.0.1.
 */
import { expect, it } from 'vitest';
import { SCRIPT_RUNTIMES, runScript } from './run-script.ts';

it.each(SCRIPT_RUNTIMES)('logs 499 close at once when the client of a stuck app leaves, and 200 when it stays, under %s', async (runtime) => {
  const stdout = await runScript(runtime, 'fetch-client-gone.ts');
  // A client that stays is logged with its status: the signal does not abort under it.
  expect(stdout.trim().split('\n')).toEqual(['499 close', '200 end']);
});
