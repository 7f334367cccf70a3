/**
 * Deno's permissions: a tsgi app that reads forms needs `--allow-net` alone until a file is
 * spooled to disk (docs/deployment.md#deno). Runs test/runtimes/scripts/deno-forms.ts, which
 * parses forms through `toFetchHandler` without a server, so it takes a second or two; and
 * test/runtimes/scripts/deno-debug.ts, the debug page of `errors()`.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

it('parses urlencoded and multipart forms under --allow-net alone (no --allow-env for TMPDIR)', async () => {
  const { stdout } = await promisify(execFile)(
    path.join(ROOT, 'node_modules/deno/deno'),
    ['run', '--allow-net', '--no-prompt', '--conditions=tsgi-source', 'test/runtimes/scripts/deno-forms.ts'],
    { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } },
  );
  expect(stdout.trim().split('\n')).toEqual(['200 {"fields":{"a":"1"},"files":[]}', '200 {"fields":{"a":"1"},"files":[5]}']);
});

it('builds errors(app, { debug: true }) and serves its page under --allow-net alone (NODE_ENV unreadable: no warning, no throw)', async () => {
  const { stdout } = await promisify(execFile)(
    path.join(ROOT, 'node_modules/deno/deno'),
    ['run', '--allow-net', '--no-prompt', '--conditions=tsgi-source', 'test/runtimes/scripts/deno-debug.ts'],
    { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } },
  );
  expect(stdout.trim()).toBe('500 true');
});
