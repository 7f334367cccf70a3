/**
 * `tsgi/proxy`: filtering and rewriting services — the upstream proxy app and the response
 * filters that rewrite what it (or any app) answers. See docs/proxy.md.
 *
 * @module
 */
export { type ProxyApp, type ProxyOptions, proxy } from '../proxy/proxy.ts';
export type { HeaderEdits } from '../proxy/header-edits.ts';
