/**
 * Environ keys whose value is made on first read (docs/spec.md §2), and what a layer that
 * saves and puts back an environ (`cascade`, see environ-snapshot.ts) needs to keep them lazy.
 *
 * @module
 */
import type { Environ } from './types.ts';

/** The slot of each lazy key's getter (see {@link lazyEnvironKey}), found by {@link lazySlotOf}. */
const SLOTS = new WeakMap<object, symbol>();

/** The names given to {@link lazyEnvironKey}: only these can be lazy, so a save looks at no other key's descriptor. */
export const LAZY_KEY_NAMES = new Set<string>();

/**
 * A property descriptor for an environ key whose value is made on first read (spec §2: a
 * server may define a key as an accessor that behaves like a plain property). The first read
 * computes the value; every read after it, and every write, goes to a slot of that environ
 * under a symbol of this key, so the key reads and writes as a plain property would. One
 * descriptor is shared by every environ, so installing it with `Object.defineProperty`
 * allocates nothing.
 *
 * The accessor stays: replacing it with a data property on first read (`defineProperty` again)
 * costs about 0.7 µs a key in V8, which reconfigures the object's shape each time, where a
 * symbol slot is an ordinary property add.
 */
export function lazyEnvironKey(key: string, compute: (environ: Environ) => unknown): PropertyDescriptor {
  const slot = Symbol(key);
  const get = function (this: Environ): unknown {
    const slots = this as unknown as Record<symbol, unknown>;
    if (slot in slots) return slots[slot];
    const value = compute(this);
    slots[slot] = value;
    return value;
  };
  SLOTS.set(get, slot);
  LAZY_KEY_NAMES.add(key);
  return {
    get,
    set(this: Environ, value: unknown) {
      (this as unknown as Record<symbol, unknown>)[slot] = value;
    },
    enumerable: true,
    configurable: true,
  };
}

/** The slot a {@link lazyEnvironKey} descriptor's getter keeps its value in; `undefined` for any other getter. */
export function lazySlotOf(get: unknown): symbol | undefined {
  return typeof get === 'function' ? SLOTS.get(get) : undefined;
}
