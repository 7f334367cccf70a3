/**
 * A tsgi app inside a Hono app, over a real socket on 127.0.0.1 (`@hono/node-server`), as
 * docs/hono.md and docs/deployment.md tell it: Hono's `mount` rewrites the request's URL without
 * the prefix, so a plain `app.mount('/m', toFetchHandler(app))` builds every URL (a redirect's
 * `Location`, `req.url`, a `RouteMap` URL) outside `/m`; with `replaceRequest: (req) => req` and
 * `scriptName: '/m'` (or the catch-all route) the app sees `SCRIPT_NAME` `/m` and builds under it.
 */
import { Hono } from 'hono';
import { mount } from 'hono/mount';
import { afterEach, describe, expect, it } from 'vitest';
import { redirect, Response } from 'tsgi';
import { type FetchHandler, toFetchHandler } from 'tsgi/fetch';
import { RouteMap } from 'tsgi/routing';
import { type FetchServer, serveFetch } from './fetch-helpers.ts';

const routes = new RouteMap({ item: '/items/<int:id>', items: '/items/', go: '/go' });
const app = routes.app({
  item: (req, { id }, urls) =>
    Response.json({
      scriptName: req.scriptName,
      pathInfo: req.pathInfo,
      url: req.url,
      built: urls.build('item', { id }),
      remoteAddr: req.remoteAddr,
    }),
  items: () => 'items',
  go: (_req, _values, urls) => redirect(urls.build('item', { id: 1 })),
});

let server: FetchServer | undefined;
afterEach(() => server?.close());

/** Serves `web`, asks it for `/m/items/3`, `/m/go` (the app's redirect) and `/m/items` (the router's). */
async function under(web: Hono) {
  server = await serveFetch(web.fetch);
  const get = (path: string) => fetch(server!.url + path, { redirect: 'manual' });
  const item = await get('/m/items/3?q=1');
  const go = await get('/m/go');
  const slash = await get('/m/items');
  return {
    base: server.url,
    item: { status: item.status, body: item.ok ? await item.json() : await item.text() },
    go: [go.status, go.headers.get('location')],
    slash: [slash.status, slash.headers.get('location')],
  };
}

describe('a tsgi app inside a Hono app', () => {
  const plain = {
    "app.mount('/m', handler)": (handler: FetchHandler) => new Hono().mount('/m', handler),
    "app.all('/m/*', mount(handler)) (hono/mount)": (handler: FetchHandler) => new Hono().all('/m/*', mount(handler)),
  };
  it.each(Object.entries(plain))("loses the prefix under a plain %s: SCRIPT_NAME '', every URL built outside /m", async (_name, make) => {
    const seen = await under(make(toFetchHandler(app)));
    expect(seen.item.body).toEqual({ scriptName: '', pathInfo: '/items/3', url: `${seen.base}/items/3?q=1`, built: '/items/3', remoteAddr: '127.0.0.1' });
    expect(seen.go).toEqual([303, `${seen.base}/items/1`]);
    expect(seen.slash).toEqual([308, `${seen.base}/items/`]);
  });

  it.each(Object.entries(plain))("answers 404 to every path under a plain %s given scriptName: '/m' (the path it gets no longer starts with /m)", async (_name, make) => {
    const seen = await under(make(toFetchHandler(app, { scriptName: '/m' })));
    expect(seen.item).toEqual({ status: 404, body: expect.stringMatching(/^Not Found: the app is mounted at \/m\s*$/) });
    expect(seen.go[0]).toBe(404);
    expect(seen.slash[0]).toBe(404);
  });

  const kept = {
    "app.mount('/m', handler, { replaceRequest: (req) => req })": () =>
      new Hono().mount('/m', toFetchHandler(app, { scriptName: '/m' }), { replaceRequest: (req) => req }),
    "app.all('/m/*', mount(handler, { replaceRequest: (req) => req })) (hono/mount)": () =>
      new Hono().all('/m/*', mount(toFetchHandler(app, { scriptName: '/m' }), { replaceRequest: (req) => req })),
    "the catch-all route app.all('/m/*', (c) => handler(c.req.raw, c.env))": () => {
      const handler = toFetchHandler(app, { scriptName: '/m' });
      return new Hono().all('/m/*', (c) => handler(c.req.raw, c.env));
    },
  };
  it.each(Object.entries(kept))("keeps the prefix with scriptName: '/m' under %s: SCRIPT_NAME /m, every URL built under it, c.env passed on", async (_name, make) => {
    const seen = await under(make());
    expect(seen.item.body).toEqual({ scriptName: '/m', pathInfo: '/items/3', url: `${seen.base}/m/items/3?q=1`, built: '/m/items/3', remoteAddr: '127.0.0.1' });
    expect(seen.go).toEqual([303, `${seen.base}/m/items/1`]);
    expect(seen.slash).toEqual([308, `${seen.base}/m/items/`]);
  });
});
