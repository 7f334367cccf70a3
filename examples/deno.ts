/**
 * examples/everywhere.ts on Deno: `Deno.serve` with `toFetchHandler`. Deno runs TypeScript and
 * the npm packages in node_modules as they are:
 *
 * ```sh
 * npx deno run --allow-net --allow-env --allow-read --allow-write --unstable-no-legacy-abort \
 *   --conditions=tsgi-source examples/deno.ts
 * curl http://127.0.0.1:8000/env/
 * ```
 *
 * Deno hands its `ServeHandlerInfo` to the handler, so `REMOTE_ADDR` and `REMOTE_PORT` are the
 * client's (`info.remoteAddr`). `PORT` and `HOST` choose the address (default 127.0.0.1:8000).
 * `--unstable-no-legacy-abort` makes `request.signal` (`tsgi.signal`) abort only when the client
 * leaves, not after every response; `--allow-write` is for spooled uploads.
 *
 * @module
 */
import { toFetchHandler } from 'tsgi/fetch';
import { app } from './everywhere.ts';

/** The part of Deno's global this example uses (`deno types` prints all of it). */
declare const Deno: {
  env: { get(name: string): string | undefined };
  serve(
    options: { hostname: string; port: number; onListen(address: { hostname: string; port: number }): void },
    handler: (request: Request, info: unknown) => Promise<Response>,
  ): { finished: Promise<void>; shutdown(): Promise<void> };
  addSignalListener(signal: 'SIGTERM', handler: () => void): void;
  exit(code: number): never;
};

// Aborted on SIGTERM, before `server.shutdown()`: event streams end then (shutdown() would wait for them for ever).
const stopping = new AbortController();
const server = Deno.serve(
  {
    hostname: Deno.env.get('HOST') ?? '127.0.0.1',
    port: Number(Deno.env.get('PORT') ?? 8000),
    onListen: ({ hostname, port }) => console.log(`Serving on http://${hostname}:${port}`),
  },
  toFetchHandler(app, { shutdownSignal: stopping.signal }),
);
Deno.addSignalListener('SIGTERM', async () => {
  stopping.abort();
  await server.shutdown();
  Deno.exit(0);
});
