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
