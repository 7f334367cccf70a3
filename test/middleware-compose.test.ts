import { describe, expect, it, vi } from 'vitest';
import { type App, type AppLike, type Middleware, compose, defineMiddleware, HTTPForbidden, Request, Response, serve } from 'tsgi';
import { type AccessLogOptions, type BasicAuthOptions, type BearerAuthOptions, type CompressOptions, type CorsOptions, type ErrorsOptions, type ProxyFixOptions, accessLog, AuthTickets, basicAuth, bearerAuth, compress, cors, errors, lint, proxyFix } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';

async function withServer(app: AppLike, fn: (url: string) => Promise<void>): Promise<void> {
  const server = await serve(app, { port: 0 });
  try {
    await fn(server.url);
  } finally {
    await server.close();
  }
}

const hello = Request.application((req) => new Response(`hello ${req.pathInfo}`));

describe('defineMiddleware', () => {
  const stamp = defineMiddleware<{ name?: string }>(async (req, app, options) => {
    if (req.headers.get('x-block') === 'yes') throw new HTTPForbidden('blocked by stamp');
    const res = await req.getResponse(app);
    res.headers.set('X-Served-By', options.name ?? 'default');
    return res;
  });

  it('wraps an app: the handler goes down the chain and changes the response (socket)', async () => {
    const app = lint(stamp(lint(hello), { name: 'tsgi' }));
    await withServer(app, async (url) => {
      const res = await fetch(`${url}/x`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-served-by')).toBe('tsgi');
      expect(await res.text()).toBe('hello /x');
    });
    app.assertClosed();
  });

  it('passes {} when no options are given', async () => {
    const res = await new TestClient(stamp(hello)).get('/y');
    expect(res.headers.get('x-served-by')).toBe('default');
  });

  it('turns a thrown HTTPException into its response, without calling the app', async () => {
    let called = false;
    const app = stamp((environ, start) => {
      called = true;
      return hello(environ, start);
    });
    const res = await new TestClient(app).get('/', { headers: { 'x-block': 'yes', accept: 'application/json' }, status: 403 });
    expect(await res.json()).toMatchObject({ code: 403, message: 'blocked by stamp' });
    expect(called).toBe(false);
  });

  it('lets the handler answer a string, and rewrite a streamed body', async () => {
    const shout = defineMiddleware(async (req, app) => {
      if (req.pathInfo === '/short') return 'short-circuit';
      const res = await req.getResponse(app);
      res.body = (await res.text()).toUpperCase();
      return res;
    });
    const streaming: App = (_environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
      return (async function* () {
        yield new TextEncoder().encode('a');
        yield new TextEncoder().encode('b');
      })();
    };
    const client = new TestClient(shout(lint(streaming)));
    expect((await client.get('/long')).textBody).toBe('AB');
    expect((await client.get('/short')).textBody).toBe('short-circuit');
  });

  it('lets a middleware read the body and the app read it again', async () => {
    const peek = defineMiddleware(async (req, app) => {
      const data = await req.json<{ n: number }>();
      req.headers.set('X-Peeked', String(data.n));
      return req.getResponse(app);
    });
    const app = peek(
      Request.application(async (req) => `${req.headers.get('x-peeked')}:${(await req.json<{ n: number }>()).n}`),
    );
    expect((await new TestClient(app).post('/', { json: { n: 7 } })).textBody).toBe('7:7');
  });

  it('lets errors of the handler propagate (500 from the server)', async () => {
    const broken = defineMiddleware(() => {
      throw new Error('handler bug');
    });
    const res = await new TestClient(broken(hello)).get('/', { status: 500, allowErrors: true });
    expect(res.errors).toContain('Error: handler bug');
  });
});

describe('compose', () => {
  function tracer(name: string, log: string[]) {
    return defineMiddleware(async (req, app) => {
      log.push(`${name}>`);
      const res = await req.getResponse(app);
      log.push(`<${name}`);
      return res;
    });
  }

  it('applies layers in reading order: the first is the outermost', async () => {
    const log: string[] = [];
    const app: App = (environ, start) => {
      log.push('app');
      return hello(environ, start);
    };
    const stack = compose(tracer('a', log), tracer('b', log), (inner) => tracer('c', log)(inner));
    expect((await new TestClient(stack(lint(app))).get('/z')).textBody).toBe('hello /z');
    expect(log).toEqual(['a>', 'b>', 'c>', 'app', '<c', '<b', '<a']);
  });

  it('answers the app itself without layers, and accepts AppLike objects', async () => {
    const res = new Response('plain');
    const app = compose()(res);
    expect(await (await (await Request.blank('/').getResponse(app)).text())).toBe('plain');
  });

  it('stacks built-in middleware as they are, without arrow functions', async () => {
    const site = Request.application((req) => {
      if (req.pathInfo === '/boom') throw new Error('kaboom');
      return new Response(`${req.remoteAddr} `.repeat(200), { contentType: 'text/plain' });
    });
    const accessLines: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((line) => {
      accessLines.push(String(line));
      return true;
    });
    const errorLines: string[] = [];
    const app = lint(compose(accessLog, errors, compress, proxyFix, lint)(site));
    const server = await serve(app, { port: 0, log: { write: (m) => void errorLines.push(m) } });
    try {
      const res = await fetch(`${server.url}/ok`, { headers: { 'accept-encoding': 'gzip', 'x-forwarded-for': '203.0.113.9' } });
      expect(res.headers.get('content-encoding')).toBe('gzip'); // compress, with its defaults
      expect(await res.text()).toBe('127.0.0.1 '.repeat(200)); // proxyFix trusts nothing by default
      const failed = await fetch(`${server.url}/boom`);
      expect(failed.status).toBe(500); // errors
      expect(await failed.text()).not.toContain('kaboom');
    } finally {
      await server.close();
      stdout.mockRestore();
    }
    expect(errorLines.join('')).toContain('[tsgi] GET /boom HTTP/1.1 500: Error: kaboom');
    expect(accessLines.join('')).toMatch(/"GET \/ok HTTP\/1\.1" 200 \d+ /); // accessLog, combined, on stdout
    expect(accessLines.join('')).toMatch(/"GET \/boom HTTP\/1\.1" 500 /);
    app.assertClosed();
  });

  it('types every built-in as a Middleware of its options; required options need an arrow', () => {
    const stamp = defineMiddleware<{ name?: string }>((req, app) => req.getResponse(app));
    const named = defineMiddleware<{ name: string }>((req, app) => req.getResponse(app));
    const fits: [
      Middleware<AccessLogOptions>,
      Middleware<ErrorsOptions>,
      Middleware<CompressOptions>,
      Middleware<CorsOptions>,
      Middleware<ProxyFixOptions>,
      Middleware,
      Middleware<BasicAuthOptions>,
      Middleware<BearerAuthOptions<{ id: string }>>,
      Middleware<{ name?: string }>,
      Middleware<{ name: string }>,
      Middleware,
    ] = [accessLog, errors, compress, cors, proxyFix, lint, basicAuth, bearerAuth, stamp, named, new AuthTickets({ secret: 'x'.repeat(32) }).middleware];
    expect(fits.every((middleware) => typeof middleware === 'function')).toBe(true);
    expect(typeof compose(stamp, (app) => named(app, { name: 'x' }))(hello)).toBe('function');
    // @ts-expect-error basicAuth's options are required: bind them with an arrow function
    expect(() => compose(basicAuth)(hello)).toThrow(/verify/);
    // @ts-expect-error so are those of a defineMiddleware with a required key
    expect(() => named(hello)).not.toThrow();
  });

  it('refuses layers that are not functions or that do not answer an app', () => {
    expect(() => compose('nope' as never)).toThrow(TypeError);
    expect(() => compose((() => undefined) as never)(hello)).toThrow(/did not return an app/);
  });
});
