import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // The package's own entry points, from source (package.json `exports`, condition `tsgi-source`).
    alias: [
      { find: /^tsgi$/, replacement: source('./src/index.ts') },
      { find: /^tsgi\/(middleware|http|forms|node)$/, replacement: source('./src/entries/$1.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/browser/**', 'test/nginx/**', 'node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
