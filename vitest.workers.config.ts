import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * `npm run test:workers`: `tsgi serve --workers` end to end (test/cli-workers.test.ts), run by
 * .ci/run after the main suite. Each test starts a primary and its workers and drives them
 * through signals, crashes and rolling replacements, about two minutes in all, so it has a
 * script of its own and `npm test` stays under five minutes.
 */
export default defineConfig({
  resolve: base.resolve,
  test: { include: ['test/cli-workers.test.ts'], testTimeout: base.test?.testTimeout, hookTimeout: base.test?.hookTimeout },
});
