/**
 * The `compressible` package, loaded when a `compress` layer or a `directoryApp` with
 * `precompressed: true` is built (in the background: the first request awaits it only if it
 * comes sooner) rather than when `tsgi/middleware` is imported. It brings mime-db's table with
 * it (a copy of its own, not the one `mime-types` uses), which an app using neither never needs.
 *
 * @module
 */
import { loadedOnce } from '../gateway/import-once.ts';

/** `compressible(type)`: `true` for a media type worth compressing, `false` for one that is not, `undefined` when unknown. */
export type Compressible = (type: string) => boolean | undefined;

const once = loadedOnce<Compressible>(() => import('compressible').then((module) => module.default), 'tsgi/middleware used compressible before loading it (loadCompressible)');

/**
 * `compressible`, imported on the first call and kept (every later call answers the same
 * settled promise; `importOnce`). A failed import (the package not installed) is not
 * kept: its error, Node's `ERR_MODULE_NOT_FOUND` naming `compressible`, rejects this call (the
 * request is answered 500 and the error logged), and the next call tries again.
 */
export const loadCompressible: () => Promise<Compressible> = once.load;

/**
 * Starts loading `compressible` when a layer that needs it is built, so its first request
 * finds it loaded. A failure here is left for that request's own {@link loadCompressible} to
 * report, where it can answer it.
 */
export function preloadCompressible(): void {
  loadCompressible().catch(() => {});
}

/** `compressible` once {@link loadCompressible} has loaded it; `undefined` before. */
export const compressibleLoaded: () => Compressible | undefined = once.loaded;

/**
 * True for a `Content-Type` worth compressing by `compressible` (mime-db's flag, plus `text/*`,
 * `+json`, `+text`, `+xml`), for code that runs once {@link loadCompressible} resolved.
 *
 * @throws Error when `compressible` is not loaded yet: a bug of tsgi's, not of the app.
 */
export function isCompressible(type: string): boolean {
  return once.get()(type) === true;
}
