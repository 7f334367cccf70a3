/**
 * A load generator for large answers: autocannon parses every body byte in JavaScript and tops
 * out near 60 MB/s on this machine, far below what the servers send, so targets with a large
 * body (`bodySize`, the `/stream` route) are loaded with undici's `Pool` instead (llhttp):
 * `connections` loops, each sending its next request when the last answer is in. Requests go
 * through `pool.dispatch()` with a handler that drops the body bytes as they arrive: no body
 * stream per answer, which costs the client about a third less CPU per 64 KiB answer than
 * `pool.request()` (75 against 110 µs here), so fast servers are not held back by the client.
 *
 * @module
 */
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';

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
export async function loadUndici(
  url: string,
  seconds: number,
  connections: number,
  fields?: Readonly<Record<string, string>>,
): Promise<UndiciResult> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let problems = 0;
  stopping = false;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const path = target.pathname + target.search;
  /** One request; resolves with its status code once the whole answer has arrived. */
  const one = () =>
    new Promise<number>((resolve, reject) => {
      let status = 0;
      // onRequestStart marks the handler as one of undici 7's new kind (else it asks for onConnect).
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: () => {},
        onResponseStart: (_controller, statusCode) => void (status = statusCode),
        onResponseData: () => {},
        onResponseEnd: () => resolve(status),
        onResponseError: (_controller, error) => reject(error),
      };
      pool.dispatch({ origin: target.origin, path, method: 'GET', headers: fields }, handler);
    });
  const loop = async () => {
    while (!stopping && performance.now() < deadline) {
      const sent = performance.now();
      try {
        const statusCode = await one();
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
