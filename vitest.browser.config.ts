import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The browser suite (headless Chromium): `npm run test:browser`. */
export default defineConfig({
  resolve: {
    alias: [
      { find: /^tsgi$/, replacement: source('./src/index.ts') },
      { find: /^tsgi\/(middleware|http|forms|node|fetch)$/, replacement: source('./src/entries/$1.ts') },
    ],
  },
  test: { include: ['test/browser/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
});
