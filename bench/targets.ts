/**
 * The servers the benchmark compares: every one answers `GET /` with `200`,
 * `Content-Type: text/plain` and the 13 bytes `Hello, World!`, on 127.0.0.1 and a free port.
 *
 * This list is the extension point. To add a framework (Express, Koa, Hono, h3, …), install it
 * as a dev dependency and append one entry; a framework that gives a Node `(req, res)` handler
 * needs only {@link listen}:
 *
 * ```ts
 * // import express from 'express';
 * { name: 'express', label: 'Express 5, app.get("/")',
 *   start: () => {
 *     const app = express();
 *     app.get('/', (_req, res) => { res.type('text/plain').send('Hello, World!'); });
 *     return listen(app);
 *   } },
 * // Koa:  listen(new Koa().use((ctx) => { ctx.body = 'Hello, World!'; }).callback())
 * // Hono: listen(getRequestListener(new Hono().get('/', (c) => c.text('Hello, World!')).fetch))
 * //       (getRequestListener from '@hono/node-server')
 * // h3:   listen(toNodeHandler(new H3().get('/', () => 'Hello, World!')))  (from 'h3')
 * ```
 *
 * Then `npm run bench -- --targets=node,tsgi-raw,express` measures it against the baseline.
 * Keep the answer the same (status, Content-Type, body) so the figures stay comparable; the
 * runner checks status and body of every target before it measures.
 *
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Request, Response, serve } from '../src/index.ts';

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
    label: 'raw node:http handler with Content-Length (opt-in)',
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
];

/** The names measured when `--targets` is not given. */
export const DEFAULT_TARGETS: readonly string[] = TARGETS.filter((t) => t.default !== false).map((t) => t.name);

/**
 * Picks targets by name, keeping the order asked for.
 *
 * @throws Error naming the unknown ones and listing the known ones.
 */
export function selectTargets(names: readonly string[]): Target[] {
  const unknown = names.filter((name) => !TARGETS.some((t) => t.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown target(s): ${unknown.join(', ')}; known: ${TARGETS.map((t) => t.name).join(', ')}`);
  }
  return names.map((name) => TARGETS.find((t) => t.name === name)!);
}
