/**
 * A client that hangs up in the middle of its upload to a raw app that reads `tsgi.input`
 * itself and lets the failure propagate, under `toFetchHandler` on Bun and Deno: the client's
 * doing, as under `serve()`: neither `errors` nor the handler logs an app error, and
 * `accessLog` writes `499 close` for the app's failure. Deno fails the body with `BadResource`, which the adapter
 * turns into a premature close. Runs test/runtimes/scripts/fetch-cut-upload-raw.ts over a real
 * socket on 127.0.0.1.
 */
import { expect, it } from 'vitest';
import { SCRIPT_RUNTIMES, runScript } from './run-script.ts';

it.each(SCRIPT_RUNTIMES)('logs a raw app’s cut upload as the client’s close, not a 500, under %s', async (runtime) => {
  const stdout = await runScript(runtime, 'fetch-cut-upload-raw.ts');
  const [underErrors, bare] = stdout.trim().split('\n');
  expect(bare).toBe('bare: access: 499 close');
  // Under errors the app answers errors' 500, unlogged; Deno, whose request signal does not abort
  // for a client gone mid-upload, cannot tell that nobody reads it (accessLog: 500 end).
  expect(underErrors).toMatch(/^errors: access: (499 close|500 end)$/);
});
