/**
 * Serves a fetch handler on 127.0.0.1 with the runtime's own server, under Deno or Bun: the
 * start shared by the scripts the runtime tests run there.
 */
declare const Deno: { serve(options: { hostname: string; port: number; onListen(): void }, handler: unknown): { addr: { port: number }; shutdown(): Promise<void> } } | undefined;
declare const Bun: { serve(options: { hostname: string; port: number; fetch: unknown }): { port: number; stop(force: boolean): Promise<void> | void } } | undefined;

/**
 * The port the runtime chose, and how to stop its server: `stop` at once (Bun's cuts the
 * answers in flight), `shutdown` gracefully (Deno's `server.shutdown()`, Bun's `server.stop()`:
 * both wait for the answers in flight).
 */
export function listenOnRuntime(handler: (request: Request) => Response | Promise<Response>): { port: number; stop: () => unknown; shutdown: () => Promise<unknown> } {
  if (typeof Deno !== 'undefined') {
    const server = Deno.serve({ hostname: '127.0.0.1', port: 0, onListen() {} }, handler);
    return { port: server.addr.port, stop: () => server.shutdown(), shutdown: () => server.shutdown() };
  }
  const server = Bun!.serve({ hostname: '127.0.0.1', port: 0, fetch: handler });
  return { port: server.port, stop: () => server.stop(true), shutdown: async () => server.stop(false) };
}
