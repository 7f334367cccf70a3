/**
 * `tsgi.signal` (`req.signal`) under `toFetchHandler(app, { shutdownSignal })` on Bun and
 * Deno, served by the runtime over a real socket on 127.0.0.1: when the shutdown ends an event
 * stream, plain or under `compress`, the signal aborts with `server shutting down`, so a source
 * waiting on it alone stops and its `finally` runs, and the runtime's graceful shutdown is not
 * held (as under `serve()`: test/node-shutdown-signal.test.ts). Runs
 * test/runtimes/scripts/fetch-shutdown-signal.ts.
 */
import { expect, it } from 'vitest';
import { SCRIPT_RUNTIMES, runScript } from './run-script.ts';

it.each(SCRIPT_RUNTIMES)('aborts req.signal of a plain and a coded event stream the shutdown ends, under %s', async (runtime) => {
  const result = JSON.parse((await runScript(runtime, 'fetch-shutdown-signal.ts')).trim()) as Record<string, unknown>;
  expect(result).toMatchObject({
    waited: 'both',
    shutdown: 'done',
    plain: { encoding: null, text: 'data: one\n\n', outcome: 'ended', reason: 'server shutting down', cleaned: true },
    // The runtime's fetch decodes the gzip stream compress finished.
    coded: { encoding: 'gzip', text: 'data: one\n\n', outcome: 'ended', reason: 'server shutting down', cleaned: true },
  });
  expect(result.took).toBeLessThan(2000);
});
