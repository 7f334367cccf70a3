/** Small helpers shared by test files (not a test file itself). */
import { afterEach, beforeEach } from 'vitest';
import { gc } from './gc.ts';

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
 * The CPU time `work` takes, in milliseconds: user and system time of this whole process
 * (`process.cpuUsage()`, every thread, so a server started in the test and V8's collector count
 * too). Other processes' load on the machine stretches wall time, not this.
 */
export async function cpuTime(work: () => Promise<unknown> | unknown): Promise<number> {
  const started = process.cpuUsage();
  await work();
  const { user, system } = process.cpuUsage(started);
  return (user + system) / 1000;
}

/**
 * How many times more CPU time ({@link cpuTime}) `work(large)` takes than `work(small)`, each
 * the least of `rounds` alternating runs (after one warm-up run at `small`), each run after a
 * full collection, so that the garbage of the run before is not charged to it: a collection
 * or a cold cache lands in one run, not in all of them. For tests that tell linear growth from
 * quadratic, with `large` ten times `small`: linear is about 10 (less, as the fixed costs of a
 * run weigh more in the small one) and quadratic 100, so a bound of 20 holds on a loaded
 * machine and still fails the quadratic. CPU time, not wall time: two CPUs shared with other
 * test files stretched a wall-time ratio of 4 to 11 (four times the size, then).
 */
export async function growthRatio(work: (n: number) => Promise<unknown>, small: number, large: number, rounds = 3): Promise<number> {
  await work(small);
  let smallest = Infinity;
  let largest = Infinity;
  for (let round = 0; round < rounds; round++) {
    gc();
    smallest = Math.min(smallest, await cpuTime(() => work(small)));
    gc();
    largest = Math.min(largest, await cpuTime(() => work(large)));
  }
  return largest / smallest;
}
