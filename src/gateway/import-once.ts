/**
 * A dependency loaded on first use rather than at import of the module that needs it (busboy,
 * undici, parse5, compressible, iconv-lite): one import shared by every caller, a failed one
 * forgotten. Internal: not part of the public API.
 *
 * @module
 */

/**
 * A function answering `load()`'s promise: `load` runs at the first call, and every later call
 * answers the same promise, so two first requests together share one import. A promise that
 * rejects (the package not installed: Node's `ERR_MODULE_NOT_FOUND` naming it) is not kept: it
 * rejects the calls made while it was pending, and the next call runs `load` again.
 */
export function importOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
}

/**
 * A dependency loaded by {@link importOnce} whose value synchronous code reads once it is in:
 * `load()` imports it (shared, a failed import forgotten), `loaded()` answers it or `undefined`
 * before, and `get()` answers it or throws `Error(notLoaded)` (a bug of tsgi's: code that runs
 * only after the load read it first).
 */
export interface LoadedOnce<T> {
  readonly load: () => Promise<T>;
  readonly loaded: () => T | undefined;
  readonly get: () => T;
}

/** The {@link LoadedOnce} of `load`, whose `get()` throws `notLoaded` before the load resolved. */
export function loadedOnce<T>(load: () => Promise<T>, notLoaded: string): LoadedOnce<T> {
  let value: T | undefined;
  return {
    load: importOnce(() => load().then((module) => (value = module))),
    loaded: () => value,
    get() {
      if (value === undefined) throw new Error(notLoaded);
      return value;
    },
  };
}
