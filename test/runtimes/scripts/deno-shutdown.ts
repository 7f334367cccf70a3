/**
 * Run by test/runtimes/deno-shutdown.test.ts under `deno run --allow-net`: `Deno.serve` waits in
 * `server.shutdown()` for the answers in flight, so an event stream would hold it for ever; with
 * `toFetchHandler`'s `shutdownSignal` aborted first, the stream ends whole and the shutdown
 * finishes. Prints one JSON line: how long the shutdown took (ms), whether the client's stream
 * ended cleanly, what it read, and whether the source's `finally` ran.
 */
import { Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';

/** The part of Deno's global this script uses. */
declare const Deno: {
  serve(
    options: { hostname: string; port: number; onListen(): void },
    handler: (request: globalThis.Request) => Promise<globalThis.Response>,
  ): { addr: { port: number }; shutdown(): Promise<void> };
  exit(code: number): never;
};

const stopping = new AbortController();
let cleaned = false;
const app = Request.application(() =>
  Response.eventStream(
    (async function* () {
      try {
        for (let n = 0; ; n++) {
          yield { id: String(n), data: `tick ${n}` };
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        cleaned = true;
      }
    })(),
    { heartbeat: 0 },
  ),
);

const server = Deno.serve({ hostname: '127.0.0.1', port: 0, onListen() {} }, toFetchHandler(app, { shutdownSignal: stopping.signal }));
const response = await fetch(`http://127.0.0.1:${server.addr.port}/events`);
const reader = response.body!.getReader();
const decoder = new TextDecoder();
let text = decoder.decode((await reader.read()).value);
const reading = (async () => {
  try {
    for (;;) {
      const step = await reader.read();
      if (step.done) return 'ended';
      text += decoder.decode(step.value);
    }
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  }
})();
await new Promise((resolve) => setTimeout(resolve, 60));
const begun = Date.now();
stopping.abort();
const limit = new Promise((resolve) => setTimeout(resolve, 5000, 'still waiting after 5 s'));
const shutdown = await Promise.race([server.shutdown().then(() => 'done'), limit]);
const took = Date.now() - begun;
const outcome = await Promise.race([reading, limit]);
await new Promise((resolve) => setTimeout(resolve, 50));
console.log(JSON.stringify({ shutdown, took, outcome, whole: /^:\n\n(id: \d+\ndata: tick \d+\n\n)+$/.test(text), cleaned }));
Deno.exit(0);
