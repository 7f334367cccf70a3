/**
 * iconv-lite, loaded when the test client first submits a form in an encoding that neither
 * UTF-8 nor the single-byte tables of `text-codec.ts` write (Shift_JIS, EUC-JP, EUC-KR, Big5,
 * GBK, gb18030) rather than when `tsgi/testing` is imported: most test suites never do.
 *
 * @module
 */
import type Iconv from 'iconv-lite';
import { loadedOnce } from '../gateway/import-once.ts';

/** The iconv-lite module. */
export type IconvModule = typeof Iconv;

const once = loadedOnce<IconvModule>(() => import('iconv-lite').then((module) => module.default), 'tsgi/testing used iconv-lite before loading it (loadIconv)');

/**
 * iconv-lite, imported on the first call and kept (every later call answers the same settled
 * promise; `importOnce`). A failed import (the package not installed) is not kept: its
 * error, Node's `ERR_MODULE_NOT_FOUND` naming iconv-lite, rejects this call (and so the
 * `submit()` that needed it), and the next call tries again.
 */
export const loadIconv: () => Promise<IconvModule> = once.load;

/**
 * iconv-lite, for code that runs once {@link loadIconv} resolved.
 *
 * @throws Error when iconv-lite is not loaded yet: a bug of tsgi's, not of the test.
 */
export const iconv: () => IconvModule = once.get;

/** iconv-lite once {@link loadIconv} has loaded it; `undefined` before (as `undiciLoaded`, `compressibleLoaded`). */
export const iconvLoaded: () => IconvModule | undefined = once.loaded;
