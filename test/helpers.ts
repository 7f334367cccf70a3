/** Small helpers shared by test files (not a test file itself). */

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
