/** Small helpers shared by test files (not a test file itself). */
import { afterEach, beforeEach } from 'vitest';

/** The error a promise rejects with; fails the test when it resolves instead. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** What {@link generator} answers: picks, coin tosses and whole numbers, all from one seed. */
export interface Generator {
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  below(n: number): number;
}

/** A small deterministic generator (a linear congruential one), so a failure can be replayed from its seed. */
export function generator(seed: number): Generator {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
  return { pick: (items) => items[Math.floor(next() * items.length)]!, chance: (p) => next() < p, below: (n) => Math.floor(next() * n) };
}

/**
 * Settles two macrotasks from now (a `setTimeout` of 0 set from inside another): for a body
 * step that must come after its head went out. The TestClient and `toFetchHandler` wait one
 * `setTimeout(0)` for a body's second step, serve() one `setImmediate`, before the head; a
 * body that awaits this between its first and second steps loses that race whatever the load,
 * since its second timer is set only once its first fired, after the server's wait was set.
 * A fixed `setTimeout(r, 5)` does not: a process stalled a few ms between the two timers
 * (a loaded CI machine, a GC pause) lets the body's timer fire first, and the step then comes
 * before the head (a 500 instead of a cut, a `Content-Length` on a stream).
 */
export const afterTheHeadWait = (): Promise<void> => new Promise((resolve) => setTimeout(() => setTimeout(resolve, 0), 0));

/**
 * Records the process's unhandled rejections during each test of the file calling it (at its top
 * level: it registers `beforeEach`/`afterEach`): the reasons, emptied before each test. A
 * rejection left unhandled ends a Node server's process, so a test of a failure path asserts
 * this stays empty.
 */
export function recordUnhandledRejections(): unknown[] {
  const reasons: unknown[] = [];
  const record = (reason: unknown) => void reasons.push(reason);
  beforeEach(() => {
    reasons.length = 0;
    process.on('unhandledRejection', record);
  });
  afterEach(() => {
    process.off('unhandledRejection', record);
  });
  return reasons;
}

/**
 * How many times longer `time(large)` takes than `time(small)`, each the quickest of `rounds`
 * alternating runs (after one warm-up run at `small`): a pause of a loaded machine lands in one
 * run, not in all of them. For tests that tell linear growth from quadratic: with `large` four
 * times `small`, linear is about 4 and quadratic 16.
 */
export async function growthRatio(time: (n: number) => Promise<number>, small: number, large: number, rounds = 3): Promise<number> {
  await time(small);
  let smallest = Infinity;
  let largest = Infinity;
  for (let round = 0; round < rounds; round++) {
    smallest = Math.min(smallest, await time(small));
    largest = Math.min(largest, await time(large));
  }
  return largest / smallest;
}
