/**
 * The target servers of a run: started in one child process (bench/server-process.ts) or in
 * this process, checked, probed for their CPU time, and stopped.
 *
 * @module
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Settings } from './options.ts';
import { HELLO, TARGETS, startTargets } from './targets.ts';
import { bigBody } from './upstream.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** What the server process reports before and after a measurement. */
export interface Probe {
  /** CPU time of the server process so far, user + system, in microseconds (all threads). */
  cpu: number;
  /** `performance.eventLoopUtilization()` of the server process so far. */
  elu: { idle: number; active: number };
  /** CPU time of the targets' helper processes so far (the proxies' upstream), µs; 0 when none. */
  helpers: number;
}

/** The running targets. */
export interface Servers {
  urls: Record<string, string>;
  /** Server-side CPU and event-loop figures; absent in-process (they would include autocannon). */
  probe?: () => Promise<Probe>;
  stop(): Promise<void>;
}

let child: ChildProcess | undefined;

/** Starts every target in one forked process; resolves with their URLs. */
export function startChild(settings: Settings, maxSeconds: number): Promise<Servers> {
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
        waiter({ cpu: message.cpu!, elu: message.elu!, helpers: message.helpers ?? 0 });
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
export async function startInProcess(settings: Settings): Promise<Servers> {
  const { urls, close } = await startTargets(settings.targets);
  return { urls, stop: close };
}

/** One request per target: the same status and body (its `bodySize` bytes, for the 1 MiB proxies), or the figures would compare nothing. */
export async function checkTargets(urls: Record<string, string>): Promise<void> {
  for (const [name, url] of Object.entries(urls)) {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const body = Buffer.from(await response.arrayBuffer());
    const size = TARGETS.find((t) => t.name === name)?.bodySize;
    const expected = size === undefined ? Buffer.from(HELLO) : bigBody(size);
    if (response.status !== 200 || !body.equals(expected)) {
      const said = size === undefined ? JSON.stringify(body.toString().slice(0, 80)) : `${body.length} bytes`;
      throw new Error(`target ${name} answered ${response.status} ${said}, expected 200 ${size === undefined ? JSON.stringify(HELLO) : `${size} bytes`}`);
    }
  }
}

/** Kills the server process at once, if it is still running (for exits and signals). */
export function killServers(signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
}
