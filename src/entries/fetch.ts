/**
 * `tsgi/fetch`: running a gateway app where servers speak the fetch API — Bun, Deno,
 * Cloudflare Workers, `@hono/node-server`, srvx — with `toFetchHandler(app)`, and running a
 * fetch handler (Hono, h3, any `(Request) => Response`) as a gateway app with
 * `fromFetchHandler(handler)`. See docs/deployment.md.
 *
 * @module
 */
export { type FetchHandler, toFetchHandler } from '../adapters/fetch/handler.ts';
export { type FetchStyleHandler, type FromFetchOptions, fromFetchHandler } from '../adapters/fetch/from-fetch.ts';
export {
  type FetchExecutionContext,
  type FetchHandlerOptions,
  fetchEnvKey,
  fetchExecutionContextKey,
  fetchRequestKey,
} from '../adapters/fetch/environ.ts';
