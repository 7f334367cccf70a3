/**
 * The servers the benchmark compares: every one answers `GET /` with `200`, a `text/plain`
 * Content-Type and the 13 bytes `Hello, World!`, on 127.0.0.1 and a free port.
 *
 * Two kinds of target:
 * - the default set — `node` (the baseline), `tsgi-raw`, `tsgi-app` — measured by a plain
 *   `npm run bench`;
 * - opt-in targets (`default: false`): `node-length`, and the frameworks tsgi is compared with —
 *   `express` (Express 5), `koa` (Koa 3), `hono` (Hono 4 on `@hono/node-server` 2) and `h3`
 *   (h3 2). Each is written the way its own documentation answers a text hello-world, with the
 *   framework's defaults left on. `--targets frameworks` (a {@link TARGET_GROUPS group}) runs
 *   them with the default set: `npm run bench -- --targets frameworks`.
 *
 * This list is the extension point. To add a framework, install it as a dev dependency and
 * append one entry with `default: false`; a framework that gives a Node `(req, res)` handler
 * needs only {@link listen}. Import the framework inside `start()` (as the entries below do), so
 * a run that does not select it never loads it; add its name to a group if it belongs there.
 * Keep the answer the same (status, Content-Type, body) so the figures stay comparable: the
 * runner checks status and body of every target before it measures, and
 * test/bench-targets.test.ts checks all three for every entry.
 *
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Request, Response, serve } from '../src/index.ts';
import { PROXY_TARGETS } from './proxy-targets.ts';
import { FETCH_GROUP, RUNTIME_TARGETS } from './runtime-targets.ts';

/** The body every target answers. */
export const HELLO = 'Hello, World!';

/** A started server. */
export interface Running {
  /** `http://127.0.0.1:<port>/`. */
  url: string;
  /** Stops the server; resolves when it is closed. */
  close(): Promise<void>;
}

/** One benchmark target. */
export interface Target {
  /** Short id, used by `--targets` and in the output. */
  name: string;
  /** One line saying what is measured. */
  label: string;
  /** Measured when `--targets` is not given; default true. */
  default?: boolean;
  /**
   * The size in bytes of the body it answers when that is not {@link HELLO}: then the body is
   * `bigBody(bodySize)` of bench/upstream.ts (the proxy benchmark's 1 MiB answer).
   */
  bodySize?: number;
  /** The target its ratios are computed against, when not {@link BASELINE} (the proxies: tsgi's). */
  baseline?: string;
  /** Starts the server on 127.0.0.1 and an ephemeral port. */
  start(): Promise<Running>;
}

/** The name of the target every ratio is computed against. */
export const BASELINE = 'node';

/**
 * Serves a Node `(req, res)` handler with `node:http` on 127.0.0.1 and a free port; the
 * helper for every framework that can give such a handler.
 */
export function listen(handler: http.RequestListener): Promise<Running> {
  const server = http.createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

const HELLO_BYTES = new TextEncoder().encode(HELLO);

/** Every known target, in the order they are measured within a round (rotated each round). */
export const TARGETS: readonly Target[] = [
  {
    name: BASELINE,
    label: 'raw node:http handler (baseline)',
    start: () =>
      listen((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(HELLO);
      }),
  },
  {
    // Opt-in (`--targets node,node-length,tsgi-raw`): the baseline above commits its headers
    // with writeHead() before end(), so Node sends the 13 bytes chunked; tsgi sends
    // Content-Length. This variant puts the same bytes on the wire as tsgi-raw.
    name: 'node-length',
    label: 'raw node:http handler with Content-Length',
    default: false,
    start: () =>
      listen((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': HELLO_BYTES.byteLength });
        res.end(HELLO_BYTES);
      }),
  },
  {
    name: 'tsgi-raw',
    label: 'tsgi serve(), raw gateway app returning [bytes]',
    start: async () => {
      const server = await serve(
        (_environ, startResponse) => {
          startResponse('200 OK', [['Content-Type', 'text/plain']]);
          return [HELLO_BYTES];
        },
        { host: '127.0.0.1', port: 0 },
      );
      return { url: `${server.url}/`, close: () => server.close({ timeout: 0 }) };
    },
  },
  {
    name: 'tsgi-app',
    label: 'tsgi serve(), Request.application(() => new Response(...))',
    start: async () => {
      const server = await serve(
        Request.application(() => new Response(HELLO)),
        { host: '127.0.0.1', port: 0 },
      );
      return { url: `${server.url}/`, close: () => server.close({ timeout: 0 }) };
    },
  },
  // The frameworks. Each is imported when its target starts, so runs without them (the default)
  // load none of their code. Content-Type is whatever the framework sets for text: all four add
  // `charset=utf-8`.
  {
    // Express also sends its defaults: a weak ETag (a hash of the body) and X-Powered-By.
    name: 'express',
    label: 'Express 5, app.get("/") + res.type("text/plain").send()',
    default: false,
    start: async () => {
      const { default: express } = await import('express');
      const app = express();
      app.get('/', (_req, res) => {
        res.type('text/plain').send(HELLO);
      });
      return listen(app);
    },
  },
  {
    // Koa has no router of its own: the middleware answers every path, like tsgi-raw.
    name: 'koa',
    label: 'Koa 3, app.use((ctx) => { ctx.body = "..." })',
    default: false,
    start: async () => {
      const { default: Koa } = await import('koa');
      const app = new Koa();
      app.use((ctx) => {
        ctx.body = HELLO;
      });
      return listen(app.callback());
    },
  },
  {
    // getRequestListener() is what @hono/node-server's serve() installs. By default it replaces
    // the global Request/Response with its lighter versions; no other target uses those globals.
    name: 'hono',
    label: 'Hono 4, app.get("/", (c) => c.text()) on @hono/node-server 2',
    default: false,
    start: async () => {
      const [{ Hono }, { getRequestListener }] = await Promise.all([import('hono'), import('@hono/node-server')]);
      const app = new Hono().get('/', (c) => c.text(HELLO));
      return listen(getRequestListener(app.fetch));
    },
  },
  {
    // toNodeHandler() from 'h3/node' is the handler h3's own serve() (through srvx) installs.
    name: 'h3',
    label: 'h3 2, new H3().get("/", () => "...") via toNodeHandler (h3/node)',
    default: false,
    start: async () => {
      const [{ H3 }, { toNodeHandler }] = await Promise.all([import('h3'), import('h3/node')]);
      const app = new H3().get('/', () => HELLO);
      return listen(toNodeHandler(app));
    },
  },
  // The proxies (bench/proxy-targets.ts): tsgi's proxy, http-proxy-3 and Hono's proxy helper, in
  // front of one upstream in its own process; `--targets proxy`.
  ...PROXY_TARGETS,
  // Bun and Deno (bench/runtime-targets.ts): tsgi's toFetchHandler and Hono, each a process of
  // its own; `--targets fetch`.
  ...RUNTIME_TARGETS,
];

/**
 * Named groups of targets, accepted wherever a target name is (`--targets frameworks`,
 * `BENCH_TARGETS=frameworks`), alone or mixed with names (`--targets frameworks,node-length`).
 *
 * - `frameworks`: the default set plus every framework tsgi is compared with — `node`,
 *   `tsgi-raw`, `tsgi-app`, `express`, `koa`, `hono`, `h3`. With the default settings a run takes
 *   about 3.5 minutes (7 targets × (2.5 s warm-up + 10 rounds × 2.5 s), plus start-up).
 * - `proxy`: the same upstream through tsgi's `proxy`, http-proxy-3 and Hono's `proxy` helper,
 *   for a 13-byte and a 1 MiB answer (`proxy-tsgi`, `proxy-http-proxy-3`, `proxy-hono`, and
 *   each with `-1m`); ratios against tsgi's. About 3 minutes with the default settings.
 * - `fetch`: tsgi through `toFetchHandler` and Hono on Bun and on Deno, a hello-world and a
 *   5-middleware stack each — `bun-tsgi`, `bun-tsgi-stack`, `bun-hono`, `bun-hono-stack`, and
 *   the same four on Deno (about 4 minutes with the defaults).
 */
export const TARGET_GROUPS: Readonly<Record<string, readonly string[]>> = {
  frameworks: [BASELINE, 'tsgi-raw', 'tsgi-app', 'express', 'koa', 'hono', 'h3'],
  proxy: PROXY_TARGETS.map((t) => t.name),
  fetch: FETCH_GROUP,
};

/** The names measured when `--targets` is not given. */
export const DEFAULT_TARGETS: readonly string[] = TARGETS.filter((t) => t.default !== false).map((t) => t.name);

/**
 * Picks targets by name, keeping the order asked for. A {@link TARGET_GROUPS group} name stands
 * for its members, in the group's order; a target named twice (directly or through a group) is
 * measured once, at its first place.
 *
 * @throws Error naming the unknown ones and listing the known targets and groups.
 */
export function selectTargets(names: readonly string[]): Target[] {
  const expanded = names.flatMap((name) => (Object.hasOwn(TARGET_GROUPS, name) ? TARGET_GROUPS[name]! : [name]));
  const unknown = expanded.filter((name) => !TARGETS.some((t) => t.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `unknown target(s): ${unknown.join(', ')}; known: ${TARGETS.map((t) => t.name).join(', ')}; ` +
        `groups: ${Object.keys(TARGET_GROUPS).join(', ')}`,
    );
  }
  return [...new Set(expanded)].map((name) => TARGETS.find((t) => t.name === name)!);
}

/** The servers {@link startTargets} started. */
export interface StartedTargets {
  /** Each target's URL by name, in the order started. */
  urls: Record<string, string>;
  /** Closes every server; resolves when all are closed (a failing close is ignored). */
  close(): Promise<void>;
}

/**
 * Starts the targets `names` select (see {@link selectTargets}), one after the other.
 *
 * @throws what `selectTargets` or a target's `start` throws (rejects), after closing the
 *   servers already started.
 */
export async function startTargets(names: readonly string[]): Promise<StartedTargets> {
  const running: Running[] = [];
  const urls: Record<string, string> = {};
  const close = async () => void (await Promise.allSettled(running.map((server) => server.close())));
  try {
    for (const target of selectTargets(names)) {
      const server = await target.start();
      running.push(server);
      urls[target.name] = server.url;
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { urls, close };
}
