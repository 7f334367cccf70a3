/** test/runtimes/scripts/scenario-hono-app.ts as a Worker, for workerd. */
import { toFetchHandler } from 'tsgi/fetch';
import { app } from './scenario-hono-app.ts';

export default { fetch: toFetchHandler(app) };
