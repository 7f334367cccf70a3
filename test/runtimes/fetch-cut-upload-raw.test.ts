/**
 * A client that hangs up in the middle of its upload to a raw app that reads `tsgi.input`
 * itself and lets the failure propagate, under `toFetchHandler` on Bun, Deno and workerd: the client's
 * doing, as under `serve()`: neither `errors` nor the handler logs an app error, and
 * `accessLog` writes `499 close` for the app's failure; so it does for an app that reads the
 * body with `req.bytes()`, which answers the cut `400` itself. Deno fails the body with `BadResource`,
 * workerd with `Network connection lost.`, which the adapter turns into a premature close. Runs
 * test/runtimes/scripts/fetch-cut-upload-raw.ts (Bun, Deno) and the Worker
 * test/runtimes/scripts/workerd-cut-upload-raw.ts over a real socket on 127.0.0.1.
 */
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { startWorkerd } from './rows.ts';
import { SCRIPT_RUNTIMES, runScript } from './run-script.ts';

it.each(SCRIPT_RUNTIMES)('logs a raw app’s cut upload as the client’s close, not a 500, under %s', async (runtime) => {
  const stdout = await runScript(runtime, 'fetch-cut-upload-raw.ts');
  expect(stdout.trim().split('\n')).toEqual(['errors: access: 499 close', 'bare: access: 499 close', 'bytes: access: 499 close']);
});

it('logs a raw app’s cut upload as the client’s close, not a 500, under workerd', async () => {
  const server = await startWorkerd(fileURLToPath(new URL('./scripts/workerd-cut-upload-raw.ts', import.meta.url)), '/logged');
  try {
    const { hostname, port } = new URL(server.origin);
    for (const path of ['/errors', '/bare', '/bytes']) {
      const socket = net.connect(Number(port), hostname, () => {
        socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n`);
        socket.write('x'.repeat(1000));
        setTimeout(() => socket.destroy(), 200);
      });
      socket.on('error', () => undefined);
    }
    let logged: string[] = [];
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 50))) {
      logged = (await (await fetch(`${server.origin}/logged`)).text()).split('\n').filter(Boolean).sort();
      if (logged.filter((line) => line.includes(': access: ')).length === 3) break;
    }
    expect(logged).toEqual(['/bare: access: 499 close', '/bytes: access: 499 close', '/errors: access: 499 close']);
  } finally {
    await server.stop();
  }
});
