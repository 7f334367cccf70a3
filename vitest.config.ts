import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The package's own entry points, from source (package.json `exports`, condition `tsgi-source`). */
export const alias = [
  { find: /^tsgi$/, replacement: source('./src/index.ts') },
  { find: /^tsgi\/(middleware|http|forms|node|fetch|proxy|routing|testing)$/, replacement: source('./src/entries/$1.ts') },
];

/**
 * `tsgi serve`'s process supervision end to end (`--workers`, `--reload`): each test starts a
 * supervisor and its children and drives them through signals, crashes, restarts and file
 * changes, four minutes of waiting in all, so they run in `npm run test:workers`
 * (vitest.workers.config.ts, which .ci/run calls) and `npm test` stays under five minutes.
 */
export const SUPERVISION = ['test/cli-workers.test.ts', 'test/cli-reload.test.ts'];

/**
 * `tsgi serve`'s flags end to end, one CLI process per case (TLS files, Unix sockets, env
 * files, client certificates…): the two slowest files of the suite, 60–70 s each on two
 * CPUs, so they run in `npm run test:cli` (vitest.cli.config.ts, which .ci/run calls on Node
 * 24 and 22) and `npm test` stays under five minutes.
 */
export const CLI_END_TO_END = ['test/cli.test.ts', 'test/cli-flags.test.ts', 'test/cli-client-certificates.test.ts', 'test/cli-uds-mode.test.ts', 'test/cli-start-line.test.ts', 'test/cli-foreign-cluster.test.ts', 'test/scenario-ops.test.ts'];

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/browser/**', 'test/runtimes/**', 'test/nginx/**', ...SUPERVISION, ...CLI_END_TO_END, 'node_modules/**'],
    testTimeout: 20_000,
    // Vitest's default (CPUs − 1) runs one file at a time on a 2-CPU machine. Most files wait
    // on sockets and child processes (the CLI suites alone are 100 s of waiting), so two files
    // at once took the suite there from 4.6 to 3.6 min, every test passing.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    hookTimeout: 60_000,
  },
});
