/**
 * `toFetchHandler` on Bun and Deno and an HTTP/1.0 request without Host (a health check's), over
 * a real socket: the app sees the path it was asked for. Bun hands such a request a URL of its
 * path alone (`/health`), which the environ read as scheme and host. Runs
 * test/runtimes/scripts/fetch-no-host.ts. Under `trustedHosts`, such a request is let through, as
 * by `serve()`: Deno's URL names `localhost` and its port, which is no `Host` the client sent.
 */
import { expect, it } from 'vitest';
import { SCRIPT_RUNTIMES, runScript } from './run-script.ts';

it.each(SCRIPT_RUNTIMES)('gives an HTTP/1.0 request without Host its own path under %s', async (runtime) => {
  const stdout = await runScript(runtime, 'fetch-no-host.ts');
  const lines = stdout.trim().split('\n');
  expect(lines.map((line) => line.replace(/^HTTP\/1\.[01] /, ''))).toEqual([
    '200 OK | /api/users/1 x=1 http /api/users/1',
    '200 OK | /health  http /health',
    // Under trustedHosts, a request without Host is let through, as by serve(): no Host is made up.
    '200 OK | host -',
    '200 OK | host example.com',
    '400 Bad Request | Bad Request: untrusted Host header',
  ]);
});
