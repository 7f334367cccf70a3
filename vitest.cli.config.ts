import { defineConfig } from 'vitest/config';
import base, { CLI_END_TO_END } from './vitest.config.ts';

/**
 * `npm run test:cli`: `tsgi serve`'s flags end to end (the files of `CLI_END_TO_END` in
 * vitest.config.ts), run by .ci/run after the main suite, on Node 24 and on Node 22 (`npm run test:node22 -- --config vitest.cli.config.ts`).
 * Each case starts the CLI in a child process and waits for it, about two minutes of waiting in
 * all, so they have a script of their own and `npm test` stays under five minutes. One file at
 * a time, and a minute per test: each case starts CLI processes, whose start-up is CPU work
 * (slower on Node 22), and two files at once on two CPUs pushed a start past its deadline.
 */
export default defineConfig({
  resolve: base.resolve,
  test: { include: CLI_END_TO_END, maxWorkers: 1, testTimeout: 60_000, hookTimeout: base.test?.hookTimeout },
});
