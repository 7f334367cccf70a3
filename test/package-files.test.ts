/**
 * What the tarball holds (`npm pack --dry-run`, which builds dist/ as `npm pack` does): every
 * source map in it names sources the tarball also holds, so a consumer's stack traces, its
 * debugger and its editor's "Go to Definition" (through the declaration maps) land on files that
 * exist.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

it('ships the sources its source maps and declaration maps name', async () => {
  const { stdout } = await promisify(execFile)(npm, ['pack', '--dry-run', '--json'], { cwd: root, maxBuffer: 16 << 20 });
  const files = new Set((JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path));
  const maps = [...files].filter((f) => f.endsWith('.map'));
  expect(maps.length).toBeGreaterThan(0);
  const missing = new Set<string>();
  for (const map of maps) {
    const { sources } = JSON.parse(readFileSync(path.join(root, map), 'utf8')) as { sources: string[] };
    for (const source of sources) {
      const shipped = path.posix.join(path.posix.dirname(map), source);
      if (!files.has(shipped)) missing.add(shipped);
    }
  }
  expect([...missing].slice(0, 5)).toEqual([]);
}, 120_000);
