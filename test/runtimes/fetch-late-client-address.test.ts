/**
 * `toFetchHandler` on Bun and Deno: the client's address is read of the runtime when the
 * request comes in, so an app that reads `req.remoteAddr` once its answer is over (a log line
 * or a cleanup run after the answer, the `finally` of a stream whose client left) still gets
 * it. Read then of the runtime, Bun 1.4 answered `null` (`server.requestIP()` knows no finished
 * request) and Deno 2.9 threw `TypeError: Request closed` (`info.remoteAddr`). Runs
 * test/runtimes/scripts/fetch-late-client-address.ts over a real socket on 127.0.0.1.
 */
import { expect, it } from 'vitest';
import { SCRIPT_RUNTIMES, runScript } from './run-script.ts';

it.each(SCRIPT_RUNTIMES)('knows the client address after the answer under %s', async (runtime) => {
  const stdout = await runScript(runtime, 'fetch-late-client-address.ts');
  expect(stdout.trim().split('\n')).toEqual(['whole 127.0.0.1 port', 'stream 127.0.0.1 port']);
});
