/**
 * Every file of examples/ type-checks under the flags a strict consumer adds to the README's
 * tsconfig: `exactOptionalPropertyTypes` (which docs/middleware.md, "A middleware package",
 * tells a package's options to be written for, pointing at examples/rate-limit.ts) and
 * `noUncheckedIndexedAccess`. The repository's own tsconfig.json has neither. Only the
 * examples' own errors count: `tsgi` resolves to src/ here (the `tsgi-source` condition), and
 * a consumer checks the shipped declarations, not src/ (test/package.test.ts checks those under
 * `exactOptionalPropertyTypes`).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const tsc = path.join(root, 'node_modules', '.bin', 'tsc');

describe('examples/ under a strict consumer tsconfig', () => {
  it('type-checks with exactOptionalPropertyTypes and noUncheckedIndexedAccess', async () => {
    const examples = (await readdir(path.join(root, 'examples'))).filter((f) => f.endsWith('.ts')).map((f) => path.join(root, 'examples', f));
    expect(examples.length).toBeGreaterThan(20);
    const dir = await mkdtemp(path.join(tmpdir(), 'tsgi-examples-strict-'));
    try {
      const config = path.join(dir, 'tsconfig.json');
      await writeFile(
        config,
        JSON.stringify({
          extends: path.join(root, 'tsconfig.json'),
          compilerOptions: { exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, noEmit: true, typeRoots: [path.join(root, 'node_modules', '@types')] },
          files: examples,
          include: [],
        }),
      );
      const output = await promisify(execFile)(tsc, ['-p', config], { cwd: root, maxBuffer: 16 << 20 }).then(
        () => '',
        (error: { stdout?: string }) => error.stdout ?? String(error),
      );
      expect(output).not.toMatch(/error TS(2688|5\d{3}|6\d{3})/); // the configuration itself, a file not found
      const ours = output.split('\n').filter((line) => line.startsWith('examples/'));
      expect(ours.join('\n')).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
