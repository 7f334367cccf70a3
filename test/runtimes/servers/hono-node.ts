/**
 * The `@hono/node-server` row of the conformance suite: examples/everywhere.ts through
 * `toFetchHandler` on Node, served by Hono's Node adapter (which passes `{ incoming, outgoing }`
 * as the handler's second argument, so `REMOTE_ADDR` and the HTTP version are known).
 */
import { serve } from '@hono/node-server';
import { toFetchHandler } from 'tsgi/fetch';
import { app } from '../../../examples/everywhere.ts';

serve({ fetch: toFetchHandler(app), hostname: '127.0.0.1', port: Number(process.env.PORT ?? 0) }, (info) => {
  console.log(`Serving on http://127.0.0.1:${info.port}`);
});
