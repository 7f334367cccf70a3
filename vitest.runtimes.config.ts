import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The conformance suite across servers and runtimes: `npm run test:runtimes`. */
export default defineConfig({
  resolve: {
    alias: [
      { find: /^tsgi$/, replacement: source('./src/index.ts') },
      { find: /^tsgi\/(middleware|http|forms|node|fetch)$/, replacement: source('./src/entries/$1.ts') },
    ],
  },
  test: {
    include: ['test/runtimes/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // One server at a time: the rows share two CPUs, and the 50 MB uploads are timed.
    fileParallelism: false,
  },
});
