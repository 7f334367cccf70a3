/**
 * The frameworks tsgi is compared with, each answering the four routes of bench/routes.ts the
 * way its own documentation does, with its defaults left on, on a plain `node:http` server
 * (Fastify on its own, which is one too):
 *
 * - `/hello`: the framework's text answer;
 * - `/stack`: 5 middlewares of the framework's own kind, registered for `/stack` only, each
 *   setting `X-Mw-<n>: 1` before passing on (Express `app.use(path, fn)`, Koa router middleware,
 *   Hono `app.use(path, fn)`, h3 `app.use(path, fn)`, Fastify `onRequest` hooks in an
 *   encapsulated plugin);
 * - `/stream`: the async generator of routes.ts through the framework's streaming idiom
 *   (a Node `Readable` for Express, Koa and Fastify; Hono's `stream()` helper; a web
 *   `ReadableStream` for h3);
 * - `/echo`: the framework's JSON body parsing and JSON answer.
 *
 * Each framework is imported when its target starts, so runs without it load none of its code.
 *
 * @module
 */
import { Readable, pipeline } from 'node:stream';
// Types only (erased): the frameworks themselves are imported when their target starts.
import type { RequestHandler } from 'express';
import type { Middleware as KoaMiddleware } from 'koa';
import { type Running, listen } from './listen.ts';
import { HELLO, MIDDLEWARES, streamChunks } from './routes.ts';

/** `[1, 2, 3, 4, 5]`: the numbers of the middlewares of `/stack`. */
const LAYERS = Array.from({ length: MIDDLEWARES }, (_, i) => i + 1);

async function express(): Promise<Running> {
  const { default: express } = await import('express');
  const app = express();
  for (const n of LAYERS) {
    app.use('/stack', (_req, res, next) => {
      res.set(`X-Mw-${n}`, '1');
      next();
    });
  }
  const hello: RequestHandler = (_req, res) => void res.type('text/plain').send(HELLO);
  app.get('/hello', hello);
  app.get('/stack', hello);
  app.get('/stream', (_req, res) => {
    res.type('application/octet-stream');
    pipeline(Readable.from(streamChunks()), res, () => {});
  });
  app.post('/echo', express.json(), (req, res) => void res.json(req.body));
  return listen(app);
}

async function koa(): Promise<Running> {
  const [{ default: Koa }, { default: Router }, { bodyParser }] = await Promise.all([import('koa'), import('@koa/router'), import('@koa/bodyparser')]);
  const app = new Koa();
  const router = new Router();
  const hello: KoaMiddleware = (ctx) => {
    ctx.body = HELLO;
  };
  const layers = LAYERS.map((n): KoaMiddleware => async (ctx, next) => {
    ctx.set(`X-Mw-${n}`, '1');
    await next();
  });
  router.get('/hello', hello);
  router.get('/stack', ...layers, hello);
  router.get('/stream', (ctx) => {
    ctx.type = 'application/octet-stream';
    ctx.body = Readable.from(streamChunks());
  });
  router.post('/echo', bodyParser(), (ctx) => {
    ctx.body = ctx.request.body;
  });
  app.use(router.routes());
  return listen(app.callback());
}

async function hono(): Promise<Running> {
  // getRequestListener() is what @hono/node-server's serve() installs. By default it replaces
  // the global Request/Response with its lighter versions; no other target uses those globals.
  const [{ Hono }, { stream }, { getRequestListener }] = await Promise.all([import('hono'), import('hono/streaming'), import('@hono/node-server')]);
  const app = new Hono();
  for (const n of LAYERS) {
    app.use('/stack', async (c, next) => {
      c.header(`X-Mw-${n}`, '1');
      await next();
    });
  }
  app.get('/hello', (c) => c.text(HELLO));
  app.get('/stack', (c) => c.text(HELLO));
  app.get('/stream', (c) => {
    c.header('Content-Type', 'application/octet-stream');
    return stream(c, async (out) => {
      for await (const chunk of streamChunks()) await out.write(chunk);
    });
  });
  app.post('/echo', async (c) => c.json(await c.req.json()));
  return listen(getRequestListener(app.fetch));
}

async function h3(): Promise<Running> {
  // toNodeHandler() from 'h3/node' is the handler h3's own serve() (through srvx) installs.
  const [{ H3, readBody }, { toNodeHandler }] = await Promise.all([import('h3'), import('h3/node')]);
  const app = new H3();
  for (const n of LAYERS) {
    app.use('/stack', (event) => {
      event.res.headers.set(`X-Mw-${n}`, '1');
    });
  }
  app.get('/hello', () => HELLO);
  app.get('/stack', () => HELLO);
  app.get('/stream', (event) => {
    event.res.headers.set('Content-Type', 'application/octet-stream');
    return ReadableStream.from(streamChunks());
  });
  app.post('/echo', (event) => readBody(event));
  return listen(toNodeHandler(app));
}

async function fastify(): Promise<Running> {
  const { default: Fastify } = await import('fastify');
  // forceCloseConnections: close() ends keep-alive connections too, like the other targets'.
  const app = Fastify({ forceCloseConnections: true });
  app.get('/hello', (_req, reply) => void reply.type('text/plain').send(HELLO));
  await app.register(async (scope) => {
    for (const n of LAYERS) {
      scope.addHook('onRequest', (_req, reply, done) => {
        reply.header(`X-Mw-${n}`, '1');
        done();
      });
    }
    scope.get('/stack', (_req, reply) => void reply.type('text/plain').send(HELLO));
  });
  app.get('/stream', (_req, reply) => void reply.type('application/octet-stream').send(Readable.from(streamChunks())));
  app.post('/echo', (req, reply) => void reply.send(req.body));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, close: () => app.close() };
}

/** What bench/targets.ts lists for the frameworks (all opt-in). */
export const FRAMEWORK_TARGETS = [
  { name: 'express', label: 'Express 5 on node:http', start: express },
  { name: 'koa', label: 'Koa 3 with @koa/router and @koa/bodyparser, app.callback() on node:http', start: koa },
  { name: 'hono', label: 'Hono 4 on @hono/node-server 2 (getRequestListener)', start: hono },
  { name: 'h3', label: 'h3 2 via toNodeHandler (h3/node) on node:http', start: h3 },
  { name: 'fastify', label: 'Fastify 5, its own node:http server', start: fastify },
] as const;
