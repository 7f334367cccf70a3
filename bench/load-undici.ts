/**
 * A load generator for large answers: autocannon parses every body byte in JavaScript and tops
 * out near 60 MB/s on this machine, far below what the servers send, so targets with a large
 * body (`bodySize`) are loaded with undici's `Pool` instead (llhttp, bodies read and dropped):
 * `connections` loops, each sending its next request when the last answer is in.
 *
 * @module
 */
import { Pool } from 'undici';

/** What one run measured. */
export interface UndiciResult {
  /** Completed requests. */
  completed: number;
  /** Seconds measured. */
  duration: number;
  /** Median and 99th-percentile latency, ms. */
  p50: number;
  p99: number;
  /** Errors and non-2xx answers. */
  problems: number;
}

let stopping = false;

/** Loads `url` with `connections` concurrent request loops for `seconds`. */
export async function loadUndici(url: string, seconds: number, connections: number): Promise<UndiciResult> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let problems = 0;
  stopping = false;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async () => {
    while (!stopping && performance.now() < deadline) {
      const sent = performance.now();
      try {
        const { statusCode, body } = await pool.request({ path: target.pathname + target.search, method: 'GET' });
        for await (const _chunk of body) {
          // dropped: the bytes are read, not kept
        }
        if (statusCode < 200 || statusCode >= 300) problems++;
        latencies.push(performance.now() - sent);
      } catch {
        problems++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  const duration = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => (latencies.length === 0 ? 0 : Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!));
  return { completed: latencies.length, duration, p50: at(0.5), p99: at(0.99), problems };
}

/** Ends the loops of the run under way at their next request. */
export function stopUndici(): void {
  stopping = true;
}
