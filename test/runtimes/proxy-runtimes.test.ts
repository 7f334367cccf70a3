/**
 * `proxy` on Bun and Deno (docs/deployment.md#bun): Bun answers a bare `import 'undici'` with a
 * built-in stand-in whose `Pool` has no `dispatch`, so the proxy must load the real package.
 * Runs test/runtimes/scripts/proxy-fetch.ts against an upstream on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let upstream: http.Server;
let url = '';

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => res.end(`${req.method} ${req.url} ${body}`));
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => upstream.close());

const runtimes: Record<string, string[]> = {
  bun: [path.join(ROOT, 'node_modules/.bin/bun'), '--conditions=tsgi-source'],
  deno: [path.join(ROOT, 'node_modules/deno/deno'), 'run', '--allow-net', '--allow-env', '--allow-read', '--no-prompt', '--conditions=tsgi-source'],
};

it.each(Object.keys(runtimes))('forwards requests to an upstream under %s', async (runtime) => {
  const [command, ...args] = runtimes[runtime]!;
  const { stdout } = await promisify(execFile)(command!, [...args, 'test/runtimes/scripts/proxy-fetch.ts', url], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
  });
  expect(stdout.trim().split('\n')).toEqual(['200 GET /hello ', '200 POST /echo ping']);
});
