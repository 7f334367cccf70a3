/**
 * The `@hono/node-server` row of the conformance suite: examples/everywhere.ts through
 * `toFetchHandler` on Node, served by Hono's Node adapter (which passes `{ incoming, outgoing }`
 * as the handler's second argument, so `REMOTE_ADDR` and the HTTP version are known).
 */
import type http from 'node:http';
import { serve } from '@hono/node-server';
import { toFetchHandler } from 'tsgi/fetch';
import { app } from '../../../examples/everywhere.ts';

// Aborted on SIGTERM, before `server.close()`: event streams end then, which close() would wait for.
const stopping = new AbortController();
const server = serve({ fetch: toFetchHandler(app, { shutdownSignal: stopping.signal }), hostname: '127.0.0.1', port: Number(process.env.PORT ?? 0) }, (info) => {
  console.log(`Serving on http://127.0.0.1:${info.port}`);
});
process.once('SIGTERM', () => {
  stopping.abort();
  server.close(() => process.exit(0));
  (server as http.Server).closeIdleConnections();
});
