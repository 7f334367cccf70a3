/**
 * `toNodeHandler` inside Express 5, over a real socket: what the app sees of a request that
 * Express's own middleware handled first.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { type App, type AppLike, Request, Response, redirect, serve } from 'tsgi';
import { toNodeHandler } from 'tsgi/node';
import { toFetchHandler } from 'tsgi/fetch';
import { TestClient } from 'tsgi/testing';
import { RouteMap } from 'tsgi/routing';
import { directoryApp, mount } from 'tsgi/middleware';
import Koa from 'koa';
import { errorLog, rawExchange } from './node-helpers.ts';

const servers: http.Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Listens with `web` on 127.0.0.1; answers its base URL. */
async function listen(web: express.Express): Promise<string> {
  const server = await new Promise<http.Server>((resolve) => {
    const s: http.Server = web.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Answers the JSON body it read, or the form's `name`. */
const echo = Request.application(async (req) =>
  req.contentType === 'application/json' ? Response.json(await req.json()) : new Response(`name=${(await req.form()).get('name')}`),
);

describe('a body read by Express before toNodeHandler', () => {
  it('fails the app’s read with a logged 500 naming the cause, not a 400 blaming the client', async () => {
    const log = errorLog();
    const web = express();
    web.use(express.json());
    web.use('/t', toNodeHandler(echo, { log }));
    const base = await listen(web);
    const res = await fetch(`${base}/t/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(res.status).toBe(500);
    expect(log.text).toContain('[tsgi] POST /t/x HTTP/1.1: Error: the request body was read before toNodeHandler');
    expect(log.text).toContain('mount the tsgi app before body-parsing middleware');
  });

  it('fails a form read instead of answering an empty form', async () => {
    const log = errorLog();
    const web = express();
    web.use(express.urlencoded());
    web.use('/t', toNodeHandler(echo, { log }));
    const base = await listen(web);
    const res = await fetch(`${base}/t/x`, { method: 'POST', body: new URLSearchParams({ name: 'ada' }) });
    expect(res.status).toBe(500);
    expect(log.text).toContain('express.json(), express.urlencoded()');
  });

  it('leaves a body the parsers did not take (another content type, or tsgi mounted first) to the app', async () => {
    const web = express();
    web.use('/first', toNodeHandler(echo));
    web.use(express.json());
    web.use('/t', toNodeHandler(echo));
    const base = await listen(web);
    const json = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' };
    expect(await (await fetch(`${base}/first/x`, json)).json()).toEqual({ a: 1 });
    const form = await fetch(`${base}/t/x`, { method: 'POST', body: new URLSearchParams({ name: 'ada' }) });
    expect(await form.text()).toBe('name=ada');
  });
});

describe('a Node framework app given where a gateway app is expected', () => {
  it('is refused at once by serve(), toNodeHandler() and TestClient, naming the framework', async () => {
    // Typed as gateway apps by mistake (an untyped import, `as any`): each answered 500 to every request.
    const web = express() as unknown as AppLike;
    const koa = new Koa() as unknown as AppLike;
    await expect(serve(web, { port: 0 })).rejects.toThrow(/^serve: this is an Express or Connect app, not a gateway app .*toNodeHandler$/);
    expect(() => toNodeHandler(web)).toThrow(/^toNodeHandler: this is an Express or Connect app/);
    expect(() => new TestClient(koa)).toThrow(/^TestClient: this is a Koa app/);
  });

  it('is refused at once when it is an Express router, which has no listen() (served, it answered 500 to every request)', async () => {
    const router = express.Router() as unknown as AppLike;
    await expect(serve(router, { port: 0 })).rejects.toThrow(
      /^serve: this is an Express router, not a gateway app \(environ, startResponse\): mount it in an Express app \(app\.use\(router\)\) and run that with its listen\(\), and mount tsgi apps inside it with toNodeHandler$/,
    );
    expect(() => toFetchHandler(router)).toThrow(/^toFetchHandler: this is an Express router/);
  });

  it('is refused at once by toFetchHandler() too, not made into a handler that answers 500 to every request', () => {
    expect(() => toFetchHandler(express() as unknown as AppLike)).toThrow(/^toFetchHandler: this is an Express or Connect app, not a gateway app .*toNodeHandler$/);
    expect(() => toFetchHandler(new Koa() as unknown as AppLike)).toThrow(/^toFetchHandler: this is a Koa app/);
  });
});

describe('fields Express set before toNodeHandler', () => {
  it('keeps the Set-Cookie fields of both sides: Express’s before the app’s', async () => {
    const web = express();
    web.use((_req, res, next) => {
      res.cookie('sid', 'express');
      res.cookie('theme', 'dark');
      res.setHeader('X-Frame-Options', 'DENY');
      next();
    });
    const app = Request.application(() => {
      const res = new Response('ok');
      res.setCookie('tsgi', '1');
      res.headers.set('X-Frame-Options', 'SAMEORIGIN');
      return res;
    });
    web.use('/t', toNodeHandler(app));
    web.use('/plain', toNodeHandler(new Response('no cookie')));
    const base = await listen(web);
    const res = await fetch(`${base}/t/x`);
    expect(res.headers.getSetCookie()).toEqual(['sid=express; Path=/', 'theme=dark; Path=/', 'tsgi=1; Path=/']);
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN'); // other fields: the app's win
    const plain = await fetch(`${base}/plain/`);
    expect(plain.headers.getSetCookie()).toEqual(['sid=express; Path=/', 'theme=dark; Path=/']);
  });

  it('joins a Vary that Express set with the app’s, so a cache keys on both', async () => {
    const web = express();
    web.use((_req, res, next) => {
      res.vary('Origin'); // what the cors package does before next()
      res.setHeader('Access-Control-Allow-Origin', 'https://front.example');
      next();
    });
    web.use('/t', toNodeHandler(Request.application(() => new Response('ok').addVary('Accept'))));
    web.use('/plain', toNodeHandler(new Response('ok')));
    const base = await listen(web);
    expect((await fetch(`${base}/t/x`)).headers.get('vary')).toBe('Origin, Accept');
    expect((await fetch(`${base}/plain/`)).headers.get('vary')).toBe('Origin');
  });
});

describe('fields Express middleware adds as the head is written (on-headers: express-session, compression, morgan)', () => {
  /** Wraps `res.writeHead` as on-headers 1.0 did: fields given as [name, value] pairs set first, the hook run, the original called without them. */
  function onHeaders10(hook: (res: http.ServerResponse) => void): express.RequestHandler {
    return (_req, res, next) => {
      const original = res.writeHead;
      res.writeHead = function (this: http.ServerResponse, code: number, ...rest: unknown[]) {
        const at = typeof rest[0] === 'string' ? 1 : 0;
        const fields = rest[at];
        if (Array.isArray(fields)) for (const pair of fields as string[][]) this.setHeader(pair[0]!, pair[1]!);
        hook(this);
        return (original as (...a: unknown[]) => http.ServerResponse).call(this, code, ...rest.slice(0, at));
      } as typeof res.writeHead;
      next();
    };
  }

  /** Wraps `res.writeHead` with a hook that adds its fields and passes every argument on. */
  function hookFirst(hook: (res: http.ServerResponse) => void): express.RequestHandler {
    return (_req, res, next) => {
      const original = res.writeHead;
      res.writeHead = function (this: http.ServerResponse, ...args: unknown[]) {
        hook(this);
        return (original as (...a: unknown[]) => http.ServerResponse).apply(this, args);
      } as typeof res.writeHead;
      next();
    };
  }

  const app = Request.application(() => {
    const res = new Response('ok');
    res.setCookie('tsgi', '1');
    return res.addVary('Accept');
  });

  it('sends the app’s fields whole under a wrapper that takes them as pairs (on-headers < 1.1), not a 500 with fields of one letter', async () => {
    const web = express();
    web.disable('x-powered-by'); // no field set before: the wrapper alone
    web.use(onHeaders10((res) => res.setHeader('X-Response-Time', '1ms')));
    web.use('/t', toNodeHandler(app));
    const res = await fetch(`${await listen(web)}/t/x`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(res.headers.getSetCookie()).toEqual(['tsgi=1; Path=/']);
    expect(res.headers.get('x-response-time')).toBe('1ms');
    expect([...res.headers.keys()].filter((name) => name.length === 1)).toEqual([]);
  });

  it('keeps the session cookie and Vary a hook adds at the head next to the app’s', async () => {
    const web = express();
    web.use(
      hookFirst((res) => {
        res.appendHeader('Set-Cookie', 'sid=s1; Path=/'); // express-session's cookie
        res.appendHeader('Vary', 'Accept-Encoding'); // compression's
      }),
    );
    web.use('/t', toNodeHandler(app));
    const res = await fetch(`${await listen(web)}/t/x`);
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()).toEqual(['tsgi=1; Path=/', 'sid=s1; Path=/']);
    expect(res.headers.get('vary')).toBe('Accept, Accept-Encoding');
  });

  it('answers the server’s own 500 with its fields whole under the same wrapper', async () => {
    const web = express();
    web.use(onHeaders10(() => undefined));
    const log = errorLog();
    web.use('/t', toNodeHandler(() => { throw new Error('boom'); }, { log }));
    const res = await fetch(`${await listen(web)}/t/x`);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('Internal Server Error\n');
    expect([...res.headers.keys()].filter((name) => name.length === 1)).toEqual([]);
  });
});

describe('an app head refused under Express', () => {
  it('answers the 500 with Express’s fields only, none of the refused head’s', async () => {
    const web = express();
    web.use((_req, res, next) => {
      res.cookie('sid', 'express');
      next();
    });
    const log = errorLog();
    // A control character Node refuses in a field value, after fields it took already.
    const app = (_environ: unknown, start: (status: string, headers: [string, string][]) => void) => {
      start('302 Found', [
        ['Set-Cookie', 'session=half-made'],
        ['Location', '/elsewhere'],
        ['X-Bad', 'a\u0001b'],
      ]);
      return [new TextEncoder().encode('moved')];
    };
    web.use(toNodeHandler(app, { log }));
    const res = await fetch(`${await listen(web)}/`, { redirect: 'manual' });
    expect(res.status).toBe(500);
    expect(res.headers.getSetCookie()).toEqual(['sid=express; Path=/']);
    expect(res.headers.get('location')).toBeNull();
    expect(log.text).toMatch(/X-Bad/);
  });
});

describe('request fields Express middleware changed before toNodeHandler', () => {
  it('reach the app as Express left them: added, replaced and removed', async () => {
    const web = express();
    web.use((req, _res, next) => {
      req.headers['x-request-id'] = 'from-express'; // added (express-request-id and the like)
      req.headers['accept-language'] = 'fr'; // replaced
      delete req.headers.authorization; // removed, once a login middleware consumed it
      next();
    });
    const app = Request.application(
      (req) =>
        new Response(
          [req.headers.get('X-Request-Id'), req.headers.get('Accept-Language'), req.headers.get('Authorization'), req.headers.get('Cookie'), req.headers.get('X-Other')].join(' | '),
        ),
    );
    web.use('/t', toNodeHandler(app));
    const base = await listen(web);
    const res = await fetch(`${base}/t/`, { headers: { authorization: 'Basic eDp5', 'accept-language': 'en', cookie: 'a=1', 'x-other': 'kept' } });
    expect(await res.text()).toBe('from-express | fr |  | a=1 | kept');
  });

  it('leave repeated fields as the client sent them when nothing changed them', async () => {
    const web = express();
    web.use((req, _res, next) => {
      void req.get('host'); // Express reads the fields, which builds req.headers
      next();
    });
    web.use('/t', toNodeHandler(Request.application((req) => new Response(`${req.environ.HTTP_COOKIE} | ${req.environ.HTTP_X_A}`))));
    const base = await listen(web);
    const { port } = new URL(base);
    const text = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/t/', headers: ['Host', `127.0.0.1:${port}`, 'Cookie', 'a=1', 'Cookie', 'b=2', 'X-A', '1', 'X-A', '2'] }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve(body));
      });
      req.on('error', reject).end();
    });
    expect(text).toBe('a=1; b=2 | 1, 2');
  });
});

describe('request fields Express middleware changed that the environ cannot take as edited', () => {
  /** Edits `req.headers` as the request's `X-Mode` asks; the app answers its framing fields and the body it read. */
  async function editing(): Promise<number> {
    const web = express();
    web.use((req, _res, next) => {
      const mode = req.headers['x-mode'];
      if (mode === 'host') req.headers.host = 'other.example';
      if (mode === 'length') req.headers['content-length'] = '2';
      if (mode === 'no-length') delete req.headers['content-length'];
      if (mode === 'no-chunked') delete req.headers['transfer-encoding'];
      if (mode === 'add-length') req.headers['content-length'] = '100';
      next();
    });
    const app = Request.application(async (req) => {
      const e = req.environ;
      return new Response(`${e.HTTP_HOST} ${e.CONTENT_LENGTH} ${e.HTTP_TRANSFER_ENCODING} ${new TextDecoder().decode(await req.bytes())}`);
    });
    web.use('/t', toNodeHandler(app));
    return Number(new URL(await listen(web)).port);
  }
  const body = (raw: string) => raw.slice(raw.indexOf('\r\n\r\n') + 4);

  it('keep a repeated Host a 400, whatever middleware set as the Host', async () => {
    const port = await editing();
    const { raw } = await rawExchange(port, 'GET /t/ HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nX-Mode: host\r\nConnection: close\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1.1 400 /);
    expect(raw).toContain('several Host headers');
    const edited = await rawExchange(port, 'GET /t/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Mode: host\r\nConnection: close\r\n\r\n');
    expect(body(edited.raw)).toBe('other.example undefined undefined ');
  });

  it('keep Content-Length and Transfer-Encoding as sent, since they framed the body the app reads', async () => {
    const port = await editing();
    const send = async (mode: string, framing: string, payload: string) =>
      body((await rawExchange(port, `POST /t/ HTTP/1.1\r\nHost: 127.0.0.1\r\n${framing}\r\nX-Mode: ${mode}\r\nConnection: close\r\n\r\n${payload}`)).raw);
    expect(await send('length', 'Content-Length: 5', 'hello')).toBe('127.0.0.1 5 undefined hello');
    expect(await send('no-length', 'Content-Length: 5', 'hello')).toBe('127.0.0.1 5 undefined hello');
    expect(await send('no-chunked', 'Transfer-Encoding: chunked', '5\r\nhello\r\n0\r\n\r\n')).toBe('127.0.0.1 undefined chunked hello');
    expect(await send('add-length', 'Transfer-Encoding: chunked', '5\r\nhello\r\n0\r\n\r\n')).toBe('127.0.0.1 undefined chunked hello');
  });
});

describe('a request for the Express mount path itself', () => {
  it('reaches the app with an empty PATH_INFO, as under mount(), so it redirects to the slash', async () => {
    const { RouteMap } = await import('tsgi/routing');
    const routes = new RouteMap({ index: '/' });
    const site = routes.app({ index: (req) => new Response(`index at ${req.url}`) });
    const where = Request.application((req) => new Response(`[${req.scriptName}] [${req.pathInfo}] ${req.environ.REQUEST_URI}`));
    const web = express();
    web.use('/v2', toNodeHandler(site));
    web.use('/env', toNodeHandler(where));
    const base = await listen(web);
    const bare = await fetch(`${base}/v2?x=1`, { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe(`${base}/v2/?x=1`);
    expect(await (await fetch(`${base}/v2/`)).text()).toBe(`index at ${base}/v2/`);
    expect(await (await fetch(`${base}/env?q`)).text()).toBe('[/env] [] /env?q');
    expect(await (await fetch(`${base}/env/`)).text()).toBe('[/env] [/] /env/');
    expect(await (await fetch(`${base}/ENV`)).text()).toBe('[/ENV] [] /ENV'); // Express matches mount paths in any case
  });

  it('drops a fragment a raw client sent, as without Express (RFC 9112 §3.2)', async () => {
    const web = express();
    web.use('/env', toNodeHandler(Request.application((req) => new Response(`[${req.scriptName}] [${req.pathInfo}] ${req.environ.REQUEST_URI}`))));
    const port = Number(new URL(await listen(web)).port);
    const answer = async (target: string) => {
      const { raw } = await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      return raw.slice(raw.indexOf('\r\n\r\n') + 4);
    };
    expect(await answer('/env#f')).toBe('[/env] [] /env');
    expect(await answer('/env/x?q#f')).toBe('[/env] [/x] /env/x?q');
  });

  it('reaches the app with an empty PATH_INFO in absolute-form too (RFC 9112 §3.2.2), not as the slash it lacks', async () => {
    const web = express();
    web.use('/env', toNodeHandler(Request.application((req) => new Response(`[${req.scriptName}] [${req.pathInfo}] ${req.url}`))));
    const port = Number(new URL(await listen(web)).port);
    const answer = async (target: string) => {
      const { raw } = await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      return raw.slice(raw.indexOf('\r\n\r\n') + 4);
    };
    expect(await answer('http://a/env')).toBe('[/env] [] http://a/env');
    expect(await answer('HTTP://a/env?q')).toBe('[/env] [] http://a/env?q');
    expect(await answer('http://a/env/')).toBe('[/env] [/] http://a/env/');
  });
});

describe('a path Express matched with escapes the app would decode', () => {
  /** Express in front: a guard on `<prefix>/admin`, then the app, which names the path it serves. */
  async function guarded(prefix: string): Promise<string> {
    const web = express();
    web.use(`${prefix}/admin`, (req, res, next) => (req.get('x-admin') === 'yes' ? next() : void res.status(403).send('refused by the Express guard')));
    const app = Request.application((req) => new Response(`served ${req.pathInfo}`));
    if (prefix === '') web.use(toNodeHandler(app));
    else web.use(prefix, toNodeHandler(app));
    return listen(web);
  }

  it('answers 308 to the plain spelling, so a guard Express matched on the raw path sees it (not the app behind its back)', async () => {
    for (const prefix of ['/t', '']) {
      const base = await guarded(prefix);
      for (const [target, plain] of [['/%61dmin/x', '/admin/x'], ['/admin%2Fx?q=1', '/admin/x?q=1'], ['/%41dmin', '/Admin'], ['/%61%64min', '/admin']] as const) {
        const res = await fetch(`${base}${prefix}${target}`, { redirect: 'manual' });
        expect([target, res.status, await res.text()]).toEqual([target, 308, expect.stringContaining(`${prefix}${plain}`)]);
        // Relative: the app's proxyFix never sees this answer, so the host and scheme behind a proxy stay out of it.
        expect(res.headers.get('location')).toBe(`${prefix}${plain}`);
      }
      expect((await fetch(`${base}${prefix}/%61dmin/x`)).status).toBe(403); // followed: the guard answers
      expect(await (await fetch(`${base}${prefix}/%61dmin/x`, { headers: { 'x-admin': 'yes' } })).text()).toBe('served /admin/x');
      const post = await fetch(`${base}${prefix}/%61dmin/x`, { method: 'POST', body: 'a=1', redirect: 'manual' });
      expect(post.status).toBe(308);
      // Escaped dot segments (fetch() would resolve them): the path sent to is clean, below the mount path.
      for (const [target, plain] of [['/%2E%2E/%61dmin', '/admin'], ['/x/%2e%2e//admin%2F', '/admin/']] as const) {
        const { raw } = await rawExchange(Number(new URL(base).port), `GET ${prefix}${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
        expect(raw).toMatch(/^HTTP\/1\.1 308 /);
        expect(raw).toContain(`\r\nLocation: ${prefix}${plain}\r\n`);
      }
    }
  });

  it('serves escapes that have no plain spelling in a path at once (UTF-8, space, %25)', async () => {
    const base = await guarded('/t');
    for (const [target, path] of [['/caf%C3%A9', '/café'], ['/a%20b', '/a b'], ['/100%25', '/100%'], ['/q%3Fx', '/q?x'], ['/admin/x', '/admin/x']] as const) {
      const res = await fetch(`${base}/t${target}`, { redirect: 'manual', headers: { 'x-admin': 'yes' } });
      expect([target, res.status, await res.text()]).toEqual([target, 200, `served ${path}`]);
    }
  });
});

describe('an escaped slash in a parameter of the Express mount path', () => {
  it('stays escaped in the URLs and redirects the app builds, so they name the same Express route', async () => {
    const routes = new RouteMap({ issues: '/issues/', issue: '/issues/<int:id>' });
    const issues = routes.app({
      issues: (req, _values, urls) => Response.json({ link: urls.build('issue', { id: 1 }), external: urls.build('issue', { id: 1 }, { external: true }), app: req.applicationUrl }),
      issue: (req, { id }) => Response.json({ id, url: req.url, path: req.path }),
    });
    const web = express();
    web.use('/repos/:repo', toNodeHandler(issues));
    const base = await listen(web);
    // The slash redirect goes to the same repository, not to /repos/a/b/issues/ (Express: repository `a`).
    const slash = await fetch(`${base}/repos/a%2Fb/issues`, { redirect: 'manual' });
    expect([slash.status, slash.headers.get('location')]).toEqual([308, `${base}/repos/a%2Fb/issues/`]);
    expect(await (await fetch(`${base}/repos/a%2Fb/issues/`)).json()).toEqual({
      link: '/repos/a%2Fb/issues/1',
      external: `${base}/repos/a%2Fb/issues/1`,
      app: `${base}/repos/a%2Fb`,
    });
    expect(await (await fetch(`${base}/repos/a%2Fb/issues/1`)).json()).toEqual({ id: 1, url: `${base}/repos/a%2Fb/issues/1`, path: '/repos/a%2Fb/issues/1' });
    // SCRIPT_NAME itself stays decoded (spec §2.1); a mount path without an escaped slash is quoted as before.
    expect(await (await fetch(`${base}/repos/caf%C3%A9/issues/`)).json()).toMatchObject({ link: '/repos/caf%C3%A9/issues/1' });
    // A relative redirect is resolved against that spelling; so is mount()'s redirect to a clean path.
    const nested = express();
    nested.use('/repos/:repo', toNodeHandler(mount({ '/m': Request.application(() => redirect('next', 302)) })));
    const nestedBase = await listen(nested);
    const relative = await fetch(`${nestedBase}/repos/a%2Fb/m/x/`, { redirect: 'manual' });
    expect(relative.headers.get('location')).toBe(`${nestedBase}/repos/a%2Fb/m/x/next`);
    const { raw } = await rawExchange(Number(new URL(nestedBase).port), 'GET /repos/a%2Fb/m/x/../y HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    expect(raw).toContain('\r\nLocation: http://h/repos/a%2Fb/m/y\r\n');
    // directoryApp's slash redirect too (test/fixtures/tsdoc is a directory).
    const files = express();
    files.use('/files/:owner', toNodeHandler(directoryApp(fileURLToPath(new URL('./fixtures', import.meta.url)))));
    const filesBase = await listen(files);
    const dir = await fetch(`${filesBase}/files/a%2Fb/tsdoc`, { redirect: 'manual' });
    expect([dir.status, dir.headers.get('location')]).toEqual([301, `${filesBase}/files/a%2Fb/tsdoc/`]);
  });
});

describe('a response Express already sent before toNodeHandler (middleware that answered, then called next())', () => {
  /** An app counting its calls, and the log of its handler. */
  function countedApp(): { app: App; log: ReturnType<typeof errorLog>; calls: () => number } {
    let calls = 0;
    const app = Request.application(() => {
      calls++;
      return 'from the app';
    });
    return { app, log: errorLog(), calls: () => calls };
  }

  it('leaves an ended answer as it is and does not call the app, logging why', async () => {
    const { app, log, calls } = countedApp();
    const web = express();
    web.use('/t', (_req, res, next) => {
      res.end('from Express');
      next();
    });
    web.use('/t', toNodeHandler(app, { log }));
    const base = await listen(web);
    const res = await fetch(`${base}/t/x?token=secret`, { method: 'POST', body: 'item' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('from Express');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls()).toBe(0);
    expect(log.text).toBe('[tsgi] POST /t/x?token=secret HTTP/1.1: the response was already sent before toNodeHandler (by code that answered, then called next()): the app was not called\n');
  });

  it('cuts an answer whose head went out but not its end, without calling the app, so the client never takes it for whole', async () => {
    const { app, log, calls } = countedApp();
    const web = express();
    web.use('/t', (_req, res, next) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part ');
      next();
    });
    web.use('/t', toNodeHandler(app, { log }));
    const base = await listen(web);
    const { raw } = await rawExchange(Number(new URL(base).port), 'GET /t/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(raw).toContain('part ');
    expect(raw).not.toContain('0\r\n\r\n');
    expect(raw).not.toContain('from the app');
    expect(calls()).toBe(0);
    expect(log.text).toContain('the response was already sent before toNodeHandler');
    expect(log.text).not.toContain('ERR_HTTP_HEADERS_SENT');
  });
});

describe('framing fields the host set on res before toNodeHandler', () => {
  it('are dropped: the app’s answer is framed by the server alone, never with both Content-Length and Transfer-Encoding (RFC 9112 §6.1)', async () => {
    const encoder = new TextEncoder();
    const app = Request.application((req) => {
      if (req.path === '/stream') {
        return new Response(
          (async function* () {
            yield encoder.encode('a');
            await new Promise((resolve) => setTimeout(resolve, 10));
            yield encoder.encode('b');
          })(),
        );
      }
      if (req.path === '/none') return new Response(null, { status: 204 });
      return new Response('memory');
    });
    const log = errorLog();
    const handler = toNodeHandler(app, { log });
    const server = http.createServer((req, res) => {
      // A host framework that framed its own answer first (a stale length, chunked forced).
      res.setHeader('Content-Length', '5');
      res.setHeader('Transfer-Encoding', 'chunked');
      res.setHeader('X-Host', 'kept');
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const port = (server.address() as AddressInfo).port;
    const head = (raw: string) => raw.slice(0, raw.indexOf('\r\n\r\n')).toLowerCase();
    const stream = (await rawExchange(port, 'GET /stream HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')).raw;
    expect(head(stream)).toContain('transfer-encoding: chunked');
    expect(head(stream)).not.toContain('content-length');
    expect(stream).toMatch(/\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n$/);
    const memory = (await rawExchange(port, 'GET /memory HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')).raw;
    expect(head(memory)).toContain('content-length: 6');
    expect(head(memory)).not.toContain('transfer-encoding');
    expect(head(memory)).toContain('x-host: kept');
    expect(memory).toMatch(/\r\n\r\nmemory$/);
    const none = (await rawExchange(port, 'GET /none HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')).raw;
    expect(head(none)).toMatch(/^http\/1.1 204 /);
    expect(head(none)).not.toContain('content-length');
    expect(head(none)).not.toContain('transfer-encoding');
    expect(log.text).toBe('');
  });
});
