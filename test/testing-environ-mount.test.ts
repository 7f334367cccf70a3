/**
 * A call's `environ: { SCRIPT_NAME: '/x' }` (Werkzeug's `environ_overrides` naming the mount
 * point) is the mount point of that call, as a base URL's path is: a redirect under it reaches
 * the app split into `SCRIPT_NAME` and `PATH_INFO`, as over a real server mounted there.
 */
import { describe, expect, it } from 'vitest';
import { HTTPFound, Request, Response } from 'tsgi';
import { mount } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { start } from './node-helpers.ts';

/** Redirects within its mount point, outside it, and relatively; answers any other path with what it sees. */
const app = Request.application((req) => {
  if (req.pathInfo === '/start') return new HTTPFound(`${req.applicationUrl}/next`);
  if (req.pathInfo === '/away') return new HTTPFound(`${req.hostUrl}/other`);
  if (req.pathInfo === '/relative') return new HTTPFound('next');
  return Response.json({ scriptName: req.scriptName, pathInfo: req.pathInfo, uri: req.environ.REQUEST_URI });
});

const x = { SCRIPT_NAME: '/x' };

describe("a call's environ naming SCRIPT_NAME", () => {
  it('splits a redirect under it into SCRIPT_NAME and PATH_INFO, as a server mounted there does', async () => {
    const server = await start(mount({ '/x': app }), { host: '127.0.0.1' });
    try {
      const served = await fetch(`http://127.0.0.1:${server.port}/x/start`);
      expect(served.redirected).toBe(true);
      const res = await new TestClient(app).get('/start', { environ: x, followRedirects: 1 });
      expect(await res.json()).toEqual(await served.json());
      expect(await (await new TestClient(app).get('/next', { environ: x })).json()).toMatchObject({ scriptName: '/x', pathInfo: '/next' });
    } finally {
      await server.close();
    }
  });

  it('follows a redirect as a base URL with that path would, outside it and relative too', async () => {
    const based = new TestClient(app, { baseUrl: 'http://localhost/x' });
    for (const path of ['/start', '/away', '/relative']) {
      const res = await new TestClient(app).get(path, { environ: x, followRedirects: 1 });
      const expected = await based.get(path, { followRedirects: 1 });
      expect(await res.json()).toEqual(await expected.json());
      expect([...res.history.map((r) => r.url), res.url]).toEqual([...expected.history.map((r) => r.url), expected.url]);
    }
  });
});

describe('a base URL whose path holds [, ] or |', () => {
  it('splits the path a browser sends ([, ] and | as they are) at the mount point, as a server mounted there does', async () => {
    // The URL parser leaves [, ] and | in a path as they are, and so browsers and fetch send them.
    const server = await start(mount({ '/app[1]|a': app }), { host: '127.0.0.1' });
    const served = await fetch(`http://127.0.0.1:${server.port}/app[1]|a/page[2]`);
    const seen = await served.json();
    expect(seen).toEqual({ scriptName: '/app[1]|a', pathInfo: '/page[2]', uri: '/app[1]|a/page[2]' });
    const client = new TestClient(app, { baseUrl: 'http://localhost/app[1]|a/' });
    // It reached the app with SCRIPT_NAME '' and PATH_INFO /app[1]|a/page[2].
    expect(await (await client.get('/page[2]')).json()).toEqual(seen);
    // A redirect to the mount point's URL written encoded (req.applicationUrl) is split there too.
    const followed = await client.get('/start', { followRedirects: 1 });
    expect(await followed.json()).toEqual({ scriptName: '/app[1]|a', pathInfo: '/next', uri: '/app%5B1%5D%7Ca/next' });
    const viaServer = await fetch(`http://127.0.0.1:${server.port}/app[1]|a/start`);
    expect(await viaServer.json()).toEqual(await followed.json());
  });
});
