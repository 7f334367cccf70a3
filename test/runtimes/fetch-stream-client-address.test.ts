/**
 * `accessLog` under `toFetchHandler` on Bun and Deno: the line of an event stream whose client
 * hung up names the client's address, as under `serve()`, though the runtime is asked for it
 * only once the client is gone (Bun's `server.requestIP()` answers `null` then). Runs
 * test/runtimes/scripts/fetch-stream-client-address.ts over a real socket on 127.0.0.1.
 */
import { expect, it } from 'vitest';
import { SCRIPT_RUNTIMES, runScript } from './run-script.ts';

it.each(SCRIPT_RUNTIMES)('logs the address of a stream client that left under %s', async (runtime) => {
  const stdout = await runScript(runtime, 'fetch-stream-client-address.ts');
  expect(stdout.trim()).toBe('127.0.0.1 200 close');
});
