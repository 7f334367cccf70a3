/**
 * bindBody under `toFetchHandler` (served by `@hono/node-server` over a real socket, as Bun and
 * Deno serve it): the access log line that the adapter writes once the head is settled (an
 * answer in memory) or once the client left before the answer (499) runs in the store of the
 * tracing middleware that bound the body, as it does under `serve()` (docs/middleware.md,
 * "Request context").
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type App, Response, Request as TsgiRequest, compose } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { accessLog, bindBody, errors, requestId, requestIdKey } from 'tsgi/middleware';
import { type FetchServer, serveFetch } from './fetch-helpers.ts';

const trace = new AsyncLocalStorage<string>();
const tick = () => new Promise((resolve) => setTimeout(resolve, 2));

/** The tracing middleware of docs/middleware.md: the store for the app and its body. */
const tracing = (app: App): App => (environ, startResponse) => {
  const store = `trace-${requestIdKey.get(environ)}`;
  return trace.run(store, async () => bindBody(await app(environ, startResponse), (step) => trace.run(store, step)));
};

const site = TsgiRequest.application(async (req) => {
  if (req.pathInfo === '/slow') await new Promise((resolve) => setTimeout(resolve, 1000));
  return Response.json({ ok: true });
});

let server: FetchServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Serves the documented stack; answers what the access log's format function saw. */
async function start(): Promise<string[]> {
  const seen: string[] = [];
  const app = compose(
    requestId,
    tracing,
    (inner) => accessLog(inner, { log: { write() {} }, format: (e) => (seen.push(`${e.status} ${trace.getStore() ?? 'none'}`), '') }),
    errors,
  )(site);
  server = await serveFetch(toFetchHandler(app));
  return seen;
}

async function until(seen: string[]): Promise<void> {
  for (const deadline = Date.now() + 5000; seen.length === 0 && Date.now() < deadline; ) await tick();
}

describe('bindBody under toFetchHandler', () => {
  it('runs the access log of an answer in memory in the middleware store', async () => {
    const seen = await start();
    const res = await fetch(`${server!.url}/`, { headers: { 'X-Request-Id': 'r1' } });
    expect(await res.json()).toEqual({ ok: true });
    await until(seen);
    expect(seen).toEqual(['200 trace-r1']);
  });

  it('runs the 499 line of a client gone before the answer in the middleware store', async () => {
    const seen = await start();
    await new Promise<void>((resolve) => {
      const req = http.get(`${server!.url}/slow`, { headers: { 'X-Request-Id': 'r2' } });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      setTimeout(() => req.destroy(), 100);
    });
    await until(seen);
    expect(seen).toEqual(['499 trace-r2']);
  });
});
