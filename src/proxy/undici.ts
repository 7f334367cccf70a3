/**
 * The undici package, for the proxy. Imported by its file, `undici/index.js`, rather than as
 * `'undici'`: Bun answers the bare name with a built-in stand-in whose `Pool` has no
 * `dispatch` (Bun 1.4), so `proxy` failed every request there with a `TypeError`. Node and
 * Deno load the same file by either name.
 */
export { buildConnector, type Dispatcher, errors, Pool } from 'undici/index.js';
