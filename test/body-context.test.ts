/**
 * bindBody: a request's async context (an AsyncLocalStorage store, OpenTelemetry's active
 * context) set by a middleware reaches the steps of a streamed body the server pulls later,
 * and so the access log's format function and errors()' log of a failure after the head.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { type App, Response, compose, serve, type ServerHandle } from 'tsgi';
import { accessLog, bindBody, errors, requestId, requestIdKey } from 'tsgi/middleware';

const trace = new AsyncLocalStorage<string>();
const tick = () => new Promise((resolve) => setTimeout(resolve, 2));

/** What each place saw: `where=store` (`none` outside it). */
let seen: string[] = [];
const see = (where: string) => seen.push(`${where}=${trace.getStore() ?? 'none'}`);

/** A tracing middleware as an OpenTelemetry one is written: the store for the app and its body. */
const tracing = (app: App): App => (environ, startResponse) => {
  const store = `trace-${requestIdKey.get(environ)}`;
  return trace.run(store, async () => bindBody(await app(environ, startResponse), (step) => trace.run(store, step)));
};

const site: App = (environ, startResponse) => {
  const late = environ.PATH_INFO === '/late';
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return (async function* () {
    see('body first');
    yield new TextEncoder().encode('a');
    await tick();
    see('body after await');
    if (late) throw new Error('failed after the head');
    yield new TextEncoder().encode('b');
    await tick();
    see('body last');
  })();
};

let server: ServerHandle | undefined;
afterEach(async () => {
  await server?.close({ timeout: 0 });
  server = undefined;
});

async function run(path: string): Promise<void> {
  seen = [];
  const app = compose(
    requestId,
    tracing,
    (inner) => accessLog(inner, { log: { write() {} }, format: () => (see('access log'), '') }),
    (inner) => errors(inner, { log: { write: () => see('errors log') } }),
  )(site);
  server = await serve(app, { port: 0, log: { write() {} } });
  try {
    await (await fetch(`${server.url}${path}`, { headers: { 'X-Request-Id': 'r1' } })).text();
  } catch {
    // /late: the connection is cut after the head
  }
  // Polled for up to 5 s (50 ticks of 2 ms, about 100 ms, could run out on a loaded machine).
  for (const deadline = Date.now() + 5000; !seen.includes('access log=trace-r1') && Date.now() < deadline; ) await tick();
}

describe('bindBody over a real socket', () => {
  it('runs every step of a streamed body, and the access log, in the middleware store', async () => {
    await run('/ok');
    expect(seen).toEqual(['body first=trace-r1', 'body after await=trace-r1', 'body last=trace-r1', 'access log=trace-r1']);
  });

  it('runs errors()\' log of a failure after the head in the store', async () => {
    await run('/late');
    expect(seen).toEqual(['body first=trace-r1', 'body after await=trace-r1', 'errors log=trace-r1', 'access log=trace-r1']);
  });
});

describe('bindBody', () => {
  const outside = (fn: () => unknown) => trace.run('outside', fn);

  it('keeps a sync body sync and runs its steps in the context', () => {
    const log: string[] = [];
    function* gen() {
      log.push(`first ${trace.getStore()}`);
      yield new Uint8Array([1]);
      log.push(`last ${trace.getStore()}`);
    }
    const body = bindBody(gen(), (step) => trace.run('bound', step)) as Iterable<Uint8Array>;
    expect(Symbol.iterator in body).toBe(true);
    expect(Symbol.asyncIterator in body).toBe(false);
    outside(() => [...body]);
    expect(log).toEqual(['first bound', 'last bound']);
  });

  it('takes AsyncLocalStorage.snapshot() as the runner, and answers an array as it is', () => {
    const log: string[] = [];
    function* gen() {
      log.push(`step ${trace.getStore()}`);
      yield new Uint8Array([1]);
    }
    const body = trace.run('snapshot', () => bindBody(gen(), AsyncLocalStorage.snapshot()));
    outside(() => [...(body as Iterable<Uint8Array>)]);
    expect(log).toEqual(['step snapshot']);
    const chunks = [new Uint8Array([1])];
    expect(bindBody(chunks, (step) => step())).toBe(chunks);
  });

  it('closes the body in the context when the consumer stops early, before its first step too', async () => {
    const log: string[] = [];
    async function* gen() {
      try {
        yield new Uint8Array([1]);
        yield new Uint8Array([2]);
      } finally {
        log.push(`finally ${trace.getStore()}`);
      }
    }
    const it = (bindBody(gen(), (step) => trace.run('bound', step)) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    await outside(() => it.next());
    await outside(() => it.return!());
    expect(log).toEqual(['finally bound']);
    const source = { closed: false, [Symbol.asyncIterator]: () => ({ next: async () => ({ done: false, value: new Uint8Array([1]) }), return: async () => ((source.closed = true), { done: true as const, value: undefined }) }) };
    await (bindBody(source, (step) => step()) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]().return!();
    expect(source.closed).toBe(true);
  });

  it('answers what the body throws, and a Response body streamed through serve()', async () => {
    const failing = (async function* () {
      throw new Error('no');
    })();
    const it = (bindBody(failing, (step) => step()) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toThrow('no');
    server = await serve(tracing((environ, startResponse) => new Response("whole").respond(environ, startResponse)), { port: 0 });
    const res = await fetch(`${server.url}/`);
    expect(res.headers.get('content-length')).toBe('5');
    expect(await res.text()).toBe('whole');
  });
  it('a body that is not one (a string, bare bytes) is logged once under serve(), as unbound, and an unsent one is closed quietly', async () => {
    const lines: string[] = [];
    const log = { write: (line: string) => (lines.push(line), true) };
    for (const wrong of ['hello', new TextEncoder().encode('hello')]) {
      lines.length = 0;
      const bad: App = (_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return bindBody(wrong as never, (step) => trace.run('bound', step));
      };
      server = await serve(bad, { port: 0, log });
      const res = await fetch(`${server.url}/`);
      expect(res.status).toBe(500);
      await res.text();
      await server.close({ timeout: 0 });
      server = undefined;
      expect(lines.filter((line) => line.includes('TypeError'))).toHaveLength(1);
    }
    // Never opened (a HEAD, a client gone): return() has nothing to close; throw() throws what it is given.
    const unopened = bindBody('oops' as never, (step) => step()) as unknown as Iterator<Uint8Array>;
    expect(unopened.return!()).toEqual({ done: true, value: undefined });
    const thrown = new Error('given');
    expect(() => (bindBody('oops' as never, (step) => step()) as unknown as Iterator<Uint8Array>).throw!(thrown)).toThrow(thrown);
  });
});
