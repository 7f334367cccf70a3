/**
 * bindBody under the `TestClient`: the access log line it has written once the answer is read
 * (an answer in memory, a stream that ended) runs in the store of the tracing middleware that
 * bound the body, as under `serve()` (docs/middleware.md, "Request context"), so a test of a
 * service's tracing sees what production does.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { type App, Response, Request as TsgiRequest, compose } from 'tsgi';
import { TestClient } from 'tsgi/testing';
import { accessLog, bindBody, errors, requestId, requestIdKey } from 'tsgi/middleware';

const trace = new AsyncLocalStorage<string>();
const encoder = new TextEncoder();

/** The tracing middleware of docs/middleware.md: the store for the app and its body. */
const tracing = (app: App): App => (environ, startResponse) => {
  const store = `trace-${requestIdKey.get(environ)}`;
  return trace.run(store, async () => bindBody(await app(environ, startResponse), (step) => trace.run(store, step)));
};

const site = TsgiRequest.application((req) =>
  req.pathInfo === '/stream'
    ? new Response((async function* () {
        yield encoder.encode('a');
        yield encoder.encode('b');
      })())
    : Response.json({ ok: true }),
);

describe('bindBody under the TestClient', () => {
  it("runs the access log in the middleware store, for an answer in memory and a stream", async () => {
    const seen: string[] = [];
    const app = compose(
      requestId,
      tracing,
      (inner) => accessLog(inner, { log: { write() {} }, format: (e) => (seen.push(`${e.url} ${trace.getStore() ?? 'none'}`), '') }),
      errors,
    )(site);
    const client = new TestClient(app);
    expect((await client.get('/', { headers: { 'X-Request-Id': 'r1' } })).statusCode).toBe(200);
    expect(await (await client.get('/stream', { headers: { 'X-Request-Id': 'r2' } })).text()).toBe('ab');
    expect(seen).toEqual(['/ trace-r1', '/stream trace-r2']);
  });
});
