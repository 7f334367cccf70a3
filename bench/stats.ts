/**
 * The few statistics the benchmark report needs, and number formatting.
 *
 * @module
 */
import os from 'node:os';

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Coefficient of variation: standard deviation / mean, as a fraction. */
export function variation(values: readonly number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return mean === 0 ? 0 : sd / mean;
}

/** `12345.6` → `12,346`. */
export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
/** `0.123` → `12.3%`. */
export const pct = (n: number): string => `${(n * 100).toFixed(1)}%`;
/** The 1, 5 and 15 minute load averages. */
export const loadavg = (): string => os.loadavg().map((n) => n.toFixed(2)).join(' ');

/**
 * `node v24.x.y`, with `, NODE_OPTIONS=…` when that variable is set (the server processes
 * inherit it, and a V8 flag such as `--max-semi-space-size` moves every figure): for the first
 * line of the runner and of the memory scripts.
 */
export const nodeLabel = (): string => `node ${process.version}${process.env.NODE_OPTIONS ? `, NODE_OPTIONS=${process.env.NODE_OPTIONS}` : ''}`;
