import { describe, expect, expectTypeOf, it } from 'vitest';
import { type App, HTTPFound, HTTPMethodNotAllowed, HTTPNotFound, HTTPUnauthorized, Request, Response, defineMiddleware } from 'tsgi';

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('Request.getResponse on raw apps', () => {
  it('wraps a sync array body, keeping status, headers and Content-Length as sent', async () => {
    const app: App = (_environ, start) => {
      start('201 Created', [
        ['Content-Type', 'text/plain'],
        ['Content-Length', '5'],
        ['X-A', '1'],
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
      ]);
      return [enc.encode('hel'), enc.encode('lo')];
    };
    const res = await Request.blank('/').getResponse(app);
    expect(res.status).toBe('201 Created');
    expect(res.isStreamed()).toBe(false);
    expect((await res.text())).toBe('hello');
    expect(res.headers.list).toEqual([
      ['Content-Type', 'text/plain'],
      ['Content-Length', '5'],
      ['X-A', '1'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
    ]);
  });

  it('gives an array body without Content-Length its computed length', async () => {
    const app: App = (_environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return [enc.encode('abc')];
    };
    const res = await Request.blank('/').getResponse(app);
    expect(res.contentLength).toBe(3);
    expect(res.contentType).toBe('text/plain');
    expect(res.charset).toBeNull();
  });

  it('keeps the declared Content-Length of a HEAD answer with no body', async () => {
    const app: App = (_environ, start) => {
      start('200 OK', [['Content-Length', '1234']]);
      return [];
    };
    const res = await Request.blank('/', { method: 'HEAD' }).getResponse(app);
    expect(res.contentLength).toBe(1234);
    expect((await res.bytes()).byteLength).toBe(0);
  });

  it('gives a bodiless answer no computed Content-Length (HEAD, 204, 304)', async () => {
    const empty: App = (environ, start) => {
      start(environ.PATH_INFO === '/304' ? '304 Not Modified' : environ.PATH_INFO === '/204' ? '204 No Content' : '200 OK', [
        ['ETag', '"v1"'],
      ]);
      return [];
    };
    for (const [path, method] of [['/', 'HEAD'], ['/204', 'GET'], ['/304', 'GET']] as const) {
      const res = await Request.blank(path, { method }).getResponse(empty);
      expect(res.headers.has('content-length'), `${method} ${path}`).toBe(false);
    }
    // An ordinary empty 200 to a GET does have a length: zero.
    expect((await Request.blank('/').getResponse(empty)).contentLength).toBe(0);
  });

  it('keeps a custom reason phrase and adds no Content-Type of its own', async () => {
    const app: App = (_environ, start) => {
      start('299 Quite Fine', []);
      return [];
    };
    const res = await Request.blank('/').getResponse(app);
    expect(res.status).toBe('299 Quite Fine');
    expect(res.statusCode).toBe(299);
    expect(res.contentType).toBeNull();
  });

  it('runs a sync generator that calls startResponse lazily', async () => {
    const app: App = (_environ, start) =>
      (function* () {
        start('202 Accepted', [['X-Lazy', 'yes']]);
        yield enc.encode('a');
        yield enc.encode('b');
      })();
    const res = await Request.blank('/').getResponse(app);
    expect(res.status).toBe('202 Accepted');
    expect(res.headers.get('x-lazy')).toBe('yes');
    expect(dec.decode(await res.bytes())).toBe('ab');
  });

  it('runs an async generator with a lazy startResponse, and the body stays streamed', async () => {
    const produced: string[] = [];
    let closed = false;
    const app: App = (_environ, start) =>
      (async function* () {
        try {
          start('200 OK', [['Content-Type', 'text/event-stream']]);
          for (const part of ['one', 'two', 'three']) {
            produced.push(part);
            yield enc.encode(part);
          }
        } finally {
          closed = true;
        }
      })();
    const res = await Request.blank('/').getResponse(app);
    expect(res.isStreamed()).toBe(true);
    expect(res.contentLength).toBeNull();
    expect(res.headers.has('content-length')).toBe(false);
    expect(produced).toEqual(['one']);
    const chunks: string[] = [];
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) chunks.push(dec.decode(chunk));
    expect(chunks).toEqual(['one', 'two', 'three']);
    expect(closed).toBe(true);
  });

  it('closes the app body when the streamed Response is abandoned', async () => {
    let closed = false;
    const app: App = (_environ, start) =>
      (async function* () {
        start('200 OK', []);
        try {
          yield enc.encode('a');
          yield enc.encode('b');
        } finally {
          closed = true;
        }
      })();
    const res = await Request.blank('/').getResponse(app);
    for await (const _chunk of res.body as AsyncIterable<Uint8Array>) break;
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(closed).toBe(true);
  });

  it('handles an async app and an empty generator', async () => {
    const app: App = async (_environ, start) => {
      await Promise.resolve();
      return (function* () {
        start('204 No Content', []);
      })();
    };
    const res = await Request.blank('/').getResponse(app);
    expect(res.statusCode).toBe(204);
    expect(res.isStreamed()).toBe(false);
    expect((await res.bytes()).byteLength).toBe(0);
  });

  it('runs objects with respond(): a Response and an HTTPException', async () => {
    const res = await Request.blank('/').getResponse(new Response('direct'));
    expect((await res.text())).toBe('direct');
    const err = await Request.blank('/').getResponse(new HTTPNotFound('nope'));
    expect(err.statusCode).toBe(404);
    expect((await err.text())).toContain('nope');
  });

  it('passes the environ through, so the app sees the request', async () => {
    const app: App = (environ, start) => {
      start('200 OK', []);
      return [enc.encode(`${environ.REQUEST_METHOD} ${environ.PATH_INFO}`)];
    };
    const res = await Request.blank('/where', { method: 'PUT' }).getResponse(app);
    expect((await res.text())).toBe('PUT /where');
  });

  it('lets errors of the app propagate, sync or async', async () => {
    const boom = new Error('boom');
    await expect(
      Request.blank('/').getResponse(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    await expect(Request.blank('/').getResponse(async () => Promise.reject(boom))).rejects.toBe(boom);
    const failing: App = (_environ, start) =>
      (function* () {
        start('200 OK', []);
        throw boom;
      })();
    await expect(Request.blank('/').getResponse(failing)).rejects.toBe(boom);
  });

  it('refuses an app that never calls startResponse, or calls it twice', async () => {
    await expect(Request.blank('/').getResponse(() => [enc.encode('x')])).rejects.toThrow(TypeError);
    await expect(Request.blank('/').getResponse(() => [])).rejects.toThrow(/startResponse/);
    const twice: App = (_environ, start) => {
      start('200 OK', []);
      start('200 OK', []);
      return [];
    };
    await expect(Request.blank('/').getResponse(twice)).rejects.toThrow(TypeError);
  });

  it('lets a second startResponse with an error replace the status before the body', async () => {
    const app: App = (_environ, start) => {
      start('200 OK', [['X-First', '1']]);
      start('500 Internal Server Error', [['X-Second', '1']], new Error('late'));
      return [enc.encode('oops')];
    };
    const res = await Request.blank('/').getResponse(app);
    expect(res.statusCode).toBe(500);
    expect(res.headers.has('x-first')).toBe(false);
    expect(res.headers.get('x-second')).toBe('1');
  });

  it('refuses invalid status lines, headers and chunks from the app', async () => {
    const badStatus: App = (_environ, start) => {
      start('OK', []);
      return [];
    };
    await expect(Request.blank('/').getResponse(badStatus)).rejects.toThrow(TypeError);
    const badHeader: App = (_environ, start) => {
      start('200 OK', [['X-A', 'a\r\nb']]);
      return [];
    };
    await expect(Request.blank('/').getResponse(badHeader)).rejects.toThrow(TypeError);
    const badChunk: App = (_environ, start) => {
      start('200 OK', []);
      return ['text' as unknown as Uint8Array];
    };
    await expect(Request.blank('/').getResponse(badChunk)).rejects.toThrow(TypeError);
  });
});

describe('Request.application', () => {
  const run = (app: App, path = '/', options: Parameters<typeof Request.blank>[1] = {}) =>
    Request.blank(path, options).getResponse(app);

  it('serves a Response returned by the handler', async () => {
    const app = Request.application((req) => new Response(`hi ${req.pathInfo}`, { status: 201 }));
    const res = await run(app, '/there');
    expect(res.status).toBe('201 Created');
    expect((await res.text())).toBe('hi /there');
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  });

  it('sends a returned string as 200 text/plain; charset=utf-8', async () => {
    const res = await run(Request.application(() => 'héllo'));
    expect(res.statusCode).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect((await res.text())).toBe('héllo');
    expect(res.contentLength).toBe(6);
  });

  it('turns a thrown HTTPException into its response', async () => {
    const app = Request.application(() => {
      throw new HTTPMethodNotAllowed(['GET', 'HEAD'], 'Use GET');
    });
    const res = await run(app, '/', { method: 'POST' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect((await res.text())).toContain('Use GET');
  });

  it('serves a returned HTTPException, negotiated by Accept', async () => {
    const app = Request.application(() => new HTTPNotFound('<no>'));
    const html = await run(app, '/', { headers: { Accept: 'text/html' } });
    expect(html.statusCode).toBe(404);
    expect(html.contentType).toBe('text/html');
    expect((await html.text())).toContain('&lt;no&gt;');
    const json = await run(app, '/', { headers: { Accept: 'application/json' } });
    expect((await json.json())).toMatchObject({ code: 404, message: '<no>' });
  });

  it('makes the Location of a returned redirect absolute against the request', async () => {
    const app = Request.application(() => new HTTPFound('next'));
    const res = await run(app, '/dir/page', { baseUrl: 'https://example.com/app' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.get('location')).toBe('https://example.com/app/dir/next');
  });

  it('awaits an async handler, and a thenable', async () => {
    const app = Request.application(async (req) => new Response(await req.text()));
    const res = await run(app, '/', { method: 'POST', body: 'echo' });
    expect((await res.text())).toBe('echo');
    const thenable = Request.application(
      () => ({ then: (resolve: (value: string) => void) => resolve('from thenable') }) as unknown as Promise<string>,
    );
    expect((await (await run(thenable)).text())).toBe('from thenable');
  });

  it('turns a rejected HTTPException from an async handler into its response', async () => {
    const app = Request.application(async () => {
      await Promise.resolve();
      throw new HTTPUnauthorized('who?', { headers: { 'WWW-Authenticate': 'Basic realm="x"' } });
    });
    const res = await run(app);
    expect(res.statusCode).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="x"');
  });

  it('lets other errors propagate, sync and async', async () => {
    const boom = new RangeError('boom');
    const sync = Request.application(() => {
      throw boom;
    });
    expect(() => sync(Request.blank('/').environ, () => {})).toThrow(boom);
    await expect(run(sync)).rejects.toBe(boom);
    const async = Request.application(async () => {
      throw boom;
    });
    await expect(run(async)).rejects.toBe(boom);
  });

  it('runs another app returned by the handler, on the same environ', async () => {
    const inner: App = (environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return [enc.encode(`inner saw ${environ.PATH_INFO}`)];
    };
    const app = Request.application((req) => {
      req.pathInfoPop();
      return inner;
    });
    const res = await run(app, '/prefix/rest');
    expect((await res.text())).toBe('inner saw /rest');
    const nested = Request.application(() => Request.application(() => 'deep'));
    expect((await (await run(nested)).text())).toBe('deep');
    const objectApp = Request.application(() => ({ respond: inner }));
    expect((await (await run(objectApp, '/x')).text())).toBe('inner saw /x');
  });

  it('refuses a handler result that is not a response', async () => {
    const app = Request.application(() => undefined as unknown as string);
    await expect(run(app)).rejects.toThrow(/expected a Response/);
    const number = Request.application(() => 42 as unknown as string);
    await expect(run(number)).rejects.toThrow(TypeError);
  });

  it('answers HEAD with the headers and no body', async () => {
    const app = Request.application(() => new Response('hello'));
    const res = await run(app, '/', { method: 'HEAD' });
    expect(res.contentLength).toBe(5);
    expect((await res.bytes()).byteLength).toBe(0);
    const err = await run(Request.application(() => new HTTPNotFound()), '/', { method: 'HEAD' });
    expect(err.statusCode).toBe(404);
    expect((await err.bytes()).byteLength).toBe(0);
    expect(err.contentLength).toBeGreaterThan(0);
  });

  it('gives the handler a Request over the same environ, so body reads replay', async () => {
    let seen: Request | undefined;
    const app = Request.application(async (req) => {
      seen = req;
      return new Response(String((await req.json<{ n: number }>()).n + 1));
    });
    const outer = Request.blank('/', { json: { n: 41 } });
    const res = await outer.getResponse(app);
    expect((await res.text())).toBe('42');
    expect(seen?.environ).toBe(outer.environ);
    expect(await outer.json()).toEqual({ n: 41 });
  });
});

describe('Request subclasses', () => {
  /** An app's own request: attributes read from the environ, as a session middleware would set it. */
  class AppRequest extends Request {
    get user(): string | null {
      const user = this.environ['myapp.user'];
      return typeof user === 'string' ? user : null;
    }

    override get pathInfo(): string {
      return super.pathInfo.toLowerCase();
    }
  }

  it('application builds the subclass for each call, typed as it', async () => {
    const seen: Request[] = [];
    const app = AppRequest.application((req) => {
      expectTypeOf(req).toEqualTypeOf<AppRequest>();
      seen.push(req);
      return new Response(null, { status: 204, headers: { 'X-User': req.user ?? '-', 'X-Path': req.pathInfo } });
    });
    const res = await Request.blank('/A/B', { environ: { 'myapp.user': 'ann' } }).getResponse(app);
    expect(res.statusCode).toBe(204);
    expect(res.headers.get('x-user')).toBe('ann');
    expect(res.headers.get('x-path')).toBe('/a/b');
    await Request.blank('/').getResponse(app);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBeInstanceOf(AppRequest);
    expect(seen[0]).not.toBe(seen[1]);
  });

  it('application on Request itself still builds a plain Request', async () => {
    let seen: Request | undefined;
    const app = Request.application((req) => {
      expectTypeOf(req).toEqualTypeOf<Request>();
      seen = req;
      return new Response(null, { status: 204 });
    });
    await AppRequest.blank('/').getResponse(app);
    expect(seen).toBeInstanceOf(Request);
    expect(seen).not.toBeInstanceOf(AppRequest);
  });

  it('blank builds the subclass, with every option applied', async () => {
    const req = AppRequest.blank('/Upload', { method: 'POST', json: { a: 1 }, environ: { 'myapp.user': 'bob' } });
    expectTypeOf(req).toEqualTypeOf<AppRequest>();
    expect(req).toBeInstanceOf(AppRequest);
    expect([req.method, req.pathInfo, req.user]).toEqual(['POST', '/upload', 'bob']);
    expect(await req.json()).toEqual({ a: 1 });
  });

  it('middleware gives its function the subclass; the app below gets its own class', async () => {
    const calls: string[] = [];
    const requireUser = AppRequest.middleware(async (req, app, { realm }: { realm: string }) => {
      expectTypeOf(req).toEqualTypeOf<AppRequest>();
      calls.push(`middleware ${req.constructor.name} ${req.user}`);
      if (req.user === null) throw new HTTPUnauthorized(`Log in to ${realm}.`);
      const res = await req.getResponse(app);
      res.headers.set('X-Realm', realm);
      return res;
    });
    const inner = Request.application((req) => {
      calls.push(`app ${req.constructor.name}`);
      return new Response(null, { status: 204 });
    });
    const app = requireUser(inner, { realm: 'admin' });
    const ok = await Request.blank('/', { environ: { 'myapp.user': 'ann' } }).getResponse(app);
    expect([ok.statusCode, ok.headers.get('x-realm')]).toEqual([204, 'admin']);
    const refused = await Request.blank('/').getResponse(app);
    expect(refused.statusCode).toBe(401);
    expect(calls).toEqual(['middleware AppRequest ann', 'app Request', 'middleware AppRequest null']);
  });

  it('middleware takes both type arguments on a subclass', async () => {
    const stamp = AppRequest.middleware<{ header: string }, AppRequest>(async (req, app, { header }) => {
      const res = await req.getResponse(app);
      res.headers.set(header, req.user ?? '-');
      return res;
    });
    const app = stamp(Request.application(() => new Response(null, { status: 204 })), { header: 'X-User' });
    const res = await Request.blank('/', { environ: { 'myapp.user': 'cy' } }).getResponse(app);
    expect(res.headers.get('x-user')).toBe('cy');
  });

  it('defineMiddleware is Request.middleware: a plain Request, even inside a subclass app', async () => {
    let seen: Request | undefined;
    const peek = defineMiddleware((req, app) => {
      expectTypeOf(req).toEqualTypeOf<Request>();
      seen = req;
      return req.getResponse(app);
    });
    const app = peek(AppRequest.application(() => new Response(null, { status: 204 })));
    await AppRequest.blank('/').getResponse(app);
    expect(seen).toBeInstanceOf(Request);
    expect(seen).not.toBeInstanceOf(AppRequest);
  });

  it('getResponse, body reads and HTTP exceptions work on a subclass instance', async () => {
    const echo = Request.application(async (req) => new Response(null, { status: 200, headers: { 'X-Sum': String((await req.json<number[]>()).reduce((a, b) => a + b)) } }));
    const req = AppRequest.blank('/', { method: 'POST', json: [1, 2, 3], headers: { Accept: 'application/json' } });
    const res = await req.getResponse(echo);
    expect(res.headers.get('x-sum')).toBe('6');
    expect(await req.json()).toEqual([1, 2, 3]);
    const missing = await req.getResponse(AppRequest.application((r) => new HTTPNotFound(`No ${r.pathInfo}`)));
    expect(missing.statusCode).toBe(404);
    expect(missing.contentType).toBe('application/json');
  });
});
