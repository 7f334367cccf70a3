import { defineConfig } from 'vitest/config';
import { alias } from './vitest.config.ts';

/** The conformance suite across servers and runtimes: `npm run test:runtimes`. */
export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/runtimes/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // One server at a time: the rows share two CPUs, and the 50 MB uploads are timed.
    fileParallelism: false,
  },
});
