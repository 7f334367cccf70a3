/**
 * Every boolean option of the public API, given as another type (`'false'` from an environment
 * variable, `1`), is a TypeError at construction naming the middleware and the option: read by
 * its truthiness, `'false'` turned a feature on; read by `=== true`, `'true'` turned it off.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { AuthTickets, CookieSessions, directoryApp, errors, etag, fileApp, mount, requestId } from 'tsgi/middleware';
import { proxy, rewriteHtml } from 'tsgi/proxy';
import { fromFetchHandler, toFetchHandler } from 'tsgi/fetch';
import { toNodeHandler } from 'tsgi/node';
import { RouteMap } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';
import { request, start } from './node-helpers.ts';

const SECRET = 'x'.repeat(32);
/** A value no boolean option takes: what an environment variable gives. */
const bad = 'false' as unknown as boolean;

const hello: App = Request.application(() => new Response('hello', { contentType: 'text/plain' }));

/**
 * Each row: what is built (or served: a promise, which must reject), and the message it throws
 * with `bad` (or `1`) as the option.
 */
const ROWS: ReadonlyArray<readonly [string, () => unknown, string]> = [
  ['etag weak', () => etag(hello, { weak: bad }), 'etag: weak must be true or false, got "false"'],
  ['mount cleanPaths', () => mount({ '/a': hello }, { cleanPaths: bad }), 'mount: cleanPaths must be true or false, got "false"'],
  ['requestId trustIncoming', () => requestId(hello, { trustIncoming: bad }), 'requestId: trustIncoming must be true or false, got "false"'],
  ['errors debug', () => errors(hello, { debug: bad }), 'errors: debug must be true or false, got "false"'],
  ['directoryApp listing', () => directoryApp('.', { listing: bad }), 'directoryApp: listing must be true or false, got "false"'],
  ['directoryApp followSymlinks', () => directoryApp('.', { followSymlinks: bad }), 'directoryApp: followSymlinks must be true or false, got "false"'],
  ['directoryApp precompressed', () => directoryApp('.', { precompressed: bad }), 'directoryApp: precompressed must be true or false, got "false"'],
  ['directoryApp download', () => directoryApp('.', { download: 1 as unknown as boolean }), 'directoryApp: download must be true or false, got 1'],
  ['fileApp download', () => fileApp('package.json', { download: 1 as unknown as boolean }), 'fileApp: download must be true or false, got 1'],
  ['CookieSessions secure', () => new CookieSessions({ secret: SECRET, secure: bad }), 'new CookieSessions: secure must be true or false, got "false"'],
  ['AuthTickets secure', () => new AuthTickets({ secret: SECRET, secure: bad }), 'new AuthTickets: secure must be true or false, got "false"'],
  ['proxy preserveHost', () => proxy('http://127.0.0.1:1', { preserveHost: 'true' as unknown as boolean }), 'proxy: preserveHost must be true or false, got "true"'],
  ['proxy xForwarded', () => proxy('http://127.0.0.1:1', { xForwarded: bad }), 'proxy: xForwarded must be true or false, got "false"'],
  ['proxy stripScriptName', () => proxy('http://127.0.0.1:1', { stripScriptName: bad }), 'proxy: stripScriptName must be true or false, got "false"'],
  ['serve http2', () => start(hello, { http2: 'true' as unknown as boolean }), 'serve: http2 must be true or false, got "true"'],
  ['serve clientCertificate', () => start(hello, { clientCertificate: 'true' as unknown as boolean }), 'serve: clientCertificate must be true or false, got "true"'],
  ['serve multiprocess', () => start(hello, { multiprocess: bad }), 'serve: multiprocess must be true or false, got "false"'],
  ['toNodeHandler multiprocess', () => toNodeHandler(hello, { multiprocess: bad }), 'toNodeHandler: multiprocess must be true or false, got "false"'],
  ['toNodeHandler clientCertificate', () => toNodeHandler(hello, { clientCertificate: 1 as unknown as boolean }), 'toNodeHandler: clientCertificate must be true or false, got 1'],
  ['toFetchHandler multiprocess', () => toFetchHandler(hello, { multiprocess: bad }), 'toFetchHandler: multiprocess must be true or false, got "false"'],
  ['fromFetchHandler stripPrefix', () => fromFetchHandler(() => new globalThis.Response('x'), { stripPrefix: 'true' as unknown as boolean }), 'fromFetchHandler: stripPrefix must be true or false, got "true"'],
  ['RouteMap strictSlashes', () => new RouteMap({ a: '/a/' }, { strictSlashes: bad }), 'new RouteMap: strictSlashes must be true or false, got "false"'],
  ['RouteMap mergeSlashes', () => new RouteMap({ a: '/a/' }, { mergeSlashes: bad }), 'new RouteMap: mergeSlashes must be true or false, got "false"'],
  ['Rule strictSlashes', () => new RouteMap({ a: { path: '/a/', strictSlashes: bad } }), 'new RouteMap: the rule of "a": strictSlashes must be true or false, got "false"'],
  ['Rule mergeSlashes', () => new RouteMap({ a: { path: '/a/', mergeSlashes: 1 as unknown as boolean } }), 'new RouteMap: the rule of "a": mergeSlashes must be true or false, got 1'],
  ['TestClient lint', () => new TestClient(hello, { lint: 'true' as unknown as boolean }), 'new TestClient: lint must be true or false, got "true"'],
  ['TestClient allowErrors', () => new TestClient(hello, { allowErrors: bad }), 'new TestClient: allowErrors must be true or false, got "false"'],
  ['TestClient cookies', () => new TestClient(hello, { cookies: 'true' as unknown as boolean }), 'new TestClient: cookies must be true or false, got "true"'],
  ['new Response conditionalResponse', () => new Response('x', { conditionalResponse: bad }), 'new Response: conditionalResponse must be true or false, got "false"'],
  ['res.addEtag weak', () => new Response('x').addEtag({ weak: bad }), 'res.addEtag: weak must be true or false, got "false"'],
  ['res.addEtag overwrite', () => new Response('x').addEtag({ overwrite: 1 as unknown as boolean }), 'res.addEtag: overwrite must be true or false, got 1'],
  ['tickets.remember persistent', () => new AuthTickets({ secret: SECRET }).remember(new Response('in'), 'ann', { persistent: bad }), 'tickets.remember: persistent must be true or false, got "false"'],
  ['tickets.sign persistent', () => new AuthTickets({ secret: SECRET }).sign('ann', { persistent: 1 as unknown as boolean }), 'tickets.sign: persistent must be true or false, got 1'],
];

/** An app that writes to `tsgi.errors`, and a page with a read-only field. */
const logging: App = Request.application((req) => {
  req.environ['tsgi.errors'].write('oops\n');
  return new Response('<form><input name="a" value="1" readonly></form>', { contentType: 'text/html' });
});

describe('boolean options', () => {
  it.each(ROWS)('%s: a non-boolean is a TypeError naming it', async (_name, build, message) => {
    const built = Promise.resolve().then(build);
    await expect(built).rejects.toThrow(TypeError);
    await expect(built).rejects.toThrow(message);
  });

  it('serve multiprocess: true, false and left out (false) still work', async () => {
    const flag: App = Request.application((req) => new Response(String(req.environ['tsgi.multiprocess']), { contentType: 'text/plain' }));
    const read = async (multiprocess: boolean | undefined) => (await request((await start(flag, { multiprocess })).url)).body.toString();
    expect(await read(true)).toBe('true');
    expect(await read(false)).toBe('false');
    expect(await read(undefined)).toBe('false');
  });

  it("rewriteHtml's element.append html: a non-boolean is a TypeError, true and false still work", async () => {
    const caught: string[] = [];
    const page: App = Request.application(() => new Response('<p>a</p>', { contentType: 'text/html' }));
    const server = await start(
      rewriteHtml(page, {
        elements: {
          p: (element) => {
            try {
              element.append('<i>x</i>', { html: bad });
            } catch (error) {
              caught.push((error as Error).message);
            }
            element.append('<b>y</b>', { html: true }).append('<b>z</b>', { html: false }).append('<b>w</b>', {});
          },
        },
      }),
    );
    expect((await request(server.url)).body.toString()).toBe('<p>a<b>y</b>&lt;b&gt;z&lt;/b&gt;&lt;b&gt;w&lt;/b&gt;</p>');
    expect(caught).toEqual(['element.append: html must be true or false, got "false"']);
  });

  it('urls.build external: a truthy non-boolean is a TypeError, true and false still work', async () => {
    const routes = new RouteMap({ item: '/items/<int:id>' });
    const server = await start(
      routes.app({
        item: (_req, { id }, urls) => {
          let refused = '';
          try {
            urls.build('item', { id }, { external: bad });
          } catch (error) {
            refused = (error as Error).message;
          }
          return [refused, urls.build('item', { id }, { external: true }), urls.build('item', { id }, { external: false }), urls.build('item', { id })].join(' | ');
        },
      }),
    );
    const host = new URL(server.url).host;
    expect((await request(`${server.url}/items/2`)).body.toString()).toBe(`urls.build: external must be true or false, got "false" | http://${host}/items/2 | /items/2 | /items/2`);
  });

  it('RouteMap strictSlashes: true, false and left out (true) still work', async () => {
    const status = async (strictSlashes: boolean | undefined) => {
      const server = await start(new RouteMap({ a: { path: '/a/', strictSlashes } }).app({ a: () => 'a' }));
      return (await request(`${server.url}/a`)).status;
    };
    expect(await status(true)).toBe(308);
    expect(await status(false)).toBe(200);
    expect(await status(undefined)).toBe(308);
  });

  it("the test client's allowErrors and form.set force per call: a non-boolean is a TypeError where it counts, true and false still work", async () => {
    const client = new TestClient(logging);
    await expect(client.get('/', { allowErrors: bad })).rejects.toThrow('client: allowErrors must be true or false, got "false"');
    await expect(client.get('/', { allowErrors: false })).rejects.toThrow('wrote to tsgi.errors');
    await expect(client.get('/')).rejects.toThrow('wrote to tsgi.errors');
    const page = await client.get('/', { allowErrors: true });
    expect(page.errors).toContain('oops');
    expect(() => page.form().set('a', '2', { force: bad })).toThrow('form.set: force must be true or false, got "false"');
    expect(() => page.form().set('a', '2', { force: false })).toThrow('read-only');
    expect(page.form().set('a', '2', { force: true }).get('a')).toBe('2');
    expect((await new TestClient(logging, { allowErrors: true }).get('/')).errors).toContain('oops');
  });

  it('new Response conditionalResponse: true, false and left out (false) still work, over a socket', async () => {
    const status = async (conditionalResponse: boolean | undefined) => {
      const page: App = Request.application(() => new Response('x', { contentType: 'text/plain', headers: { ETag: '"v1"' }, conditionalResponse }));
      return (await request((await start(page)).url, { headers: { 'if-none-match': '"v1"' } })).status;
    };
    expect(await status(true)).toBe(304);
    expect(await status(false)).toBe(200);
    expect(await status(undefined)).toBe(200);
  });

  it("AuthTickets remember persistent: a form's 'false' is a TypeError, not a persistent cookie; true, false and left out (true) still work, over a socket", async () => {
    const tickets = new AuthTickets({ secret: SECRET, maxAge: 3600 });
    const given: Record<string, unknown> = { yes: true, no: false, form: 'false' };
    const login: App = Request.application((req) => {
      const res = new Response('in');
      try {
        tickets.remember(res, 'ann', { persistent: given[req.queryString] as boolean | undefined });
      } catch (error) {
        return new Response(`${(error as Error).name}: ${(error as Error).message}`, { status: 400 });
      }
      return res;
    });
    const server = await start(login);
    const cookie = async (query: string) => {
      const res = await request(`${server.url}/?${query}`);
      return { status: res.status, body: res.body.toString(), setCookie: String(res.headers['set-cookie'] ?? '') };
    };
    expect((await cookie('yes')).setCookie).toMatch(/Max-Age=3600/);
    expect((await cookie('left-out')).setCookie).toMatch(/Max-Age=3600/);
    const session = await cookie('no');
    expect(session.setCookie).toMatch(/^auth_tkt=/);
    expect(session.setCookie).not.toMatch(/Max-Age|Expires/);
    expect(await cookie('form')).toEqual({ status: 400, body: 'TypeError: tickets.remember: persistent must be true or false, got "false"', setCookie: '' });
  });

  it('etag weak: true, false and left out still work', async () => {
    const tag = async (weak: boolean | undefined) => (await request((await start(etag(hello, { weak }))).url)).headers.etag;
    expect(await tag(true)).toMatch(/^W\//);
    expect(await tag(false)).toMatch(/^"/);
    expect(await tag(undefined)).toMatch(/^"/);
  });

  it('requestId trustIncoming: true, false and left out (true) still work', async () => {
    const id = async (trustIncoming: boolean | undefined) => {
      const server = await start(requestId(hello, { trustIncoming }));
      return (await request(server.url, { headers: { 'x-request-id': 'abc-123' } })).headers['x-request-id'];
    };
    expect(await id(true)).toBe('abc-123');
    expect(await id(false)).not.toBe('abc-123');
    expect(await id(undefined)).toBe('abc-123');
  });
});
