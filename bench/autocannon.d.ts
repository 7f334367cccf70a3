/**
 * The part of autocannon's API (v8, which ships no types) that the benchmark uses.
 * See node_modules/autocannon/README.md, sections "API" and "Results".
 */
declare module 'autocannon' {
  /** Options of one autocannon run. */
  export interface Options {
    /** The target, e.g. `http://127.0.0.1:41234/`. */
    url: string;
    /** Concurrent connections; default 10. */
    connections?: number;
    /** Requests in flight per connection; default 1. */
    pipelining?: number;
    /** Seconds to run; default 10. */
    duration?: number;
    /** Requests to send, then stop (instead of `duration`). */
    amount?: number;
    /** Seconds to wait for a response before counting a timeout; default 10. */
    timeout?: number;
    /** The request method; default `GET`. */
    method?: string;
    /** Request header fields. */
    headers?: Record<string, string>;
    /** The request body. */
    body?: string | Buffer;
    /** Label copied into the result. */
    title?: string;
    /** Skip the per-second progress bar bookkeeping of `track()`. */
    skipAggregateResult?: boolean;
  }

  /** A summary of one histogram (per-second request counts, latencies in ms, bytes/s). */
  export interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    /** For `requests`: completed requests; for `throughput`: bytes. */
    total: number;
    p50: number;
    p90: number;
    p99: number;
  }

  /** What a finished run answers. */
  export interface Result {
    title?: string;
    url: string;
    /** Per-second samples of completed requests; `total` is the completed count. */
    requests: Histogram & { sent: number };
    /** Milliseconds from request sent to response received. */
    latency: Histogram;
    /** Bytes read per second. */
    throughput: Histogram;
    /** Elapsed seconds (two decimals). */
    duration: number;
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    '2xx': number;
  }

  /** A running instance; awaiting it gives the result. */
  export interface Instance extends PromiseLike<Result> {
    /** Ends the run early; the result still arrives. */
    stop(): void;
  }

  /** Starts a load test. */
  function autocannon(options: Options): Instance;
  export default autocannon;
}
