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
