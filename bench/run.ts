/**
 * Throughput of tsgi against a raw `node:http` handler and against the frameworks, route by
 * route (docs/performance.md).
 *
 * `npm run bench` starts every target server on 127.0.0.1 (ephemeral ports), each in a child
 * process of its own, checks every answer, then load-tests them from this process: the route
 * targets on each of the four routes of bench/routes.ts (`/hello`, `/stack`, `/stream`,
 * `/echo`), the single-URL targets (proxies, Bun and Deno) at their URL. A warm-up per target
 * and route, then several rounds; in each round every route's targets take turns (the order
 * rotates each round and reverses every other one, so no target always runs first or right
 * after the same neighbour). It
 * prints requests/second per target per round, then per route the medians, p99 latency, the
 * server's CPU time per request and each target's ratios to the baseline `node` on the same
 * route (for the proxy targets, `--targets proxy`, to tsgi's proxy: a ratio below 1 means
 * slower than tsgi); the target × route matrix of ratios, each target's peak RSS, and the
 * targets of issue 14.
 *
 * Options (a flag wins over its environment variable):
 *
 * | flag              | env                | default                   |
 * |-------------------|--------------------|---------------------------|
 * | `--rounds N`      | `BENCH_ROUNDS`     | 10                        |
 * | `--duration S`    | `BENCH_DURATION`   | 2 (seconds per measure)   |
 * | `--warmup S`      | `BENCH_WARMUP`     | 2 (seconds per target and route) |
 * | `--connections N` | `BENCH_CONNECTIONS`| 50                        |
 * | `--pipelining N`  | `BENCH_PIPELINING` | 1                         |
 * | `--targets a,b`   | `BENCH_TARGETS`    | node,tsgi-raw,tsgi-app    |
 * | `--routes a,b`    | `BENCH_ROUTES`     | hello,stack,stream,echo   |
 * | `--mode M`        | `BENCH_MODE`       | child (or `inprocess`)    |
 * | `--profile`       | `BENCH_PROFILE=1`  | off; CPU-profiles the servers |
 * | `--profile-dir D` | `BENCH_PROFILE=D`  | a new folder in the OS temp dir |
 * | `--retries N`     | `BENCH_RETRIES`    | 6 (re-measurements of disturbed samples, whole run) |
 * | `--pin`           | `BENCH_PIN=1`      | off; Linux: taskset load generator → CPU 0, server processes → CPU 1 |
 * | `--quick`         |                    | 2 rounds × 1 s, 1 s warm-up |
 *
 * Everything stays on loopback, the run is bounded (a hard time limit kills it), and the
 * server processes are stopped on exit, on errors and on Ctrl-C.
 *
 * @module
 */
import os from 'node:os';
import { extraFields, settingsFrom } from './options.ts';
import { type Sample, load, stopLoad } from './measure.ts';
import { printIssueTargets, printMatrix, printPeakRss, printRuntimePairs, printTables } from './report.ts';
import { killServers, startChild, startInProcess } from './servers.ts';
import { fmt, loadavg, nodeLabel } from './stats.ts';
import { selectTargets } from './targets.ts';
import { type Group, type Unit, checkUnits, unitsOf } from './units.ts';

/** Above this many CPUs used by other processes, a measurement counts as disturbed. */
const OTHERS_LIMIT = 0.1;

async function main(): Promise<number> {
  const settings = settingsFrom(process.argv.slice(2), process.env);
  const targets = selectTargets(settings.targets);
  const routed = targets.filter((t) => t.routes).length;
  const unitCount = routed * settings.routes.length + targets.length - routed;
  const perMeasure = settings.duration + 0.5;
  const warmOnce = unitCount * (settings.warmup + (settings.warmup > 0 ? 0.5 : 0)) + targets.length * 2;
  const planned = warmOnce * (settings.fresh ? settings.rounds : 1) + unitCount * settings.rounds * perMeasure;
  const hardLimit = Math.ceil((planned + settings.retries * perMeasure) * 1.5 + 30);

  const cpus = os.cpus();
  console.log(`tsgi benchmark — ${new Date().toISOString()}`);
  console.log(`${nodeLabel()}, ${os.platform()} ${os.arch()}, ${cpus.length} CPU(s): ${cpus[0]?.model ?? 'unknown'}`);
  console.log(
    `mode ${settings.mode}${settings.pin ? ' (pinned)' : ''}${settings.fresh ? ' (fresh processes every round)' : ''}, ${settings.rounds} round(s) × ${settings.duration} s, warm-up ${settings.warmup} s per target and route, ` +
      `${settings.connections} connections, pipelining ${settings.pipelining}, ${settings.headers} header fields; ${unitCount} target×route units (about ${Math.round(planned)} s)`,
  );
  if (routed > 0) console.log(`routes: ${settings.routes.map((r) => `/${r.name}`).join(', ')}`);
  console.log(`load average at start: ${loadavg()}`);
  for (const target of targets) console.log(`  ${target.name.padEnd(12)} ${target.label}`);

  const deadline = setTimeout(() => {
    console.error(`benchmark exceeded its ${hardLimit} s limit; stopping`);
    killServers();
    process.exit(1);
  }, hardLimit * 1000);
  deadline.unref();

  const start = () =>
    settings.mode === 'child' ? startChild(settings, targets.map((t) => t.name), hardLimit) : startInProcess(settings);
  let servers = await start();
  try {
    // Each target's resident set size once started, before any request: the base of its peak.
    const atStart = new Map<string, number>();
    for (const target of targets) if (servers.probe) atStart.set(target.name, (await servers.probe(target.name)).rss);
    // The largest peak of each target's processes so far (with --fresh, of those stopped).
    const peaks = new Map<string, number>();
    const notePeaks = async () => {
      if (!servers.probe) return;
      for (const target of targets) peaks.set(target.name, Math.max(peaks.get(target.name) ?? 0, (await servers.probe(target.name)).maxRss));
    };
    // The units of the running servers, checked and warmed up (again for each --fresh round).
    let groups: Group[] = [];
    let units: Unit[] = [];
    const prepare = async () => {
      groups = unitsOf(targets, settings.routes, servers.urls);
      units = groups.flatMap((g) => g.units);
      await checkUnits(units, extraFields(settings));
      if (settings.warmup <= 0) return;
      process.stdout.write('warm-up:');
      for (const unit of units) {
        const sample = await load(unit, settings.warmup, settings, servers);
        process.stdout.write(` ${unit.name} ${fmt(sample.rps)}/s`);
      }
      process.stdout.write('\n');
    };
    await prepare();

    const samples = new Map<string, Sample[]>(units.map((u) => [u.name, []]));
    let retriesLeft = settings.retries;
    const measure = async (unit: Unit): Promise<Sample> => {
      let sample = await load(unit, settings.duration, settings, servers);
      // A measurement during which other processes took CPU is taken again, while the run's
      // retry budget lasts; the least disturbed attempt is kept.
      while (sample.others > OTHERS_LIMIT && retriesLeft > 0) {
        retriesLeft--;
        const again = await load(unit, settings.duration, settings, servers);
        if (again.others < sample.others) sample = again;
      }
      return sample;
    };
    const cell = (s: Sample): string => (s.cpuPerRequest === undefined ? fmt(s.rps) : `${fmt(s.rps)} (${s.cpuPerRequest.toFixed(1)})`);
    console.log(`\nrequests/s per round${servers.probe ? ' (server CPU µs per request)' : ''}; targets in the order measured:`);
    for (let round = 0; round < settings.rounds; round++) {
      if (settings.fresh && round > 0) {
        // A new process per target and round: a process that happens to run slow (where its
        // code and heap landed) weighs one round, not all of them.
        await notePeaks();
        await servers.stop();
        servers = await start();
        await prepare();
      }
      for (const group of groups) {
        // Rotated each round, and reversed every other round: a plain rotation keeps every
        // target right after the same neighbour, whose load (heat, a lingering collector, a
        // socket still closing) would then weigh on it in every round.
        const rotated = group.units.map((_, i) => group.units[(i + round) % group.units.length]!);
        const order = round % 2 === 1 ? rotated.reverse() : rotated;
        const kept: Sample[] = [];
        for (const unit of order) {
          const sample = await measure(unit);
          samples.get(unit.name)!.push(sample);
          kept.push(sample);
        }
        const others = Math.max(...kept.map((s) => s.others));
        const label = group.route ? `/${group.route}` : '';
        console.log(
          `${String(round + 1).padStart(5)} ${label.padEnd(8)} ${order.map((u, i) => `${u.target.name} ${cell(kept[i]!)}`).join(', ')}; others ≤ ${others.toFixed(2)} CPU`,
        );
      }
    }

    const failures = printTables(groups, samples);
    printMatrix(groups, samples);
    if (servers.probe) {
      await notePeaks();
      const memory = new Map<string, { peak: number; start: number }>();
      for (const target of targets) memory.set(target.name, { peak: peaks.get(target.name)!, start: atStart.get(target.name)! });
      printPeakRss(memory);
    }
    printIssueTargets(groups, samples);
    printRuntimePairs(samples);
    console.log(`load average at end: ${loadavg()}`);
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
      console.log(`CPU profiles of the server processes (<target>.cpuprofile) in ${settings.profile}; summarise one with:
  node bench/profile-summary.ts ${settings.profile}/<target>.cpuprofile`);
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
