/**
 * The undici package, for the proxy, loaded when a `proxy()` app is built (in the background:
 * its first request awaits the load only if it comes sooner) rather than when `tsgi/proxy` is
 * imported: undici is about 110 files and 11–14 MB of resident memory,
 * which an app using only the response filters (`rewriteHtml`, `replaceText`, `decodeContent`,
 * `rewriteLocation`) never needs, and a proxy needs only once it forwards.
 *
 * Imported by its file, `undici/index.js`, rather than as `'undici'`: Bun answers the bare
 * name with a built-in stand-in whose `Pool` has no `dispatch` (Bun 1.4), so `proxy` failed
 * every request there with a `TypeError`. Node and Deno load the same file by either name.
 *
 * @module
 */
import type * as Undici from 'undici/index.js';
import { loadedOnce } from '../gateway/import-once.ts';

export type { buildConnector, Dispatcher } from 'undici/index.js';

/** The undici module. */
export type UndiciModule = typeof Undici;

const once = loadedOnce<UndiciModule>(() => import('undici/index.js'), 'tsgi/proxy used undici before loading it (loadUndici)');

/**
 * undici, imported on the first call and kept. A failed import (undici not installed) is not
 * kept: its error, Node's `ERR_MODULE_NOT_FOUND` naming undici, rejects this call (the request
 * is answered 500 and the error logged), and the next call tries again.
 */
export const loadUndici: () => Promise<UndiciModule> = once.load;

/** undici once {@link loadUndici} has loaded it; `undefined` before. */
export const undiciLoaded: () => UndiciModule | undefined = once.loaded;

/**
 * undici, for code that runs only once a request was handed to it (a dispatcher's connector,
 * an exchange's timer), so after {@link loadUndici} resolved.
 *
 * @throws Error when undici is not loaded yet: a bug of tsgi's, not of the app.
 */
export const undici: () => UndiciModule = once.get;
