/**
 * examples/everywhere.ts on Bun: `Bun.serve` with `toFetchHandler`. Bun runs TypeScript and
 * resolves `tsgi` from source with the `tsgi-source` condition (an installed tsgi needs no flag):
 *
 * ```sh
 * npx bun --conditions=tsgi-source examples/bun.ts          # PORT=8000 HOST=127.0.0.1 by default
 * curl http://127.0.0.1:8000/env/
 * ```
 *
 * On SIGTERM it stops gracefully: the answers in flight finish, and event streams end at once
 * (`shutdownSignal`), where `server.stop()` alone would wait for them for ever.
 *
 * Bun hands its `Server` to the handler, so `REMOTE_ADDR` and `REMOTE_PORT` are the client's
 * (`server.requestIP`), and the `Server` is in the environ as `tsgi.fetch_env`.
 *
 * @module
 */
import { toFetchHandler } from 'tsgi/fetch';
import { app } from './everywhere.ts';

/** The part of Bun's global this example uses (bun-types has all of it). */
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    fetch: (request: Request, server: unknown) => Promise<Response>;
  }): { url: URL; stop(closeActiveConnections?: boolean): Promise<void> };
};

// Aborted on SIGTERM, before `server.stop()`: event streams end then (stop() would wait for them for ever).
const stopping = new AbortController();
const server = Bun.serve({
  hostname: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 8000),
  fetch: toFetchHandler(app, { shutdownSignal: stopping.signal }),
});
console.log(`Serving on ${server.url.origin}`);
process.once('SIGTERM', async () => {
  stopping.abort();
  await server.stop();
  process.exit(0);
});
