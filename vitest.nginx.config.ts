import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * `npm run test:nginx`: tsgi behind a real nginx (test/nginx/), run by .ci/run after the main
 * suite. Its tests share one nginx and two tsgi instances, so they are one file, run in order.
 */
export default defineConfig({
  resolve: base.resolve,
  test: { include: ['test/nginx/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
});
