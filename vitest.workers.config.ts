import { defineConfig } from 'vitest/config';
import base, { SUPERVISION } from './vitest.config.ts';

/**
 * `npm run test:workers`: `tsgi serve --workers` and `--reload` end to end
 * (test/cli-workers.test.ts, test/cli-reload.test.ts), run by .ci/run after the main suite.
 * Each test starts a supervisor and its children and drives them through signals, crashes,
 * rolling replacements and file changes, about four minutes in all, so they have a script of
 * their own and `npm test` stays under five minutes. One file at a time: their timings (a
 * restart's debounce, a worker's replacement) are asserted, and two at once on two CPUs would
 * stretch them.
 */
export default defineConfig({
  resolve: base.resolve,
  test: { include: SUPERVISION, maxWorkers: 1, testTimeout: base.test?.testTimeout, hookTimeout: base.test?.hookTimeout },
});
