/**
 * The server side of the benchmark, run by bench/run.ts as child processes (forked, with an
 * IPC channel, one per target) so the load generator and the servers do not share one event
 * loop, and each target's CPU time and memory are its own.
 *
 * Usage (by run.ts and bench/keepalive-memory.ts only):
 * `node bench/server-process.ts <target,target,…> <max seconds>`. Starts the targets, sends
 * `{ type: 'ready', urls: { name: url } }` to the parent, and exits when the parent sends
 * `{ type: 'stop' }`, when the parent goes away (IPC disconnect), on SIGTERM/SIGINT, or after
 * `max seconds` at the latest. Answers `{ type: 'probe', gc?: true }` with its CPU time,
 * event-loop utilisation and memory; `{ type: 'scavenge' }` with a young-generation collection
 * (`node --expose-gc`) and `{ type: 'scavenged' }`; `{ type: 'allocations-start' }` and `{ type:
 * 'allocations-stop', depth? }` with allocation sampling (bench/allocation-sampling.ts). It
 * exits through `process.exit()`, so `node --cpu-prof` writes its profile.
 *
 * @module
 */
import { startTargets } from './targets.ts';
import { upstreamCpu } from './proxy-targets.ts';
import { runtimeCpu, runtimeMemory } from './runtime-targets.ts';
import { startAllocationSampling, stopAllocationSampling } from './allocation-sampling.ts';

const [names = '', maxSeconds = '300'] = process.argv.slice(2);
/** Closes the started targets; set once they all are. */
let closeTargets: (() => Promise<void>) | undefined;
let exiting = false;

async function exit(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  await Promise.race([
    closeTargets?.(),
    new Promise((resolve) => setTimeout(resolve, 2000).unref()),
  ]);
  process.exit(code);
}

if (typeof process.send !== 'function') {
  console.error('bench/server-process.ts is started by bench/run.ts (it needs an IPC channel)');
  process.exit(2);
}

// Never outlive the run: the parent's hard limit plus a margin.
setTimeout(() => {
  console.error('bench server process: lifetime exceeded, exiting');
  void exit(1);
}, Number(maxSeconds) * 1000).unref();
process.once('disconnect', () => void exit(0));
process.once('SIGTERM', () => void exit(0));
process.once('SIGINT', () => void exit(0));
process.on('message', (message: { type?: string; gc?: boolean; depth?: number }) => {
  if (message?.type === 'stop') void exit(0);
  // A young-generation collection alone (with node --expose-gc), which keeps the compiled code
  // and the heap's old generation as they are (bench/instructions.ts, around each count).
  if (message?.type === 'scavenge') {
    (globalThis.gc as ((options: { type: 'minor' }) => void) | undefined)?.({ type: 'minor' });
    process.send!({ type: 'scavenged' });
  }
  // Allocation sampling (bench/alloc-profile.ts): started, then stopped with the bytes by site.
  if (message?.type === 'allocations-start') void startAllocationSampling().then(() => process.send!({ type: 'allocations-started' }));
  if (message?.type === 'allocations-stop') {
    void stopAllocationSampling(message.depth).then((report) => process.send!({ type: 'allocations', report }));
  }
  // A probe, taken before and after each measurement: CPU time (user + system µs, all threads,
  // and the system share alone) and event-loop utilisation, so the parent can compute CPU per
  // request and saturation; and the CPU time of helper processes (the proxy benchmark's
  // upstream), part of the system measured.
  // Memory: resident set size now and at its peak (bytes), after a full GC when asked (`gc`,
  // with node --expose-gc). For the Bun and Deno targets, their own process's peak.
  if (message?.type === 'probe') {
    if (message.gc) globalThis.gc?.();
    const { user, system } = process.cpuUsage();
    const elu = performance.eventLoopUtilization();
    const { rss, maxRss } = runtimeMemory() ?? { rss: process.memoryUsage().rss, maxRss: process.resourceUsage().maxRSS * 1024 };
    // The upstream of the proxy targets, and the Bun and Deno targets, run in processes of
    // their own: their CPU time counts too (the upstream's apart, as a helper's).
    const runtime = runtimeCpu();
    void upstreamCpu().then((helpers) =>
      process.send!({ type: 'probe', cpu: user + system + runtime.total, system: system + runtime.system, elu, helpers, rss, maxRss }),
    );
  }
});

try {
  const { urls, close } = await startTargets(names.split(',').filter(Boolean));
  closeTargets = close;
  process.send({ type: 'ready', urls });
} catch (error) {
  console.error('bench server process:', error);
  process.send({ type: 'failed', message: String(error) });
  void exit(1);
}
