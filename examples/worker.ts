/**
 * examples/everywhere.ts as a Cloudflare Worker: the module's default export is the Worker,
 * its `fetch` is `toFetchHandler(app)`. Deploy it with wrangler (examples/wrangler.toml), or
 * run it locally on workerd, the Workers runtime (examples/workerd.capnp), after bundling it
 * (docs/deployment.md shows the commands):
 *
 * ```sh
 * node --conditions=tsgi-source examples/worker-bundle.ts /tmp/worker.js   # esbuild, as wrangler bundles
 * cp examples/workerd.capnp /tmp/ && npx workerd serve /tmp/workerd.capnp
 * curl http://127.0.0.1:8787/env/
 * ```
 *
 * The Worker's `env` (its bindings: KV, secrets, …) and `ctx` (`waitUntil`) reach the app as
 * `tsgi.fetch_env` and `tsgi.fetch_execution_context` (read them with `fetchEnvKey` and
 * `fetchExecutionContextKey` from `tsgi/fetch`). `REMOTE_ADDR` is the `CF-Connecting-IP`
 * field that Cloudflare sets.
 *
 * @module
 */
import { toFetchHandler } from 'tsgi/fetch';
import { app } from './everywhere.ts';

export default { fetch: toFetchHandler(app) };
