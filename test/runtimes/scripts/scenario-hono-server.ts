/**
 * Serves test/runtimes/scripts/scenario-hono-app.ts and prints `Serving on <url>`: with `serve()`
 * under Node (argument `node`), through `toFetchHandler` on `@hono/node-server` (`hono-node`), or
 * on the runtime's own server under Bun and Deno.
 */
import { toFetchHandler } from 'tsgi/fetch';
import { app } from './scenario-hono-app.ts';
import { listenOnRuntime } from './listen.ts';

const kind = typeof process !== 'undefined' ? process.argv[2] : undefined;
if (kind === 'node') {
  const { serve } = await import('tsgi');
  const server = await serve(app, { host: '127.0.0.1', port: 0 });
  console.log(`Serving on ${server.url}`);
} else if (kind === 'hono-node') {
  const { serve } = await import('@hono/node-server');
  serve({ fetch: toFetchHandler(app), hostname: '127.0.0.1', port: 0 }, (info) => console.log(`Serving on http://127.0.0.1:${info.port}`));
} else {
  const { port } = listenOnRuntime(toFetchHandler(app));
  console.log(`Serving on http://127.0.0.1:${port}`);
}
