/**
 * A benchmark server for Bun or Deno (bench/runtime-targets.ts starts it): the hello-world, alone
 * or under a stack of five middleware, as a tsgi app through `toFetchHandler` or as a Hono app,
 * on the runtime's own server (`Bun.serve`, `Deno.serve`). Every variant answers `GET /` with
 * 200, `text/plain` and `Hello, World!`; each middleware of a stack adds one response field.
 *
 * Usage: `bun bench/runtime-server.ts <tsgi|tsgi-stack|hono|hono-stack>` (Deno: `deno run
 * --allow-net --allow-env --allow-read bench/runtime-server.ts …`). Prints `Serving on <url>`.
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from 'hono';
import type { App, Middleware } from '../src/index.ts';
import { compose } from '../src/index.ts';
import { toFetchHandler } from '../src/entries/fetch.ts';

declare const Bun: { serve(options: { hostname: string; port: number; fetch: (request: Request, server: unknown) => Response | Promise<Response> }): { port: number } } | undefined;
declare const Deno:
  | {
      args: string[];
      serve(
        options: { hostname: string; port: number; onListen(address: { port: number }): void },
        handler: (request: Request, info: unknown) => Response | Promise<Response>,
      ): unknown;
    }
  | undefined;

const HELLO = new TextEncoder().encode('Hello, World!');

/** The raw hello-world app (as the Node benchmark's tsgi-raw). */
const hello: App = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [HELLO];
};

/** Middleware number `n`: adds the response field `X-Layer-<n>: 1`. */
const layer = (n: number): Middleware => (app) => {
  const inner = typeof app === 'function' ? app : app.respond.bind(app);
  return (environ, startResponse) => inner(environ, (status, headers, error) => startResponse(status, [...headers, [`X-Layer-${n}`, '1']], error));
};

/**
 * Hono's middleware number `n`: the same field, set before `next()` (Hono's usual way, and its
 * cheapest: set after `next()`, a field makes Hono copy the finished response).
 */
const honoLayer = (n: number): MiddlewareHandler => async (c, next) => {
  c.header(`X-Layer-${n}`, '1');
  await next();
};

function handlerFor(kind: string): (request: Request, env?: unknown) => Response | Promise<Response> {
  switch (kind) {
    case 'tsgi':
      return toFetchHandler(hello);
    case 'tsgi-stack':
      return toFetchHandler(compose(layer(1), layer(2), layer(3), layer(4), layer(5))(hello));
    case 'hono':
      return new Hono().get('/', (c) => c.text('Hello, World!')).fetch;
    case 'hono-stack': {
      const app = new Hono();
      for (let n = 1; n <= 5; n++) app.use(honoLayer(n));
      return app.get('/', (c) => c.text('Hello, World!')).fetch;
    }
    default:
      throw new Error(`unknown variant ${kind}: tsgi, tsgi-stack, hono or hono-stack`);
  }
}

const kind = (typeof Deno !== 'undefined' ? Deno.args[0] : process.argv[2]) ?? 'tsgi';
const fetch = handlerFor(kind);
if (typeof Bun !== 'undefined') {
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch });
  console.log(`Serving on http://127.0.0.1:${server.port}`);
} else if (typeof Deno !== 'undefined') {
  Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`Serving on http://127.0.0.1:${port}`) }, fetch);
} else {
  throw new Error('bench/runtime-server.ts runs on Bun or Deno');
}
