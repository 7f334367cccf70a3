/**
 * One request through the layers: the `Request.application` handler and the `defineMiddleware`
 * layers over one environ share one `Request`, so a property a layer sets on `req` (Express's
 * and Fastify's `req.user = user`) is there for the handler below, as WebOb keeps ad-hoc
 * attributes in the environ.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request, Response, compose, defineMiddleware } from 'tsgi';
import { cascade, errorPages, errors, mount } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { request, start } from './node-helpers.ts';

type WithUser = Request & { user?: string };

const login = defineMiddleware({
  before(req) {
    (req as WithUser).user = req.headers.get('X-User') ?? 'nobody';
  },
});
const greet = Request.application((req) => `Hello, ${(req as WithUser).user}`);

describe('the layers over one environ share one Request', () => {
  it('hands the handler below the property a hook set, over a socket', async () => {
    const server = await start(login(greet));
    const res = await request(`${server.url}/`, { headers: { 'X-User': 'ada' } });
    expect(res.body.toString()).toBe('Hello, ada');
  });

  it('and the one an awaiting layer set, through mount, cascade and a raw middleware', async () => {
    const awaiting = defineMiddleware(async (req, app) => {
      (req as WithUser).user = 'grace';
      const res = await req.getResponse(app);
      res.headers.set('X-Seen', String((req as WithUser).user));
      return res;
    });
    const raw = (app: App): App => (environ, startResponse) => app(environ, startResponse);
    const missing: App = (_environ, startResponse) => {
      startResponse('404 Not Found', []);
      return [];
    };
    const app = compose(awaiting, raw)(mount({ '/api': cascade([missing, greet]) }));
    const res = await new TestClient(app).get('/api/x');
    expect([res.status, await res.text(), res.headers.get('X-Seen')]).toEqual(['200 OK', 'Hello, grace', 'grace']);
  });

  it('shares it between layers of one class only: a subclass overriding a getter does not reach a Request layer', async () => {
    class Lowered extends Request {
      override get pathInfo(): string {
        return super.pathInfo.toLowerCase();
      }
    }
    const seen: Request[] = [];
    const below = Request.application((req) => {
      seen.push(req);
      return req.pathInfo;
    });
    const above = Lowered.application(async (req) => {
      seen.push(req);
      return req.getResponse(below);
    });
    const also = Lowered.application(async (req) => {
      seen.push(req);
      return req.getResponse(above);
    });
    expect(await (await new TestClient(also).get('/Upload')).text()).toBe('/Upload');
    expect(seen[1]).toBe(seen[0]); // two Lowered layers: one request
    expect(seen[2]).not.toBe(seen[1]); // the Request layer below: its own, reading PATH_INFO as it is
    expect(seen[2]!.constructor).toBe(Request);
  });

  it('gives a copy of the environ, and a Request of your own, another object', async () => {
    let mine: Request | undefined;
    let handlers: Request | undefined;
    const app = defineMiddleware(async (req, inner) => {
      (req as WithUser).user = 'kept';
      mine = new Request(req.environ);
      return new Request({ ...req.environ }).getResponse(inner);
    })(
      Request.application((req) => {
        handlers = req;
        return String((req as WithUser).user);
      }),
    );
    expect(await (await new TestClient(app).get('/')).text()).toBe('undefined');
    expect(mine).not.toBe(handlers);
    expect((mine as WithUser).user).toBeUndefined();
  });

  it("does not hand cascade's next app the request a skipped app made, nor what it set on it", async () => {
    const missing: App = (_environ, startResponse) => {
      startResponse('404 Not Found', []);
      return [];
    };
    const seen: Request[] = [];
    const skipped = defineMiddleware({
      before(req) {
        seen.push(req);
        (req as WithUser).user = 'from the skipped app';
      },
    })(missing);
    const next = Request.application((req) => {
      seen.push(req);
      return `Hello, ${(req as WithUser).user}`;
    });
    const res = await new TestClient(cascade([skipped, next])).get('/');
    expect(await res.text()).toBe('Hello, undefined');
    expect(seen[1]).not.toBe(seen[0]);
  });

  it("gives errors' onError hook the request the layers shared, with what they set on it", async () => {
    const hooked: unknown[] = [];
    const failing = Request.application(() => {
      throw new Error('boom');
    });
    const app = errors(login(failing), { log: { write() {} }, onError: (_error, req) => void hooked.push((req as WithUser).user) });
    const res = await new TestClient(app).get('/', { headers: { 'X-User': 'ada' }, status: 500 });
    expect(res.status).toBe('500 Internal Server Error');
    expect(hooked).toEqual(['ada']);
  });

  it("gives errorPages' render the request the layers shared for errors()' 500 too", async () => {
    const rendered: unknown[] = [];
    const failing = Request.application(() => {
      throw new Error('boom');
    });
    const app = errorPages(errors(login(failing), { log: { write() {} } }), {
      render(error, req) {
        rendered.push((req as WithUser).user);
        return new Response(`${error.code} for ${(req as WithUser).user}`, { status: error.code });
      },
    });
    const res = await new TestClient(app).get('/', { headers: { 'X-User': 'ada' }, status: 500 });
    expect(await res.text()).toBe('500 for ada');
    expect(rendered).toEqual(['ada']);
  });
});

describe('a hook outside the layers finds the request of its class past a subclass layer', () => {
  class Mine extends Request {}
  const failing = Mine.application(() => {
    throw new Error('boom');
  });

  it("gives errors' onError the Request a layer above a subclass's application set req.user on, over a socket", async () => {
    const hooked: unknown[] = [];
    const server = await start(errors(login(failing), { log: { write() {} }, onError: (_error, req) => void hooked.push((req as WithUser).user) }));
    const res = await request(`${server.url}/`, { headers: { 'X-User': 'ada' } });
    expect(res.status).toBe(500);
    expect(hooked).toEqual(['ada']);
  });

  it("gives errorPages' render that Request too", async () => {
    const app = errorPages(errors(login(failing), { log: { write() {} } }), {
      render: (error, req) => new Response(`${error.code} for ${(req as WithUser).user}`, { status: error.code }),
    });
    const server = await start(app);
    const res = await request(`${server.url}/`, { headers: { 'X-User': 'ada' } });
    expect(res.body.toString()).toBe('500 for ada');
  });
});
