/**
 * A Hono app inside a tsgi app: `fromFetchHandler(hono.fetch)` makes any fetch handler (Hono,
 * h3, itty, a hand-written `(Request) => Response`) a gateway app, so it mounts, stacks under
 * middleware and runs on every server tsgi runs on.
 *
 * With `stripPrefix: true` the Hono app sees URLs relative to its mount point (`/api/hello`
 * reaches its `/hello` route) and reads the prefix from `X-Forwarded-Prefix`; without it, it
 * sees the whole URL and declares its routes under `basePath('/api')`.
 *
 * ```sh
 * node --conditions=tsgi-source src/cli/main.ts serve examples/hono-inside.ts:app
 * curl http://127.0.0.1:8000/api/hello?name=tsgi    # {"hello":"tsgi","prefix":"/api"}
 * curl http://127.0.0.1:8000/                         # the tsgi side
 * ```
 *
 * examples/everywhere.ts mounts this app at `/hono`, so every runtime of the conformance suite
 * runs it.
 *
 * @module
 */
import { Hono } from 'hono';
import { Request, Response } from 'tsgi';
import { fromFetchHandler } from 'tsgi/fetch';
import { mount } from 'tsgi/middleware';

/** The Hono side: routes relative to its mount point. */
export const hono = new Hono()
  .get('/hello', (c) => c.json({ hello: c.req.query('name') ?? 'world', prefix: c.req.header('X-Forwarded-Prefix') ?? '' }))
  .post('/echo', async (c) => c.text(await c.req.text()))
  .get('/cookies', (c) => {
    c.header('Set-Cookie', 'hono=1; Path=/', { append: true });
    c.header('Set-Cookie', 'mount=2; Path=/', { append: true });
    return c.text(c.req.header('Cookie') ?? '');
  });

/** The tsgi side: a page at `/`, the Hono app at `/api`. */
export const app = mount({
  '/': Request.application((req) => new Response(`tsgi at ${req.applicationUrl}; Hono at ${req.applicationUrl}/api\n`)),
  '/api': fromFetchHandler(hono.fetch, { stripPrefix: true }),
});
