/**
 * The report of a benchmark run (bench/run.ts): per route, each target's median requests/s,
 * spread, latency, server CPU per request and ratios to the baseline on the same route; the
 * ratio matrix (target × route); peak RSS per target; the targets of issue 14; tsgi against
 * Hono on Bun and Deno.
 *
 * @module
 */
import type { Sample } from './measure.ts';
import { RUNTIME_PAIRS } from './runtime-targets.ts';
import { fmt, median, pct, variation } from './stats.ts';
import { type Group, type Unit, unitName } from './units.ts';

/** What a run measured: the samples of each unit, by unit name, one per round. */
export type Samples = ReadonlyMap<string, readonly Sample[]>;

/** The median of `key` over the samples, if every sample has it. */
export function medianOf(list: readonly Sample[], key: 'rps' | 'cpuPerRequest' | 'kernelPerRequest' | 'elu' | 'p99'): number | undefined {
  return list.every((s) => s[key] !== undefined) ? median(list.map((s) => s[key]!)) : undefined;
}

/** The ratios of a unit to its baseline: by medians, by CPU per request, and round by round. */
interface Ratios {
  byMedian: number;
  cpu: number | undefined;
  pairs: number[];
  paired: number;
}

function ratiosOf(unit: Unit, samples: Samples): Ratios | undefined {
  if (unit.baseline === undefined) return undefined;
  const list = samples.get(unit.name)!;
  const base = samples.get(unit.baseline)!;
  const cpu = medianOf(list, 'cpuPerRequest');
  const baseCpu = medianOf(base, 'cpuPerRequest');
  const pairs = list.map((s, i) => s.rps / base[i]!.rps);
  return {
    byMedian: median(list.map((s) => s.rps)) / median(base.map((s) => s.rps)),
    cpu: cpu && baseCpu ? baseCpu / cpu : undefined,
    pairs,
    paired: median(pairs),
  };
}

const num = (n: number | undefined, digits: number) => (n === undefined ? '-' : n.toFixed(digits));

/** One table per route (and one for the single-URL targets), then the per-round ratios. */
export function printTables(groups: readonly Group[], samples: Samples): number {
  let failures = 0;
  const w = Math.max(8, ...groups.flatMap((g) => g.units.map((u) => u.target.name.length)));
  for (const group of groups) {
    console.log(
      `\n${(group.route ? `/${group.route}` : 'target').padEnd(w)}  median req/s      min      max     CV  p50/p99 ms  CPU µs/req  kernel µs  loop busy  ratio  CPU ratio  paired ratio (min–max)`,
    );
    for (const unit of group.units) {
      const list = samples.get(unit.name)!;
      const rps = list.map((s) => s.rps);
      const problems = list.reduce((a, s) => a + s.problems, 0);
      failures += problems;
      const r = ratiosOf(unit, samples);
      const elu = medianOf(list, 'elu');
      console.log(
        `${unit.target.name.padEnd(w)}  ${fmt(median(rps)).padStart(12)} ${fmt(Math.min(...rps)).padStart(8)} ${fmt(Math.max(...rps)).padStart(8)} ` +
          `${pct(variation(rps)).padStart(6)}  ${`${median(list.map((s) => s.p50))}/${median(list.map((s) => s.p99))}`.padStart(10)}  ` +
          `${num(medianOf(list, 'cpuPerRequest'), 1).padStart(10)}  ${num(medianOf(list, 'kernelPerRequest'), 1).padStart(9)}  ${(elu === undefined ? '-' : pct(elu)).padStart(9)}  ` +
          `${num(r?.byMedian, 3).padStart(5)}  ${num(r?.cpu, 3).padStart(9)}  ` +
          (r ? `${r.paired.toFixed(3)} (${Math.min(...r.pairs).toFixed(2)}–${Math.max(...r.pairs).toFixed(2)})` : '') +
          (problems > 0 ? `  (${problems} errors/timeouts/non-2xx)` : ''),
      );
    }
  }
  const paired = groups.flatMap((g) => g.units).filter((u) => u.baseline !== undefined);
  if (paired.length > 0) console.log('\nper-round ratios:');
  const pw = Math.max(0, ...paired.map((u) => `${u.name} / ${u.baseline}`.length));
  for (const unit of paired) {
    console.log(`  ${`${unit.name} / ${unit.baseline}`.padEnd(pw)}  ${ratiosOf(unit, samples)!.pairs.map((r) => r.toFixed(3)).join(' ')}`);
  }
  return failures;
}

/**
 * The matrix the issue asks for: per route target (rows) and route (columns), the median of
 * the per-round ratios to node, the CPU ratio in parentheses, and the median p99 latency.
 */
export function printMatrix(groups: readonly Group[], samples: Samples): void {
  const routes = groups.filter((g) => g.route !== undefined);
  if (routes.length === 0 || !routes[0]!.units.some((u) => u.baseline !== undefined)) return;
  const rows = routes[0]!.units.map((u) => u.target.name);
  const w = Math.max(8, ...rows.map((r) => r.length));
  const col = 22;
  console.log(`\nratio to node on the same route: paired-round median (CPU ratio), p99 ms`);
  console.log(`${'target'.padEnd(w)}  ${routes.map((g) => `/${g.route}`.padEnd(col)).join('')}`);
  for (const row of rows) {
    const cells = routes.map((g) => {
      const unit = g.units.find((u) => u.target.name === row)!;
      const r = ratiosOf(unit, samples);
      const p99 = medianOf(samples.get(unit.name)!, 'p99');
      return `${r ? `${r.paired.toFixed(2)} (${num(r.cpu, 2)})` : '1'}, ${num(p99, 0)}`.padEnd(col);
    });
    console.log(`${row.padEnd(w)}  ${cells.join('')}`);
  }
}

/**
 * Each target's peak resident set size over the run, and its RSS once started (its own
 * process; child mode only).
 */
export function printPeakRss(memory: ReadonlyMap<string, { peak: number; start: number }>): void {
  if (memory.size === 0) return;
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  const w = Math.max(8, ...[...memory.keys()].map((n) => n.length));
  console.log(`\n${'target'.padEnd(w)}  peak RSS MB  RSS at start MB`);
  for (const [name, { peak, start }] of memory) console.log(`${name.padEnd(w)}  ${mb(peak).padStart(11)}  ${mb(start).padStart(15)}`);
}

/** The targets of issue 14 that this run measured, met or not (by the paired-round ratio). */
export function printIssueTargets(groups: readonly Group[], samples: Samples): void {
  const units = new Map(groups.flatMap((g) => g.units.map((u) => [u.name, u] as const)));
  const paired = (target: string, route: 'hello' | 'stack' | 'stream' | 'echo') => {
    const unit = units.get(unitName(target, route));
    return unit && ratiosOf(unit, samples)?.paired;
  };
  const lines: string[] = [];
  const atLeast = (target: string, route: 'hello' | 'stack', min: number) => {
    const r = paired(target, route);
    if (r !== undefined) lines.push(`${unitName(target, route)} ≥ ${min}: ${r.toFixed(3)} ${r >= min ? 'met' : 'NOT met'}`);
  };
  atLeast('tsgi-raw', 'hello', 0.97);
  atLeast('tsgi-app', 'hello', 0.95);
  atLeast('tsgi-raw', 'stack', 0.95);
  atLeast('tsgi-app', 'stack', 0.9);
  atLeast('tsgi-hooks', 'stack', 0.9);
  // Against the floor of any five awaited layers (`node-await`, when measured), round by round.
  const layers = samples.get(unitName('tsgi-app', 'stack'));
  const floor = samples.get(unitName('node-await', 'stack'));
  if (layers && floor) {
    const ratio = median(layers.map((s, i) => s.rps / floor[i]!.rps));
    lines.push(`tsgi-app /stack against node-await /stack (five awaited calls, nothing else): ${ratio.toFixed(3)}`);
  }
  const ahead = (route: 'stack' | 'stream' | 'echo', peers: readonly string[], target = 'tsgi-app') => {
    const own = paired(target, route);
    const measured = peers.filter((p) => paired(p, route) !== undefined);
    if (own === undefined || measured.length === 0) return;
    const behind = measured.filter((p) => paired(p, route)! >= own);
    lines.push(
      `${target} /${route} ahead of ${measured.join(', ')}: ${behind.length === 0 ? 'met' : `NOT met (behind or level: ${behind.map((p) => `${p} ${paired(p, route)!.toFixed(3)}`).join(', ')})`}`,
    );
  };
  ahead('stack', ['hono', 'fastify']);
  ahead('stack', ['hono', 'fastify'], 'tsgi-hooks');
  ahead('stream', ['fastify', 'hono', 'h3', 'koa', 'express']);
  ahead('echo', ['fastify', 'hono', 'h3', 'koa', 'express']);
  if (lines.length > 0) console.log(`\nissue 14 targets (paired-round ratios to node):\n  ${lines.join('\n  ')}`);
}

/** tsgi against Hono on the same runtime (the fetch targets), round by round. */
export function printRuntimePairs(samples: Samples): void {
  for (const [a, b] of RUNTIME_PAIRS) {
    const left = samples.get(a);
    const right = samples.get(b);
    if (!left || !right) continue;
    const ratios = left.map((s, i) => s.rps / right[i]!.rps);
    const byMedian = median(left.map((s) => s.rps)) / median(right.map((s) => s.rps));
    const cpuA = medianOf(left, 'cpuPerRequest');
    const cpuB = medianOf(right, 'cpuPerRequest');
    console.log(
      `${a} / ${b}: ${byMedian.toFixed(3)} by median requests/second, ${median(ratios).toFixed(3)} by paired rounds ` +
        `(${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})` +
        (cpuA && cpuB ? `, ${(cpuB / cpuA).toFixed(3)} by server CPU per request` : '') +
        ` (target ≥ 1: ${byMedian >= 1 ? 'met' : 'NOT met'})`,
    );
  }
}
