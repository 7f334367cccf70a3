/**
 * Deno's graceful `server.shutdown()` with an event stream open: `toFetchHandler`'s
 * `shutdownSignal` ends the stream whole, so the shutdown finishes (docs/deployment.md#deno).
 * Runs test/runtimes/scripts/deno-shutdown.ts, a second or two.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

it('server.shutdown() finishes once the signal ends the event stream, which the client reads whole', async () => {
  const { stdout } = await promisify(execFile)(
    path.join(ROOT, 'node_modules/deno/deno'),
    ['run', '--allow-net', '--no-prompt', '--conditions=tsgi-source', 'test/runtimes/scripts/deno-shutdown.ts'],
    { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000 },
  );
  const result = JSON.parse(stdout.trim()) as { shutdown: string; took: number; outcome: string; whole: boolean; cleaned: boolean };
  expect(result).toMatchObject({ shutdown: 'done', outcome: 'ended', whole: true, cleaned: true });
  expect(result.took).toBeLessThan(2000);
}, 40_000);
