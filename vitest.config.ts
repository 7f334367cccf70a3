import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The package's own entry points, from source (package.json `exports`, condition `tsgi-source`). */
export const alias = [
  { find: /^tsgi$/, replacement: source('./src/index.ts') },
  { find: /^tsgi\/(middleware|http|forms|node|fetch|proxy|routing|testing)$/, replacement: source('./src/entries/$1.ts') },
];

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/browser/**', 'test/runtimes/**', 'test/nginx/**', 'test/cli-workers.test.ts', 'node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
