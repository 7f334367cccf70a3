/**
 * Start-up cost of each entry point, as an installed tsgi loads it (dist/, built first): for
 * each, a fresh Node process imports `node:http` (every server does), then the entry point, and
 * reports the import's wall time (ms) and the process's resident memory afterwards (after a
 * full collection, so what stays). Each entry runs `--rounds` times (default 7), interleaved
 * with the others; the table gives medians. Fresh processes each time and no compile cache
 * (`NODE_DISABLE_COMPILE_CACHE=1`): what a first start, a serverless cold start or a new worker
 * pays. About 15 s.
 *
 * ```sh
 * node bench/startup.ts [--rounds N]
 * ```
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { buildDist, limitTime } from './memory-process.ts';
import { median, nodeLabel } from './stats.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const ENTRIES: Record<string, string> = {
  'node:http alone': '',
  tsgi: 'dist/index.js',
  'tsgi/middleware': 'dist/entries/middleware.js',
  'tsgi/routing': 'dist/entries/routing.js',
  'tsgi/proxy': 'dist/entries/proxy.js',
  'tsgi/testing': 'dist/entries/testing.js',
  'tsgi/fetch': 'dist/entries/fetch.js',
};

const roundsFlag = process.argv.indexOf('--rounds');
const rounds = roundsFlag === -1 ? 7 : Number(process.argv[roundsFlag + 1]);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number of rounds, at least 1');

/** One fresh process: `{ ms, rss }` for importing `file` (nothing but node:http when empty). */
function measure(file: string): { ms: number; rss: number } {
  const load = file ? `await import(${JSON.stringify(path.join(ROOT, file))});` : '';
  const code = `import 'node:http'; const t = performance.now(); ${load} const ms = performance.now() - t; globalThis.gc(); console.log(JSON.stringify({ ms, rss: process.memoryUsage().rss }));`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], {
    cwd: ROOT,
    env: { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' },
    encoding: 'utf8',
  });
  return JSON.parse(out) as { ms: number; rss: number };
}

limitTime('startup', 120);
buildDist();
console.log(`start-up — import time and RSS after import, medians of ${rounds} fresh processes each (${nodeLabel()})`);
const results = new Map<string, Array<{ ms: number; rss: number }>>(Object.keys(ENTRIES).map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, file] of Object.entries(ENTRIES)) results.get(name)!.push(measure(file));
}
console.log(`${'entry point'.padEnd(18)} ${'import ms'.padStart(10)} ${'RSS MB'.padStart(8)}`);
for (const [name, runs] of results) {
  const ms = name === 'node:http alone' ? '' : median(runs.map((r) => r.ms)).toFixed(0);
  console.log(`${name.padEnd(18)} ${ms.padStart(10)} ${(median(runs.map((r) => r.rss)) / 1e6).toFixed(1).padStart(8)}`);
}
