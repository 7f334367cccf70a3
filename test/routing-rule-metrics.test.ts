/**
 * The matched rule's pattern (`routeArgsKey.get(environ).rule`, Werkzeug's `request.url_rule.rule`,
 * Express's `req.route.path`) for a metrics middleware above the route map: read over a real
 * socket once the streamed body is over, a bounded label where the raw path is not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type App, Response, serve, type ServerHandle } from 'tsgi';
import { wrapBody } from 'tsgi/middleware';
import { RouteMap, routeArgsKey } from 'tsgi/routing';

const routes = new RouteMap({
  item: '/items/<int:id>',
  feed: { path: '/feeds/<name>/', methods: ['GET'] },
});
const site = routes.app({
  item: (_req, { id }) => Response.json({ id }),
  feed: () => new Response((async function* () {
    yield new TextEncoder().encode('a');
    yield new TextEncoder().encode('b');
  })()),
});

/** Counts requests by rule once each body is over, as a Prometheus middleware would. */
function metrics(app: App, seen: string[]): App {
  return async (environ, startResponse) => {
    const body = await app(environ, startResponse);
    const label = () => seen.push(`${routeArgsKey.get(environ)?.rule ?? '(unmatched)'} ${routeArgsKey.get(environ)?.endpoint ?? '-'}`);
    return wrapBody(body, { end: label, close: label, error: label });
  };
}

let server: ServerHandle | undefined;
afterEach(async () => {
  await server?.close({ timeout: 0 });
  server = undefined;
});

describe('routeArgsKey.rule', () => {
  it('is the matched pattern, read above the map once the body is over', async () => {
    const seen: string[] = [];
    server = await serve(metrics(site, seen), { port: 0 });
    for (const path of ['/items/3', '/items/4', '/feeds/news/', '/nowhere']) await (await fetch(`${server.url}${path}`)).text();
    // Polled for up to 5 s (50 polls of 2 ms, about 100 ms, could run out on a loaded machine).
    for (const deadline = Date.now() + 5000; seen.length < 4 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 2));
    expect(seen).toEqual(['/items/<int:id> item', '/items/<int:id> item', '/feeds/<name>/ feed', '(unmatched) -']);
  });
});
