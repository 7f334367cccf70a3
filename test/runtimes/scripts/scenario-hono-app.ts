/**
 * A Hono user's small JSON API ported to tsgi by docs/hono.md: routes with params, 400/415/413/422
 * JSON answers, bearer auth, CORS, ETags, an NDJSON stream, a download, request ids, one JSON
 * problem-details renderer for every error. Served by every runtime of
 * test/runtimes/scenario-hono.test.ts.
 */
import { HTTPUnprocessableContent, HTTPUnsupportedMediaType, Request, Response, compose } from 'tsgi';
import { bearerAuth, cors, errorPages, errors, etag, requestId } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';

const routes = new RouteMap({
  items: '/api/items',
  createItem: { path: '/api/items', methods: ['POST'] },
  item: '/api/items/<id>',
  stream: '/api/stream',
  download: '/api/download',
  boom: '/api/boom',
  secret: '/api/secret',
  report: '/api/report/<name>',
});

const secret = bearerAuth(
  Request.application(() => Response.json({ secret: true })),
  { verify: (token) => (token === 'good' ? { user: 'ann' } : null), realm: 'api' },
);

const handlers = routes.app({
  items: () => Response.json([{ id: '1', name: 'one' }]),
  async createItem(req) {
    if (req.contentType !== 'application/json') throw new HTTPUnsupportedMediaType('Send application/json.');
    const body = (await req.json({ maxBodySize: 1024 })) as { name?: unknown };
    if (typeof body?.name !== 'string') throw new HTTPUnprocessableContent('name: a string.');
    return Response.json({ id: '2', name: body.name }, { status: 201 });
  },
  item: (_req, { id }) => Response.json({ id }),
  stream: () =>
    new Response(
      (async function* () {
        for (let i = 0; i < 1000; i++) {
          yield `${JSON.stringify({ i })}\n`;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })(),
      { contentType: 'application/x-ndjson' },
    ),
  download: () => new Response('a,b\n1,2\n', { contentType: 'text/csv' }).attachment('report.csv'),
  boom: () => {
    throw new Error('boom');
  },
  secret: () => secret,
  report: (_req, { name }) => new Response('a,b\n', { contentType: 'text/csv' }).attachment(`${name}.csv`),
});

export const app = compose(
  (inner) => cors(inner, { origin: ['https://front.example'], credentials: true, exposeHeaders: ['X-Request-Id', 'ETag'] }),
  requestId,
  (inner) =>
    errorPages(inner, {
      render: (error) =>
        Response.json(
          { type: 'about:blank', title: error.title, status: error.code, detail: error.detail ?? error.description },
          { status: error.code, contentType: 'application/problem+json' },
        ),
    }),
  errors,
  etag,
)(handlers);
