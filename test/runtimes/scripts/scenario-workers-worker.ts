/**
 * test/runtimes/scripts/scenario-workers-app.ts as a Worker, for workerd: the session secret is
 * the `SESSION_SECRET` binding, read at module scope from `cloudflare:workers`.
 */
import { env } from 'cloudflare:workers';
import { toFetchHandler } from 'tsgi/fetch';
import { makeApp } from './scenario-workers-app.ts';

export default { fetch: toFetchHandler(makeApp(env.SESSION_SECRET as string), { maxBodySize: 64 * 1024 }) };
