/**
 * Start-up cost of each entry point of package.json's `exports`, as an installed tsgi loads it
 * (dist/, built first): for each, a fresh Node process imports `node:http` (every server does),
 * then the entry point, and reports the import's wall time (ms), the process's resident memory
 * afterwards and V8's heap (used, and reserved: `heapTotal`, which the young generation's growth
 * while modules load shows in), all after a full collection, so what stays. Each entry runs
 * `--rounds` times (default 7), interleaved with the others; the table gives medians. Fresh processes each time and no compile cache
 * (`NODE_DISABLE_COMPILE_CACHE=1`): what a first start, a serverless cold start or a new worker
 * pays. About 30 s.
 *
 * ```sh
 * node bench/startup.ts [--rounds N]
 * ```
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildDist, limitTime } from './memory-process.ts';
import { median, nodeLabel } from './stats.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const EXPORTS = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | { default: string }> }).exports;
/** `tsgi`, `tsgi/middleware`, … → their dist/ file; `''` for node:http alone. */
const ENTRIES: Record<string, string> = { 'node:http alone': '' };
for (const [subpath, target] of Object.entries(EXPORTS)) {
  if (typeof target !== 'string') ENTRIES[subpath === '.' ? 'tsgi' : `tsgi/${subpath.slice(2)}`] = target.default;
}

const roundsFlag = process.argv.indexOf('--rounds');
const rounds = roundsFlag === -1 ? 7 : Number(process.argv[roundsFlag + 1]);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number of rounds, at least 1');

interface Sample {
  ms: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
}

/** One fresh process: a {@link Sample} for importing `file` (nothing but node:http when empty). */
function measure(file: string): Sample {
  const load = file ? `await import(${JSON.stringify(path.join(ROOT, file))});` : '';
  const code = `import 'node:http'; const t = performance.now(); ${load} const ms = performance.now() - t; globalThis.gc(); const { rss, heapUsed, heapTotal } = process.memoryUsage(); console.log(JSON.stringify({ ms, rss, heapUsed, heapTotal }));`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], {
    cwd: ROOT,
    env: { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' },
    encoding: 'utf8',
  });
  return JSON.parse(out) as Sample;
}

limitTime('startup', 240);
buildDist();
console.log(`start-up — import time, RSS and V8 heap after import, medians of ${rounds} fresh processes each (${nodeLabel()})`);
const results = new Map<string, Sample[]>(Object.keys(ENTRIES).map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, file] of Object.entries(ENTRIES)) results.get(name)!.push(measure(file));
}
console.log(`${'entry point'.padEnd(18)} ${'import ms'.padStart(10)} ${'RSS MB'.padStart(8)} ${'heap used MB'.padStart(13)} ${'heap total MB'.padStart(14)}`);
const mb = (runs: Sample[], key: 'rss' | 'heapUsed' | 'heapTotal', width: number): string => (median(runs.map((r) => r[key])) / 1e6).toFixed(1).padStart(width);
for (const [name, runs] of results) {
  const ms = name === 'node:http alone' ? '' : median(runs.map((r) => r.ms)).toFixed(0);
  console.log(`${name.padEnd(18)} ${ms.padStart(10)} ${mb(runs, 'rss', 8)} ${mb(runs, 'heapUsed', 13)} ${mb(runs, 'heapTotal', 14)}`);
}
