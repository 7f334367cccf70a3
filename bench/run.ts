/**
 * Hello-world throughput of tsgi against a raw `node:http` handler (docs/performance.md).
 *
 * `npm run bench` starts every target server on 127.0.0.1 (ephemeral ports) in one child
 * process, then load-tests them from this process with autocannon: a warm-up per target,
 * then several rounds in which the targets take turns (the order rotates each round, so no
 * target always runs first or right after the same neighbour). It prints requests/second per
 * target per round, the medians, and each target's ratio to the raw node:http baseline.
 *
 * Options (a flag wins over its environment variable):
 *
 * | flag              | env                | default                   |
 * |-------------------|--------------------|---------------------------|
 * | `--rounds N`      | `BENCH_ROUNDS`     | 5                         |
 * | `--duration S`    | `BENCH_DURATION`   | 3 (seconds per measure)   |
 * | `--warmup S`      | `BENCH_WARMUP`     | 2 (seconds per target)    |
 * | `--connections N` | `BENCH_CONNECTIONS`| 10                        |
 * | `--pipelining N`  | `BENCH_PIPELINING` | 1                         |
 * | `--targets a,b`   | `BENCH_TARGETS`    | node,tsgi-raw,tsgi-app    |
 * | `--mode M`        | `BENCH_MODE`       | child (or `inprocess`)    |
 * | `--profile`       | `BENCH_PROFILE=1`  | off; CPU-profiles the servers |
 * | `--profile-dir D` | `BENCH_PROFILE=D`  | a new folder in the OS temp dir |
 * | `--pin`           | `BENCH_PIN=1`      | off; Linux: taskset load generator → CPU 0, servers → CPU 1 |
 * | `--quick`         |                    | 2 rounds × 1 s, 1 s warm-up |
 *
 * Everything stays on loopback, the run is bounded (a hard time limit kills it), and the
 * server process is stopped on exit, on errors and on Ctrl-C.
 *
 * @module
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon, { type Instance, type Result } from 'autocannon';
import { BASELINE, DEFAULT_TARGETS, HELLO, type Running, TARGETS, selectTargets } from './targets.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TARGET_RATIO = 0.95;
/** Above this many CPUs used by other processes, the run is flagged as disturbed. */
const OTHERS_LIMIT = 0.1;

interface Settings {
  rounds: number;
  duration: number;
  warmup: number;
  connections: number;
  pipelining: number;
  targets: string[];
  mode: 'child' | 'inprocess';
  profile: string | undefined;
  pin: boolean;
}

const USAGE = `Usage: npm run bench -- [--rounds N] [--duration S] [--warmup S] [--connections N]
                       [--pipelining N] [--targets ${DEFAULT_TARGETS.join(',')}]
                       [--mode child|inprocess] [--pin] [--profile] [--profile-dir DIR] [--quick]
Known targets:
${TARGETS.map((t) => `  ${t.name.padEnd(12)} ${t.label}`).join('\n')}`;

function settingsFrom(argv: string[], env: NodeJS.ProcessEnv): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      pipelining: { type: 'string' },
      targets: { type: 'string' },
      mode: { type: 'string' },
      profile: { type: 'boolean' },
      'profile-dir': { type: 'string' },
      pin: { type: 'boolean' },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick === true;
  const number = (flag: string | undefined, envValue: string | undefined, fallback: number, min: number, max: number, name: string): number => {
    const text = flag ?? envValue;
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new Error(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
    }
    return value;
  };
  const mode = values.mode ?? env.BENCH_MODE ?? 'child';
  if (mode !== 'child' && mode !== 'inprocess') throw new Error(`--mode must be child or inprocess, got ${JSON.stringify(mode)}`);
  const profileEnv = env.BENCH_PROFILE;
  let profile: string | undefined;
  if (values.profile || values['profile-dir'] !== undefined || (profileEnv !== undefined && profileEnv !== '' && profileEnv !== '0')) {
    profile = path.resolve(
      values['profile-dir'] ?? (profileEnv && profileEnv !== '1' ? profileEnv : path.join(os.tmpdir(), `tsgi-bench-profile-${Date.now()}`)),
    );
    if (mode !== 'child') throw new Error('--profile needs --mode child (it profiles the server process)');
  }
  if ((values.pin || env.BENCH_PIN === '1') && (mode !== 'child' || os.platform() !== 'linux')) {
    throw new Error('--pin needs --mode child on Linux (it uses taskset)');
  }
  return {
    rounds: Math.round(number(values.rounds, env.BENCH_ROUNDS, quick ? 2 : 5, 1, 50, 'rounds')),
    duration: number(values.duration, env.BENCH_DURATION, quick ? 1 : 3, 0.5, 60, 'duration'),
    warmup: number(values.warmup, env.BENCH_WARMUP, quick ? 1 : 2, 0, 60, 'warmup'),
    connections: Math.round(number(values.connections, env.BENCH_CONNECTIONS, 10, 1, 1000, 'connections')),
    pipelining: Math.round(number(values.pipelining, env.BENCH_PIPELINING, 1, 1, 100, 'pipelining')),
    targets: (values.targets ?? env.BENCH_TARGETS ?? DEFAULT_TARGETS.join(','))
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
    mode,
    profile,
    pin: values.pin === true || env.BENCH_PIN === '1',
  };
}

// ---- servers ----

/** What the server process reports before and after a measurement. */
interface Probe {
  /** CPU time of the server process so far, user + system, in microseconds (all threads). */
  cpu: number;
  /** `performance.eventLoopUtilization()` of the server process so far. */
  elu: { idle: number; active: number };
}

interface Servers {
  urls: Record<string, string>;
  /** Server-side CPU and event-loop figures; absent in-process (they would include autocannon). */
  probe?: () => Promise<Probe>;
  stop(): Promise<void>;
}

let child: ChildProcess | undefined;

/** Starts every target in one forked process; resolves with their URLs. */
function startChild(settings: Settings, maxSeconds: number): Promise<Servers> {
  const execArgv = settings.profile ? ['--cpu-prof', `--cpu-prof-dir=${settings.profile}`] : [];
  const proc = fork(path.join(HERE, 'server-process.ts'), [settings.targets.join(','), String(maxSeconds + 10)], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child = proc;
  if (settings.pin && proc.pid !== undefined) {
    // Linux only: the load generator on CPU 0, every thread of the server process on CPU 1.
    execFileSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' });
    execFileSync('taskset', ['-a', '-pc', '1', String(proc.pid)], { stdio: 'ignore' });
  }
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let probeWaiter: ((probe: Probe) => void) | undefined;
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`server process exited early (code ${code})`));
    proc.once('exit', onExit);
    proc.once('error', reject);
    proc.on('message', (message: { type?: string; urls?: Record<string, string>; message?: string } & Partial<Probe>) => {
      if (message.type === 'failed') reject(new Error(`server process failed: ${message.message}`));
      if (message.type === 'probe' && probeWaiter) {
        const waiter = probeWaiter;
        probeWaiter = undefined;
        waiter({ cpu: message.cpu!, elu: message.elu! });
      }
      if (message.type !== 'ready' || !message.urls) return;
      proc.off('exit', onExit);
      resolve({
        urls: message.urls,
        probe: () =>
          new Promise<Probe>((done, fail) => {
            const timer = setTimeout(() => fail(new Error('the server process did not answer a probe')), 5000);
            probeWaiter = (probe) => {
              clearTimeout(timer);
              done(probe);
            };
            proc.send({ type: 'probe' });
          }),
        stop: async () => {
          if (proc.exitCode === null && proc.signalCode === null) {
            proc.send({ type: 'stop' });
            const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
            await exited;
            clearTimeout(timer);
          }
        },
      });
    });
  });
}

/** Starts every target in this process (the load generator shares their event loop). */
async function startInProcess(settings: Settings): Promise<Servers> {
  const running: Running[] = [];
  const urls: Record<string, string> = {};
  try {
    for (const target of selectTargets(settings.targets)) {
      const server = await target.start();
      running.push(server);
      urls[target.name] = server.url;
    }
  } catch (error) {
    await Promise.allSettled(running.map((server) => server.close()));
    throw error;
  }
  return { urls, stop: async () => void (await Promise.allSettled(running.map((server) => server.close()))) };
}

/** One request per target: the same status and body, or the figures would compare nothing. */
async function checkTargets(urls: Record<string, string>): Promise<void> {
  for (const [name, url] of Object.entries(urls)) {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const text = await response.text();
    if (response.status !== 200 || text !== HELLO) {
      throw new Error(`target ${name} answered ${response.status} ${JSON.stringify(text.slice(0, 80))}, expected 200 ${JSON.stringify(HELLO)}`);
    }
  }
}

// ---- load ----

let current: Instance | undefined;

/** One measurement of one target. */
interface Sample {
  /** Completed requests per second (wall clock). */
  rps: number;
  /** Server CPU microseconds per completed request (child mode only). */
  cpuPerRequest: number | undefined;
  /** Share of the time the server's event loop was busy, 0–1 (child mode only). */
  elu: number | undefined;
  /** Median and 99th-percentile latency, ms. */
  p50: number;
  p99: number;
  /** Errors, timeouts and non-2xx answers. */
  problems: number;
  /**
   * CPU used by every other process during the measurement, in CPUs (0.5 = half a core):
   * machine busy time (`os.cpus()`) minus this process and the server process.
   */
  others: number;
}

/** Busy time of the whole machine so far, in microseconds (`os.cpus()` counts milliseconds). */
function machineBusy(): number {
  let ms = 0;
  for (const { times } of os.cpus()) ms += times.user + times.nice + times.sys + times.irq;
  return ms * 1000;
}

function ownCpu(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

async function load(url: string, seconds: number, settings: Settings, servers: Servers): Promise<Sample> {
  const before = await servers.probe?.();
  const busyBefore = machineBusy();
  const ownBefore = ownCpu();
  const started = performance.now();
  current = autocannon({
    url,
    connections: settings.connections,
    pipelining: settings.pipelining,
    duration: seconds,
    timeout: 5,
  });
  const result: Result = await current;
  current = undefined;
  const elapsed = (performance.now() - started) * 1000;
  const ownDelta = ownCpu() - ownBefore;
  const busyDelta = machineBusy() - busyBefore;
  const after = await servers.probe?.();
  const serverDelta = before && after ? after.cpu - before.cpu : 0;
  const completed = result.requests.total;
  let cpuPerRequest: number | undefined;
  let elu: number | undefined;
  if (before && after && completed > 0) {
    cpuPerRequest = (after.cpu - before.cpu) / completed;
    const active = after.elu.active - before.elu.active;
    const idle = after.elu.idle - before.elu.idle;
    elu = active + idle > 0 ? active / (active + idle) : undefined;
  }
  return {
    rps: result.duration > 0 ? completed / result.duration : 0,
    cpuPerRequest,
    elu,
    p50: result.latency.p50,
    p99: result.latency.p99,
    problems: result.errors + result.timeouts + result.non2xx,
    others: Math.max(0, (busyDelta - ownDelta - serverDelta) / elapsed),
  };
}

// ---- statistics and output ----

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Coefficient of variation: standard deviation / mean, as a fraction. */
function variation(values: readonly number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return mean === 0 ? 0 : sd / mean;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const pct = (n: number): string => `${(n * 100).toFixed(1)}%`;
const loadavg = (): string => os.loadavg().map((n) => n.toFixed(2)).join(' ');

async function main(): Promise<number> {
  const settings = settingsFrom(process.argv.slice(2), process.env);
  const targets = selectTargets(settings.targets);
  const names = targets.map((t) => t.name);
  const perMeasure = settings.duration + 0.5;
  const planned = names.length * (settings.warmup + (settings.warmup > 0 ? 0.5 : 0) + settings.rounds * perMeasure);
  const hardLimit = Math.ceil(planned * 1.5 + 30);

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
    child?.kill('SIGKILL');
    process.exit(1);
  }, hardLimit * 1000);
  deadline.unref();

  const servers = settings.mode === 'child' ? await startChild(settings, hardLimit) : await startInProcess(settings);
  try {
    await checkTargets(servers.urls);

    if (settings.warmup > 0) {
      process.stdout.write('warm-up:');
      for (const name of names) {
        const sample = await load(servers.urls[name]!, settings.warmup, settings, servers);
        process.stdout.write(` ${name} ${fmt(sample.rps)}/s`);
      }
      process.stdout.write('\n');
    }

    const samples = new Map<string, Sample[]>(names.map((name) => [name, []]));
    const col = Math.max(16, ...names.map((n) => n.length));
    const cell = (s: Sample): string => (s.cpuPerRequest === undefined ? fmt(s.rps) : `${fmt(s.rps)} (${s.cpuPerRequest.toFixed(1)})`);
    console.log(
      `\nround  ${names.map((n) => n.padStart(col)).join('  ')}   requests/s` +
        (servers.probe ? ' (server CPU µs per request)' : ''),
    );
    for (let round = 0; round < settings.rounds; round++) {
      const order = names.map((_, i) => names[(i + round) % names.length]!);
      for (const name of order) samples.get(name)!.push(await load(servers.urls[name]!, settings.duration, settings, servers));
      const cells = names.map((name) => cell(samples.get(name)![round]!).padStart(col));
      const others = Math.max(...names.map((name) => samples.get(name)![round]!.others));
      console.log(`${String(round + 1).padStart(5)}  ${cells.join('  ')}   others ≤ ${others.toFixed(2)} CPU; order: ${order.join(' → ')}`);
    }

    const baseline = samples.get(BASELINE);
    const medianOf = (list: Sample[], key: 'rps' | 'cpuPerRequest' | 'elu'): number | undefined =>
      list.every((s) => s[key] !== undefined) ? median(list.map((s) => s[key]!)) : undefined;
    const baseRps = baseline && medianOf(baseline, 'rps');
    const baseCpu = baseline && medianOf(baseline, 'cpuPerRequest');
    const w = Math.max(6, ...names.map((n) => n.length));
    console.log(
      `\n${'target'.padEnd(w)}  median req/s      min      max     CV  p50/p99 ms  CPU µs/req  loop busy  ratio  CPU ratio  per-round ratios`,
    );
    let failures = 0;
    for (const name of names) {
      const list = samples.get(name)!;
      const rps = list.map((s) => s.rps);
      const med = median(rps);
      const cpu = medianOf(list, 'cpuPerRequest');
      const elu = medianOf(list, 'elu');
      const problems = list.reduce((a, s) => a + s.problems, 0);
      failures += problems;
      const ratio = baseRps ? (med / baseRps).toFixed(3) : '-';
      const cpuRatio = baseCpu && cpu ? (baseCpu / cpu).toFixed(3) : '-';
      const paired = baseline && name !== BASELINE ? list.map((s, i) => (s.rps / baseline[i]!.rps).toFixed(3)).join(' ') : '';
      console.log(
        `${name.padEnd(w)}  ${fmt(med).padStart(12)} ${fmt(Math.min(...rps)).padStart(8)} ${fmt(Math.max(...rps)).padStart(8)} ` +
          `${pct(variation(rps)).padStart(6)}  ${`${median(list.map((s) => s.p50))}/${median(list.map((s) => s.p99))}`.padStart(10)}  ` +
          `${(cpu === undefined ? '-' : cpu.toFixed(1)).padStart(10)}  ${(elu === undefined ? '-' : pct(elu)).padStart(9)}  ` +
          `${ratio.padStart(5)}  ${cpuRatio.padStart(9)}  ${paired}` +
          (problems > 0 ? `  (${problems} errors/timeouts/non-2xx)` : ''),
      );
    }
    console.log(`load average at end: ${loadavg()}`);
    if (baseRps !== undefined && samples.has('tsgi-raw')) {
      const raw = samples.get('tsgi-raw')!;
      const ratio = median(raw.map((s) => s.rps)) / baseRps;
      let line = `\ntsgi-raw / node: ${ratio.toFixed(3)} by requests/second`;
      const rawCpu = medianOf(raw, 'cpuPerRequest');
      if (baseCpu !== undefined && rawCpu !== undefined) line += `, ${(baseCpu / rawCpu).toFixed(3)} by server CPU per request`;
      console.log(`${line} (target ≥ ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'} by requests/second)`);
    }
    const all = [...samples.values()].flat();
    const meanOthers = all.reduce((a, s) => a + s.others, 0) / all.length;
    console.log(`other processes used ${meanOthers.toFixed(2)} CPU on average (max ${Math.max(...all.map((s) => s.others)).toFixed(2)}) during the measurements`);
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

process.once('exit', () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    current?.stop();
    child?.kill('SIGTERM');
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
