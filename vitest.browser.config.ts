import { defineConfig } from 'vitest/config';
import { alias } from './vitest.config.ts';

/** The browser suite (headless Chromium): `npm run test:browser`. */
export default defineConfig({
  resolve: { alias },
  test: { include: ['test/browser/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
});
