/**
 * test/runtimes/scripts/scenario-workers-app.ts as a Worker, for workerd: the session secret is
 * the `SESSION_SECRET` binding, read at module scope from `cloudflare:workers`; `/public` is
 * handed to the `ASSETS` binding, as docs/deployment.md shows for Workers Static Assets.
 */
import { env } from 'cloudflare:workers';
import { fromFetchHandler, toFetchHandler } from 'tsgi/fetch';
import { makeApp } from './scenario-workers-app.ts';

const assets = fromFetchHandler((request, bindings) => bindings.ASSETS.fetch(request));

export default { fetch: toFetchHandler(makeApp(env.SESSION_SECRET as string, assets), { maxBodySize: 64 * 1024 }) };
