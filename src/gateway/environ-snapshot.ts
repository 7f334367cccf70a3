/**
 * Saving an environ and putting it back as it was (what `cascade` does between its tries),
 * without making a key that is made on first read ({@link lazyEnvironKey}) at the save.
 *
 * @module
 */
import type { Environ } from './types.ts';
import { LAZY_KEY_NAMES, lazySlotOf } from './lazy-environ-key.ts';

/** A lazy key not read when saved: its descriptor, and the slot its value goes to once read. */
interface LazyKey {
  readonly key: string;
  readonly descriptor: PropertyDescriptor;
  readonly slot: symbol;
}

/** What {@link saveEnviron} keeps. */
export interface EnvironSnapshot {
  /** The environ's own enumerable keys and values (symbols too), as a spread copy holds them, but a lazy key not read yet. */
  readonly values: Environ;
  /** The lazy keys not read yet, kept as they are; `undefined` when there is none. */
  readonly lazy: readonly LazyKey[] | undefined;
}

/**
 * The environ's keys and values, as `{ ...environ }` holds them, except a lazy key not read yet
 * ({@link lazyEnvironKey}), which is kept unread: a spread reads every getter, so it would make
 * `tsgi.signal` before the app gives its status (the fetch adapter joins a signal read after a
 * 204/205/304, to abort the body it drops). Only keys named by a lazy descriptor have theirs
 * looked at.
 */
export function saveEnviron(environ: Environ): EnvironSnapshot {
  const values = {} as Environ;
  let lazy: LazyKey[] | undefined;
  for (const key of Object.keys(environ)) {
    if (LAZY_KEY_NAMES.has(key)) {
      const descriptor = Object.getOwnPropertyDescriptor(environ, key)!;
      const slot = lazySlotOf(descriptor.get);
      if (slot !== undefined && !Object.hasOwn(environ, slot)) {
        (lazy ??= []).push({ key, descriptor, slot });
        continue;
      }
    }
    values[key] = environ[key];
  }
  const symbols = values as unknown as Record<symbol, unknown>;
  const from = environ as unknown as Record<symbol, unknown>;
  for (const symbol of Object.getOwnPropertySymbols(environ)) {
    if (Object.prototype.propertyIsEnumerable.call(environ, symbol)) symbols[symbol] = from[symbol];
  }
  return { values, lazy };
}

/**
 * Puts `environ` back as {@link saveEnviron} found it: string keys added since are removed,
 * the saved values assigned, and a lazy key unread then is unread again (its slot removed, its
 * descriptor put back if a layer replaced it), so a value a skipped app set (a `timeout()`'s
 * `tsgi.signal`) does not stay. Symbol keys added since are left, as a spread copy's
 * `Object.assign` leaves them (their owners settle them: `finishSkipped`, `forgetSharedRequest`).
 */
export function restoreEnviron(environ: Environ, snapshot: EnvironSnapshot): void {
  const { values, lazy } = snapshot;
  for (const key of Object.keys(environ)) {
    if (!Object.hasOwn(values, key) && (lazy === undefined || !lazy.some((entry) => entry.key === key))) delete environ[key];
  }
  Object.assign(environ, values);
  if (lazy === undefined) return;
  for (const { key, descriptor, slot } of lazy) {
    delete (environ as unknown as Record<symbol, unknown>)[slot];
    if (Object.getOwnPropertyDescriptor(environ, key)?.get !== descriptor.get) Object.defineProperty(environ, key, descriptor);
  }
}
