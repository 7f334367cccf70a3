/**
 * iconv-lite, loaded when the test client first submits a form in an encoding that neither
 * UTF-8 nor the single-byte tables of `text-codec.ts` write (Shift_JIS, EUC-JP, EUC-KR, Big5,
 * GBK, gb18030) rather than when `tsgi/testing` is imported: most test suites never do.
 *
 * @module
 */
import type Iconv from 'iconv-lite';
import { importOnce } from '../gateway/import-once.ts';

/** The iconv-lite module. */
export type IconvModule = typeof Iconv;

let loaded: IconvModule | undefined;

/**
 * iconv-lite, imported on the first call and kept (every later call answers the same settled
 * promise; {@link importOnce}). A failed import (the package not installed) is not kept: its
 * error, Node's `ERR_MODULE_NOT_FOUND` naming iconv-lite, rejects this call (and so the
 * `submit()` that needed it), and the next call tries again.
 */
export const loadIconv: () => Promise<IconvModule> = importOnce(() => import('iconv-lite').then((module) => (loaded = module.default)));

/**
 * iconv-lite, for code that runs once {@link loadIconv} resolved.
 *
 * @throws Error when iconv-lite is not loaded yet: a bug of tsgi's, not of the test.
 */
export function iconv(): IconvModule {
  if (loaded === undefined) throw new Error('tsgi/testing used iconv-lite before loading it (loadIconv)');
  return loaded;
}

/** iconv-lite once {@link loadIconv} has loaded it; `undefined` before (as `undiciLoaded`, `compressibleLoaded`). */
export function iconvLoaded(): IconvModule | undefined {
  return loaded;
}
