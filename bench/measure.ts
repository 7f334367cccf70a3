/**
 * One measurement: autocannon against one target for a few seconds, with the server's CPU time,
 * its event-loop utilisation, and the CPU other processes took meanwhile.
 *
 * @module
 */
import os from 'node:os';
import autocannon, { type Instance, type Result } from 'autocannon';
import { type Settings, extraFields } from './options.ts';
import type { Servers } from './servers.ts';
import type { Unit } from './units.ts';
import { loadUndici, stopUndici } from './load-undici.ts';

let current: Instance | undefined;

/** One measurement of one target. */
export interface Sample {
  /** Completed requests per second (wall clock). */
  rps: number;
  /** Server CPU microseconds per completed request (child mode only). */
  cpuPerRequest: number | undefined;
  /**
   * The kernel's share of {@link Sample.cpuPerRequest} (system CPU µs per request: system
   * calls, the loopback network stack, wake-ups), child mode only.
   */
  kernelPerRequest: number | undefined;
  /** Share of the time the server's event loop was busy, 0–1 (child mode only). */
  elu: number | undefined;
  /** Median and 99th-percentile latency, ms. */
  p50: number;
  p99: number;
  /** Errors, timeouts and non-2xx answers. */
  problems: number;
  /**
   * CPU used by every other process during the measurement, in CPUs (0.5 = half a core):
   * machine busy time (`os.cpus()`) minus this process, the server process and its helpers (the
   * proxies' upstream).
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

/**
 * Loads a unit (a target's route) for `seconds` and answers what was measured: with autocannon
 * (sending the route's method, fields and body), or for a large answer (`unit.large`) with
 * undici (see bench/load-undici.ts). The CPU figures are the unit's target process's.
 */
export async function load(unit: Unit, seconds: number, settings: Settings, servers: Servers): Promise<Sample> {
  const { url, large, route } = unit;
  const probe = servers.probe && (() => servers.probe!(unit.target.name));
  const before = await probe?.();
  const busyBefore = machineBusy();
  const ownBefore = ownCpu();
  const started = performance.now();
  let completed: number;
  let duration: number;
  let latency: { p50: number; p99: number };
  let problems: number;
  if (large) {
    const result = await loadUndici(url, seconds, settings.connections, extraFields(settings));
    ({ completed, duration, problems } = result);
    latency = result;
  } else {
    const fields = extraFields(settings);
    const headers = fields || route?.headers ? { ...fields, ...route?.headers } : undefined;
    current = autocannon({
      url,
      connections: settings.connections,
      pipelining: settings.pipelining,
      duration: seconds,
      timeout: 5,
      // autocannon refuses an explicit `method: undefined`: only a route's request is spelled out.
      ...(route && { method: route.method, body: route.body }),
      ...(headers && { headers }),
    });
    const result: Result = await current;
    current = undefined;
    completed = result.requests.total;
    duration = result.duration;
    latency = result.latency;
    problems = result.errors + result.timeouts + result.non2xx;
  }
  const elapsed = (performance.now() - started) * 1000;
  const ownDelta = ownCpu() - ownBefore;
  const busyDelta = machineBusy() - busyBefore;
  const after = await probe?.();
  const serverDelta = before && after ? after.cpu - before.cpu : 0;
  const helpersDelta = before && after ? after.helpers - before.helpers : 0;
  let cpuPerRequest: number | undefined;
  let kernelPerRequest: number | undefined;
  let elu: number | undefined;
  if (before && after && completed > 0) {
    cpuPerRequest = serverDelta / completed;
    kernelPerRequest = (after.system - before.system) / completed;
    const active = after.elu.active - before.elu.active;
    const idle = after.elu.idle - before.elu.idle;
    elu = active + idle > 0 ? active / (active + idle) : undefined;
  }
  return {
    rps: duration > 0 ? completed / duration : 0,
    cpuPerRequest,
    kernelPerRequest,
    elu,
    p50: latency.p50,
    p99: latency.p99,
    problems,
    others: Math.max(0, (busyDelta - ownDelta - serverDelta - helpersDelta) / elapsed),
  };
}

/** Stops the measurement under way, if any (its result still arrives). */
export function stopLoad(): void {
  current?.stop();
  stopUndici();
}
