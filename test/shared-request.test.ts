/**
 * One request through the layers: the `Request.application` handler and the `defineMiddleware`
 * layers over one environ share one `Request`, so a property a layer sets on `req` (Express's
 * and Fastify's `req.user = user`) is there for the handler below, as WebOb keeps ad-hoc
 * attributes in the environ.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request, Response, compose, defineMiddleware } from 'tsgi';
import { cascade, mount } from 'tsgi/middleware';
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

  it('shares a subclass made above with the Request layers below, not a Request with a subclass layer', async () => {
    class Tagged extends Request {
      get tag(): string {
        return 'tagged';
      }
    }
    const seen: Request[] = [];
    const outer = defineMiddleware({ before: (req) => void seen.push(req) });
    const inner = Tagged.application((req) => {
      seen.push(req);
      return req.tag;
    });
    const below = Request.application((req) => {
      seen.push(req);
      return 'below';
    });
    expect(await (await new TestClient(outer(inner)).get('/')).text()).toBe('tagged');
    expect(seen[1]).toBeInstanceOf(Tagged);
    expect(seen[1]).not.toBe(seen[0]); // a Request above is no Tagged: the Tagged layer makes its own
    seen.length = 0;
    const taggedAbove = Tagged.application(async (req) => {
      seen.push(req);
      return req.getResponse(below);
    });
    expect(await (await new TestClient(taggedAbove).get('/')).text()).toBe('below');
    expect(seen[1]).toBe(seen[0]); // a Tagged is a Request: shared below
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
});
