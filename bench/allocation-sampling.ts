/**
 * Allocation sampling inside a benchmark server process (bench/server-process.ts), for
 * bench/alloc-profile.ts: V8's sampling heap profiler, told to keep the objects the young and
 * old generation collectors freed, so the sampled bytes are everything allocated, not what
 * survived. Unlike requests per second, bytes allocated per request hardly move with the
 * machine's load, which makes them a steady guide on a noisy machine.
 *
 * @module
 */
import { Session } from 'node:inspector/promises';

/** Bytes allocated at one site: a function and its line (with `depth` > 1, its callers too). */
export interface AllocationSite {
  site: string;
  bytes: number;
}

/** What the sampler saw between start and stop: all sampled bytes, and the sites by bytes. */
export interface AllocationReport {
  bytes: number;
  sites: AllocationSite[];
}

interface SamplingNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children: SamplingNode[];
}

interface SamplingProfile {
  head: SamplingNode;
  samples: Array<{ size: number; nodeId: number }>;
}

let session: Session | undefined;

/** Starts sampling every `interval` bytes allocated (on average; V8 picks the points at random). */
export async function startAllocationSampling(interval = 1024): Promise<void> {
  session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  // The two include… flags are V8's (Chrome DevTools protocol); Node's types predate them.
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: interval,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  } as { samplingInterval: number });
}

/**
 * Stops sampling and sums the bytes by site: `function file:line` of the allocating frame,
 * followed by up to `depth - 1` callers (`<` between frames). File paths are shortened to their
 * last two parts.
 */
export async function stopAllocationSampling(depth = 1): Promise<AllocationReport> {
  if (session === undefined) throw new Error('allocation sampling was not started');
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: SamplingProfile };
  await session.post('HeapProfiler.disable');
  session.disconnect();
  session = undefined;
  const names = new Map<number, string>();
  const walk = (node: SamplingNode, callers: string[]): void => {
    const { functionName, url, lineNumber } = node.callFrame;
    const frame = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    const stack = [frame, ...callers];
    names.set(node.id, stack.slice(0, depth).join(' < '));
    for (const child of node.children) walk(child, stack);
  };
  walk(profile.head, []);
  const bySite = new Map<string, number>();
  let bytes = 0;
  for (const { size, nodeId } of profile.samples) {
    bytes += size;
    const site = names.get(nodeId) ?? '(unknown)';
    bySite.set(site, (bySite.get(site) ?? 0) + size);
  }
  const sites = [...bySite].map(([site, b]) => ({ site, bytes: b })).sort((a, b) => b.bytes - a.bytes);
  return { bytes, sites };
}
