import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The browser suite (headless Chromium): `npm run test:browser`. */
export default defineConfig({
  resolve: {
    alias: [{ find: /^tsgi$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }],
  },
  test: { include: ['test/browser/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
});
