/**
 * The apps of the `tsgi-raw` and `tsgi-app` benchmark targets (bench/tsgi-targets.ts), answering
 * the four routes of bench/routes.ts:
 *
 * - `tsgi-raw`: gateway apps answering `[bytes]`, an async generator, and the parsed and
 *   re-serialised input; `/stack` is 5 raw middlewares, each wrapping `startResponse` to add its
 *   field;
 * - `tsgi-app`: `Request.application` handlers (`new Response(...)`, `Response.json(await
 *   req.json())`); `/stack` is 5 `defineMiddleware` layers, each `await req.getResponse(app)`
 *   then one `res.headers.set()`;
 * - `tsgi-hooks`: the same handlers; `/stack` is 5 `defineMiddleware({ after })` layers, each
 *   one `res.headers.set()` in its `after` hook.
 *
 * Both pick the route's app by `PATH_INFO` from a `Map`, as the baseline picks its branch by
 * `req.url`: the figures measure tsgi's request path, not a router.
 *
 * @module
 */
import { type App, type Middleware, Request, Response, compose, defineMiddleware, serve, toApp } from '../src/index.ts';
import type { Running } from './listen.ts';
import { HELLO, MIDDLEWARES, streamChunks } from './routes.ts';

const HELLO_BYTES = new TextEncoder().encode(HELLO);

/** Serves the `raw`, the `request` or the `hooks` app with tsgi's `serve()` on 127.0.0.1 and a free port. */
export async function serveApp(kind: 'raw' | 'request' | 'hooks'): Promise<Running> {
  const app = kind === 'raw' ? rawApp() : requestApp(kind === 'hooks' ? hooksLayer : appLayer);
  const server = await serve(app, { host: '127.0.0.1', port: 0 });
  return { url: `${server.url}/`, close: () => server.close({ timeout: 0 }) };
}

const NOT_FOUND = new TextEncoder().encode('Not Found');

/** The app answering `PATH_INFO`'s route, or a 404. */
function byPath(routes: Record<string, App>): App {
  const apps = new Map(Object.entries(routes));
  return (environ, startResponse) => {
    const app = apps.get(environ.PATH_INFO);
    if (app !== undefined) return app(environ, startResponse);
    startResponse('404 Not Found', [['Content-Type', 'text/plain']]);
    return [NOT_FOUND];
  };
}

/** Raw middleware number `n`: wraps `startResponse` to add `X-Mw-<n>: 1`. */
const rawLayer = (n: number): Middleware => (app) => {
  const inner = toApp(app);
  return (environ, startResponse) =>
    inner(environ, (status, headers, error) => startResponse(status, [...headers, [`X-Mw-${n}`, '1']], error));
};

/** `defineMiddleware` layer number `n`: runs the app below, then sets `X-Mw-<n>: 1` on its response. */
const appLayer = (n: number): Middleware =>
  defineMiddleware(async (req, app) => {
    const res = await req.getResponse(app);
    res.headers.set(`X-Mw-${n}`, '1');
    return res;
  });

/** `defineMiddleware({ after })` layer number `n`: sets `X-Mw-<n>: 1` on the response on its way up. */
const hooksLayer = (n: number): Middleware =>
  defineMiddleware({
    after(_req, res) {
      res.headers.set(`X-Mw-${n}`, '1');
    },
  });

/** `compose` of the 5 layers `layer(1)` … `layer(5)`, `layer(1)` outermost. */
const stackOf = (layer: (n: number) => Middleware): ((app: App) => App) =>
  compose(...Array.from({ length: MIDDLEWARES }, (_, i) => layer(i + 1)));

/** `tsgi-raw`: gateway apps answering `[bytes]`, an async generator, and the parsed-and-stringified input. */
export function rawApp(): App {
  const hello: App = (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [HELLO_BYTES];
  };
  return byPath({
    '/hello': hello,
    '/stack': stackOf(rawLayer)(hello),
    '/stream': (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      return streamChunks();
    },
    '/echo': async (environ, startResponse) => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of environ['tsgi.input']) chunks.push(chunk);
      const body = Buffer.from(JSON.stringify(JSON.parse(Buffer.concat(chunks).toString())));
      startResponse('200 OK', [['Content-Type', 'application/json']]);
      return [body];
    },
  });
}

/**
 * `tsgi-app` and `tsgi-hooks`: `Request.application` handlers, the stack as 5 `layer`s
 * (`defineMiddleware` layers awaiting `getResponse`, or hooks).
 */
export function requestApp(layer: (n: number) => Middleware = appLayer): App {
  const hello = Request.application(() => new Response(HELLO));
  return byPath({
    '/hello': hello,
    '/stack': stackOf(layer)(hello),
    '/stream': Request.application(() => new Response(streamChunks(), { contentType: 'application/octet-stream' })),
    '/echo': Request.application(async (req) => Response.json(await req.json())),
  });
}

