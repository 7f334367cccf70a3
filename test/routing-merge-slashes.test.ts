/**
 * tsgi/routing: repeated slashes (Werkzeug's `merge_slashes`). A path like `/items//3` that
 * matches a rule once its slashes are merged is redirected (308, query kept) to the merged
 * path; a pattern's own `//` is merged; a `path` value keeps its `//`; `mergeSlashes: false`
 * (map or rule) turns it off.
 */
import { describe, expect, it } from 'vitest';
import { Request } from 'tsgi';
import { mount } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';
import { parseRaw, rawExchange, rawGet, start } from './node-helpers.ts';

const routes = new RouteMap({
  index: '/',
  items: '/items/',
  item: '/items/<int:id>',
  loose: { path: '/loose', strictSlashes: false },
  file: { path: '/files/<path:rest>', methods: ['GET', 'POST'] },
  doubled: '/a//b',
  raw: { path: '/raw//x', mergeSlashes: false },
  exact: { path: '/exact/<int:id>', mergeSlashes: false },
});

const app = routes.app({
  index: () => 'index',
  items: () => 'items',
  item: (_req, { id }) => `item ${id}`,
  loose: () => 'loose',
  file: (_req, { rest }) => `file ${rest}`,
  doubled: () => 'doubled',
  raw: () => 'raw',
  exact: (_req, { id }) => `exact ${id}`,
});
const client = new TestClient(app);

const location = async (path: string, method = 'GET') => (await client.request(method, path, { status: 308 })).headers.get('location');

describe('a path with repeated slashes', () => {
  it('is redirected (308) to the path with its slashes merged, the query kept', async () => {
    expect(await location('/items//3?q=1&r=2')).toBe('http://localhost/items/3?q=1&r=2');
    expect(await location('//')).toBe('http://localhost/');
    expect(await location('///items///3')).toBe('http://localhost/items/3');
    expect(await location('/loose//')).toBe('http://localhost/loose/');
    expect(routes.lookup('GET', '/items//3')).toEqual({ kind: 'merge', path: '/items/3' });
  });

  it('adds the trailing slash of a strict rule in the same redirect', async () => {
    expect(await location('/items//')).toBe('http://localhost/items/');
    expect(await location('//items')).toBe('http://localhost/items/');
    expect(routes.lookup('GET', '//items')).toEqual({ kind: 'merge', path: '/items/' });
  });

  it('is redirected whatever the method (308 keeps it; the merged path answers the 405)', async () => {
    expect(await location('/items//3', 'POST')).toBe('http://localhost/items/3');
    await client.post('/items/3', { status: 405 });
  });

  it('answers 404 when the merged path matches nothing either', async () => {
    await client.get('/nothing//here', { status: 404 });
    expect(routes.lookup('GET', '/nothing//here')).toEqual({ kind: 'none' });
  });

  it('leaves a path placeholder its own //: it matches first', async () => {
    expect((await client.get('/files/a//b')).textBody).toBe('file a//b');
    expect((await client.post('/files/a//b')).textBody).toBe('file a//b');
    // A value cannot start with '/': only the merged path matches, merged whole (as Werkzeug).
    expect(await location('/files//a//b')).toBe('http://localhost/files/a/b');
  });

  it('is redirected under the mount prefix and by urls.match', async () => {
    const site = new TestClient(mount({ '/shop': app }));
    expect((await site.get('/shop/items//3?x=1', { status: 308 })).headers.get('location')).toBe('http://localhost/shop/items/3?x=1');
    const urls = routes.bind(Request.blank('/items//4?page=2', { baseUrl: 'https://example.com/shop' }));
    expect(() => urls.match()).toThrow(expect.objectContaining({ code: 308, location: 'https://example.com/shop/items/4?page=2' }));
    expect(urls.allowedMethods()).toEqual([]);
  });

  it('merges a pattern’s own //, in matching and in building', async () => {
    expect((await client.get('/a/b')).textBody).toBe('doubled');
    expect(await location('/a//b')).toBe('http://localhost/a/b');
    expect(routes.build('doubled')).toBe('/a/b');
    expect(routes.build('file', { rest: 'x//y' })).toBe('/files/x//y');
  });
});

describe('mergeSlashes: false', () => {
  it('on a rule: its pattern keeps its //, and a path with repeated slashes does not reach it', async () => {
    expect((await client.get('/raw//x')).textBody).toBe('raw');
    await client.get('/raw/x', { status: 404 });
    expect(routes.build('raw')).toBe('/raw//x');
    await client.get('/exact//3', { status: 404 });
    expect((await client.get('/exact/3')).textBody).toBe('exact 3');
  });

  it('on the map: a path with repeated slashes answers 404', async () => {
    const plain = new RouteMap({ item: '/items/<int:id>', dir: '/dir/', doubled: '/a//b' }, { mergeSlashes: false });
    const c = new TestClient(plain.app({ item: (_req, { id }) => `item ${id}`, dir: () => 'dir', doubled: () => 'doubled' }));
    await c.get('/items//3', { status: 404 });
    await c.get('//dir', { status: 404 });
    expect((await c.get('/a//b')).textBody).toBe('doubled');
    expect(plain.build('doubled')).toBe('/a//b');
  });
});

describe('over a socket', () => {
  it('redirects a request target with repeated slashes (not read as an authority)', async () => {
    const server = await start(app);
    const res = parseRaw((await rawExchange(server.port, rawGet('//items//3?q=1'))).raw);
    expect(res.status).toBe(308);
    expect(res.header('location')).toBe('http://127.0.0.1/items/3?q=1'); // the Host sent, without a port
  });
});
