/**
 * Serving a fetch handler (`toFetchHandler(app)`) over a real socket on 127.0.0.1, with
 * `@hono/node-server`, as a Node deployment of a fetch handler runs it.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve as honoServe } from '@hono/node-server';

/** A fetch handler listening on 127.0.0.1 and a free port, until `close()`. */
export interface FetchServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Serves `handler` with `@hono/node-server` on 127.0.0.1 and a free port. */
export async function serveFetch(handler: (request: Request) => Promise<Response> | Response): Promise<FetchServer> {
  const server = await new Promise<http.Server>((resolve) => {
    const started = honoServe({ fetch: handler, hostname: '127.0.0.1', port: 0 }, () => resolve(started as http.Server));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * `tsgi/fetch` loaded afresh while `globalThis[name]` is `stub` (a test of Supabase edge
 * functions stubs `Deno`; a Deno program may shim `Bun`): the runtime is read when the module
 * loads. The stub is gone and the module cache reset when this resolves.
 */
export async function importFetchUnder(name: string, stub: unknown): Promise<typeof import('tsgi/fetch')> {
  const { vi } = await import('vitest');
  vi.stubGlobal(name, stub);
  vi.resetModules();
  try {
    return await import('tsgi/fetch');
  } finally {
    vi.unstubAllGlobals();
    vi.resetModules();
  }
}
