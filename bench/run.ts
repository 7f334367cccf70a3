/**
 * Hello-world throughput of tsgi against a raw `node:http` handler (docs/performance.md).
 *
 * `npm run bench` starts every target server on 127.0.0.1 (ephemeral ports) in one child
 * process, then load-tests them from this process with autocannon: a warm-up per target,
 * then several rounds in which the targets take turns (the order rotates each round, so no
 * target always runs first or right after the same neighbour). It prints requests/second per
 * target per round, the medians, and each target's ratio to the raw node:http baseline (for the
 * proxy targets, `--targets proxy`, to tsgi's proxy on the same route: a ratio below 1 means
 * slower than tsgi).
 *
 * Options (a flag wins over its environment variable):
 *
 * | flag              | env                | default                   |
 * |-------------------|--------------------|---------------------------|
 * | `--rounds N`      | `BENCH_ROUNDS`     | 10                        |
 * | `--duration S`    | `BENCH_DURATION`   | 2 (seconds per measure)   |
 * | `--warmup S`      | `BENCH_WARMUP`     | 2 (seconds per target)    |
 * | `--connections N` | `BENCH_CONNECTIONS`| 10                        |
 * | `--pipelining N`  | `BENCH_PIPELINING` | 1                         |
 * | `--targets a,b`   | `BENCH_TARGETS`    | node,tsgi-raw,tsgi-app    |
 * | `--mode M`        | `BENCH_MODE`       | child (or `inprocess`)    |
 * | `--profile`       | `BENCH_PROFILE=1`  | off; CPU-profiles the servers |
 * | `--profile-dir D` | `BENCH_PROFILE=D`  | a new folder in the OS temp dir |
 * | `--retries N`     | `BENCH_RETRIES`    | 6 (re-measurements of disturbed samples, whole run) |
 * | `--pin`           | `BENCH_PIN=1`      | off; Linux: taskset load generator → CPU 0, servers → CPU 1 |
 * | `--quick`         |                    | 2 rounds × 1 s, 1 s warm-up |
 *
 * Everything stays on loopback, the run is bounded (a hard time limit kills it), and the
 * server process is stopped on exit, on errors and on Ctrl-C.
 *
 * @module
 */
import os from 'node:os';
import { settingsFrom } from './options.ts';
import { type Sample, load, stopLoad } from './measure.ts';
import { checkTargets, killServers, startChild, startInProcess } from './servers.ts';
import { fmt, loadavg, median, pct, variation } from './stats.ts';
import { BASELINE, selectTargets } from './targets.ts';
import { RUNTIME_PAIRS } from './runtime-targets.ts';

const TARGET_RATIO = 0.95;
/** Above this many CPUs used by other processes, a measurement counts as disturbed. */
const OTHERS_LIMIT = 0.1;

async function main(): Promise<number> {
  const settings = settingsFrom(process.argv.slice(2), process.env);
  const targets = selectTargets(settings.targets);
  const names = targets.map((t) => t.name);
  /** Targets whose answer is large are loaded with undici rather than autocannon (bench/load-undici.ts). */
  const large = new Set(targets.filter((t) => t.bodySize !== undefined).map((t) => t.name));
  const perMeasure = settings.duration + 0.5;
  const planned = names.length * (settings.warmup + (settings.warmup > 0 ? 0.5 : 0) + settings.rounds * perMeasure);
  const hardLimit = Math.ceil((planned + settings.retries * perMeasure) * 1.5 + 30);

  const cpus = os.cpus();
  console.log(`tsgi hello-world benchmark — ${new Date().toISOString()}`);
  console.log(`node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus.length} CPU(s): ${cpus[0]?.model ?? 'unknown'}`);
  console.log(
    `mode ${settings.mode}${settings.pin ? ' (pinned)' : ''}, ${settings.rounds} round(s) × ${settings.duration} s, warm-up ${settings.warmup} s/target, ` +
      `${settings.connections} connections, pipelining ${settings.pipelining} (about ${Math.round(planned)} s)`,
  );
  console.log(`load average at start: ${loadavg()}`);
  for (const target of targets) console.log(`  ${target.name.padEnd(12)} ${target.label}`);

  const deadline = setTimeout(() => {
    console.error(`benchmark exceeded its ${hardLimit} s limit; stopping`);
    killServers();
    process.exit(1);
  }, hardLimit * 1000);
  deadline.unref();

  const servers = settings.mode === 'child' ? await startChild(settings, hardLimit) : await startInProcess(settings);
  try {
    await checkTargets(servers.urls);

    if (settings.warmup > 0) {
      process.stdout.write('warm-up:');
      for (const name of names) {
        const sample = await load(servers.urls[name]!, settings.warmup, settings, servers, large.has(name));
        process.stdout.write(` ${name} ${fmt(sample.rps)}/s`);
      }
      process.stdout.write('\n');
    }

    const samples = new Map<string, Sample[]>(names.map((name) => [name, []]));
    let retriesLeft = settings.retries;
    const col = Math.max(16, ...names.map((n) => n.length));
    const cell = (s: Sample): string => (s.cpuPerRequest === undefined ? fmt(s.rps) : `${fmt(s.rps)} (${s.cpuPerRequest.toFixed(1)})`);
    console.log(
      `\nround  ${names.map((n) => n.padStart(col)).join('  ')}   requests/s` +
        (servers.probe ? ' (server CPU µs per request)' : ''),
    );
    for (let round = 0; round < settings.rounds; round++) {
      const order = names.map((_, i) => names[(i + round) % names.length]!);
      for (const name of order) {
        let sample = await load(servers.urls[name]!, settings.duration, settings, servers, large.has(name));
        // A measurement during which other processes took CPU is taken again, while the
        // run's retry budget lasts; the least disturbed attempt is kept.
        while (sample.others > OTHERS_LIMIT && retriesLeft > 0) {
          retriesLeft--;
          const again = await load(servers.urls[name]!, settings.duration, settings, servers, large.has(name));
          if (again.others < sample.others) sample = again;
        }
        samples.get(name)!.push(sample);
      }
      const cells = names.map((name) => cell(samples.get(name)![round]!).padStart(col));
      const others = Math.max(...names.map((name) => samples.get(name)![round]!.others));
      console.log(`${String(round + 1).padStart(5)}  ${cells.join('  ')}   others ≤ ${others.toFixed(2)} CPU; order: ${order.join(' → ')}`);
    }

    const medianOf = (list: Sample[], key: 'rps' | 'cpuPerRequest' | 'elu'): number | undefined =>
      list.every((s) => s[key] !== undefined) ? median(list.map((s) => s[key]!)) : undefined;
    /** The target a target's ratios are computed against (its own `baseline`, else node), if measured. */
    const baselineOf = (name: string): string | undefined => {
      const base = targets.find((t) => t.name === name)?.baseline ?? BASELINE;
      return base !== name && samples.has(base) ? base : undefined;
    };
    const w = Math.max(6, ...names.map((n) => n.length));
    console.log(
      `\n${'target'.padEnd(w)}  median req/s      min      max     CV  p50/p99 ms  CPU µs/req  loop busy  ratio  CPU ratio  paired ratio`,
    );
    let failures = 0;
    const pairedRatios = new Map<string, { base: string; pairs: number[] }>();
    for (const name of names) {
      const list = samples.get(name)!;
      const rps = list.map((s) => s.rps);
      const med = median(rps);
      const cpu = medianOf(list, 'cpuPerRequest');
      const elu = medianOf(list, 'elu');
      const problems = list.reduce((a, s) => a + s.problems, 0);
      failures += problems;
      const base = baselineOf(name);
      const baseline = base === undefined ? undefined : samples.get(base)!;
      const baseRps = baseline && medianOf(baseline, 'rps');
      const baseCpu = baseline && medianOf(baseline, 'cpuPerRequest');
      const ratio = baseRps ? (med / baseRps).toFixed(3) : '-';
      const cpuRatio = baseCpu && cpu ? (baseCpu / cpu).toFixed(3) : '-';
      const pairs = baseline ? list.map((s, i) => s.rps / baseline[i]!.rps) : [];
      if (pairs.length > 0) pairedRatios.set(name, { base: base!, pairs });
      const paired = pairs.length > 0 ? `${median(pairs).toFixed(3)} (${Math.min(...pairs).toFixed(2)}–${Math.max(...pairs).toFixed(2)})` : '';
      console.log(
        `${name.padEnd(w)}  ${fmt(med).padStart(12)} ${fmt(Math.min(...rps)).padStart(8)} ${fmt(Math.max(...rps)).padStart(8)} ` +
          `${pct(variation(rps)).padStart(6)}  ${`${median(list.map((s) => s.p50))}/${median(list.map((s) => s.p99))}`.padStart(10)}  ` +
          `${(cpu === undefined ? '-' : cpu.toFixed(1)).padStart(10)}  ${(elu === undefined ? '-' : pct(elu)).padStart(9)}  ` +
          `${ratio.padStart(5)}  ${cpuRatio.padStart(9)}  ${paired}` +
          (problems > 0 ? `  (${problems} errors/timeouts/non-2xx)` : ''),
      );
    }
    const pw = Math.max(...[...pairedRatios].map(([name, { base }]) => `${name} / ${base}`.length), 0);
    for (const [name, { base, pairs }] of pairedRatios) {
      console.log(`${`${name} / ${base}`.padEnd(pw)} per round: ${pairs.map((r) => r.toFixed(3)).join(' ')}`);
    }
    // tsgi against Hono on the same runtime (the fetch targets), round by round.
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
    console.log(`load average at end: ${loadavg()}`);
    const nodeSamples = samples.get(BASELINE);
    if (nodeSamples !== undefined && samples.has('tsgi-raw')) {
      const baseRps = medianOf(nodeSamples, 'rps')!;
      const baseCpu = medianOf(nodeSamples, 'cpuPerRequest');
      const raw = samples.get('tsgi-raw')!;
      const ratio = median(raw.map((s) => s.rps)) / baseRps;
      let line = `\ntsgi-raw / node: ${ratio.toFixed(3)} by median requests/second, ${median(pairedRatios.get('tsgi-raw')!.pairs).toFixed(3)} by paired rounds`;
      const rawCpu = medianOf(raw, 'cpuPerRequest');
      if (baseCpu !== undefined && rawCpu !== undefined) line += `, ${(baseCpu / rawCpu).toFixed(3)} by server CPU per request`;
      console.log(`${line} (target ≥ ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'} by requests/second)`);
    }
    const all = [...samples.values()].flat();
    const meanOthers = all.reduce((a, s) => a + s.others, 0) / all.length;
    console.log(
      `other processes used ${meanOthers.toFixed(2)} CPU on average (max ${Math.max(...all.map((s) => s.others)).toFixed(2)}) ` +
        `during the kept measurements; ${settings.retries - retriesLeft} of ${settings.retries} re-measurements used`,
    );
    if (meanOthers > OTHERS_LIMIT) {
      console.log(`warning: other processes competed for the CPUs (more than ${OTHERS_LIMIT} CPU on average), so
         requests/second are unreliable (server CPU per request less so). Re-run on a quiet machine.`);
    }
    if (failures > 0) console.log(`warning: ${failures} errors/timeouts/non-2xx responses; the figures are suspect`);
    return 0;
  } finally {
    await servers.stop();
    if (settings.profile) {
      console.log(`CPU profile of the server process in ${settings.profile}; summarise it with:
  node bench/profile-summary.ts ${settings.profile}`);
    }
  }
}

process.once('exit', () => killServers());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopLoad();
    killServers('SIGTERM');
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
