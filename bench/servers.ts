/**
 * The target servers of a run: each started in a child process of its own
 * (bench/server-process.ts), or all in this process; probed for their CPU time and memory, and
 * stopped.
 *
 * @module
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Settings } from './options.ts';
import { startTargets } from './targets.ts';
import type { AllocationReport } from './allocation-sampling.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** What a server process reports before and after a measurement. */
export interface Probe {
  /** CPU time of the server process so far, user + system, in microseconds (all threads). */
  cpu: number;
  /** The system (kernel) share of {@link Probe.cpu}, µs: system calls, the network stack. */
  system: number;
  /** `performance.eventLoopUtilization()` of the server process so far. */
  elu: { idle: number; active: number };
  /** CPU time of the targets' helper processes so far (the proxies' upstream), µs; 0 when none. */
  helpers: number;
  /** Resident set size now, bytes. */
  rss: number;
  /** The largest resident set size so far, bytes (for Bun and Deno: their process's). */
  maxRss: number;
}

/** The running targets. */
export interface Servers {
  urls: Record<string, string>;
  /** Server-side CPU, event-loop and memory figures of a target's process; absent in-process. */
  probe?: (target: string, options?: { gc?: boolean }) => Promise<Probe>;
  stop(): Promise<void>;
}

/** One server process: its target's URL, its probe, and its stop. */
export interface ServerProcess {
  url: string;
  /** The process id (with a wrapper, the wrapper's, which then runs Node in the same process). */
  pid: number;
  probe(options?: { gc?: boolean }): Promise<Probe>;
  /** Collects the process's young generation (it needs `node --expose-gc`; a no-op without). */
  scavenge(): Promise<void>;
  /** Starts allocation sampling in the process (bench/allocation-sampling.ts). */
  startAllocations(): Promise<void>;
  /** Stops it: the bytes allocated meanwhile, by site (`depth` frames each). */
  stopAllocations(depth?: number): Promise<AllocationReport>;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();

/**
 * Forks bench/server-process.ts for `names` and resolves when they listen, with a probe of
 * that process. `execArgv` goes to Node (`--cpu-prof`, `--expose-gc`); with `pin`, every thread
 * of the process is bound to CPU 1 (Linux `taskset`). With `wrapper` (a program and its
 * arguments, such as `['valgrind', '--tool=callgrind']`), that program runs Node: the process's
 * id is the wrapper's.
 */
export function startServerProcess(names: readonly string[], maxSeconds: number, execArgv: string[] = [], pin = false, wrapper?: readonly string[]): Promise<ServerProcess> {
  const proc = fork(path.join(HERE, 'server-process.ts'), [names.join(','), String(maxSeconds + 10)], {
    ...(wrapper ? { execPath: wrapper[0], execArgv: [...wrapper.slice(1), process.execPath, ...execArgv] } : { execArgv }),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(proc);
  if (pin && proc.pid !== undefined) execFileSync('taskset', ['-a', '-pc', '1', String(proc.pid)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  // The reply awaited, by the message type that carries it: one question at a time per type.
  const waiters = new Map<string, (message: Record<string, unknown>) => void>();
  const ask = <T>(question: Record<string, unknown>, replyType: string, answer: (message: Record<string, unknown>) => T, seconds = 5): Promise<T> =>
    new Promise<T>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`the server process did not answer ${String(question.type)}`)), seconds * 1000);
      waiters.set(replyType, (message) => {
        clearTimeout(timer);
        done(answer(message));
      });
      proc.send(question);
    });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`server process for ${names.join(',')} exited early (code ${code})`));
    proc.once('exit', onExit);
    proc.once('error', reject);
    proc.on('message', (message: { type?: string; urls?: Record<string, string>; message?: string } & Record<string, unknown>) => {
      if (message.type === 'failed') reject(new Error(`server process failed: ${message.message}`));
      const waiter = message.type === undefined ? undefined : waiters.get(message.type);
      if (waiter) {
        waiters.delete(message.type!);
        waiter(message);
      }
      if (message.type !== 'ready' || !message.urls) return;
      proc.off('exit', onExit);
      resolve({
        url: Object.values(message.urls)[0]!,
        pid: proc.pid!,
        probe: (options) =>
          ask({ type: 'probe', gc: options?.gc }, 'probe', (m) => {
            const p = m as unknown as Probe;
            return { cpu: p.cpu, system: p.system, elu: p.elu, helpers: p.helpers ?? 0, rss: p.rss, maxRss: p.maxRss };
          }),
        scavenge: () => ask({ type: 'scavenge' }, 'scavenged', () => undefined),
        startAllocations: () => ask({ type: 'allocations-start' }, 'allocations-started', () => undefined),
        stopAllocations: (depth) => ask({ type: 'allocations-stop', depth }, 'allocations', (m) => m.report as AllocationReport, 60),
        stop: async () => {
          if (proc.exitCode === null && proc.signalCode === null) {
            proc.send({ type: 'stop' });
            const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
            await exited;
            clearTimeout(timer);
          }
          children.delete(proc);
        },
      });
    });
  });
}

/**
 * Starts each target (`names`, groups expanded) in a forked process of its own, one after the
 * other; resolves with their URLs. With `--pin`, this process (the load generator) goes to CPU 0
 * and every server process to CPU 1; with `--profile`, each writes `<target>.cpuprofile`.
 */
export async function startChild(settings: Settings, names: readonly string[], maxSeconds: number): Promise<Servers> {
  if (settings.pin) execFileSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' });
  const started = new Map<string, ServerProcess>();
  const stop = async () => void (await Promise.allSettled([...started.values()].map((s) => s.stop())));
  try {
    for (const name of names) {
      const execArgv = settings.profile ? ['--cpu-prof', `--cpu-prof-dir=${settings.profile}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
      started.set(name, await startServerProcess([name], maxSeconds, execArgv, settings.pin));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    urls: Object.fromEntries([...started].map(([name, s]) => [name, s.url])),
    probe: (target, options) => started.get(target)!.probe(options),
    stop,
  };
}

/** Starts every target in this process (the load generator shares their event loop). */
export async function startInProcess(settings: Settings): Promise<Servers> {
  const { urls, close } = await startTargets(settings.targets);
  return { urls, stop: close };
}

/** Kills the server processes at once, if still running (for exits and signals). */
export function killServers(signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}
