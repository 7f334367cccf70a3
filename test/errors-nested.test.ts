/**
 * errors() nested (a mounted app with its own, the site's around it): a failure after the head
 * is logged, and given to onError, once, by the innermost layer, over a real socket.
 */
import { describe, expect, it } from 'vitest';
import { type App, Response, compose, serve } from 'tsgi';
import { errors, mount, requestId } from 'tsgi/middleware';

const late: App = (environ, startResponse) =>
  new Response(
    (async function* () {
      yield new TextEncoder().encode('part');
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error('failed after the head');
    })(),
  ).respond(environ, startResponse);

describe('errors() inside errors()', () => {
  it('logs a failure after the head once, and calls onError once', async () => {
    const lines: string[] = [];
    const reported: string[] = [];
    const layer = (name: string) => (app: App) =>
      errors(app, { log: { write: (line: string) => void lines.push(`${name} ${line.split('\n')[0]}`) }, onError: (error) => void reported.push(`${name} ${(error as Error).message}`) });
    const serverLog: string[] = [];
    const app = compose(requestId, layer('site'))(mount({ '/blog': layer('blog')(late) }));
    const server = await serve(app, { port: 0, log: { write: (line: string) => void serverLog.push(line) } });
    try {
      await expect(fetch(`${server.url}/blog/post`).then((res) => res.text())).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await server.close();
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^blog \[tsgi\] GET \/blog\/post HTTP\/1\.1 200 \(failed after the response started; the connection is aborted\) request_id=[\w-]+: Error: failed after the head$/);
    expect(reported).toEqual(['blog failed after the head']);
    expect(serverLog).toEqual([]);
  });
});

describe('errors() over a Request.application handler', () => {
  it('logs a 5xx with a cause that the handler answers to its own log, and calls onError, once', async () => {
    const { HTTPBadGateway, Request } = await import('tsgi');
    const { RouteMap } = await import('tsgi/routing');
    const lines: string[] = [];
    const reported: unknown[] = [];
    const serverLog: string[] = [];
    const routes = new RouteMap({ feed: '/feed' });
    const site = routes.app({
      feed: () => {
        throw new HTTPBadGateway('The upstream broke off.', { cause: new Error('ECONNRESET') });
      },
    });
    const plain = Request.application(() => {
      throw new HTTPBadGateway('Deliberate, no cause.');
    });
    const app = compose(requestId, (inner: App) => errors(inner, { log: { write: (line: string) => void lines.push(line.split('\n')[0]!) }, onError: (error) => void reported.push(error) }))(
      mount({ '/': site, '/plain': plain }),
    );
    const server = await serve(app, { port: 0, log: { write: (line: string) => void serverLog.push(line) } });
    try {
      expect((await fetch(`${server.url}/feed`)).status).toBe(502);
      expect((await fetch(`${server.url}/plain`)).status).toBe(502);
    } finally {
      await server.close();
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[tsgi\] GET \/feed HTTP\/1\.1 502 request_id=[\w-]+: HTTPBadGateway: The upstream broke off\.$/);
    expect(reported).toHaveLength(1);
    expect((reported[0] as Error).message).toBe('The upstream broke off.');
    expect(serverLog).toEqual([]);
  });
  it('logs a returned 5xx with a cause as a thrown one, once, through defineMiddleware layers too', async () => {
    const { HTTPBadGateway, Request, defineMiddleware } = await import('tsgi');
    const lines: string[] = [];
    const reported: unknown[] = [];
    const serverLog: string[] = [];
    const returned = () => new HTTPBadGateway('The upstream did not answer.', { cause: new Error('ECONNREFUSED') });
    const layer = defineMiddleware({ after() {} });
    const refuse = defineMiddleware({ before: returned });
    const app = errors(
      mount({ '/handler': Request.application(returned), '/layered': layer(layer(Request.application(returned))), '/before': refuse(Request.application(() => 'ok')) }),
      { log: { write: (line: string) => void lines.push(line.split('\n')[0]!) }, onError: (error) => void reported.push(error) },
    );
    const server = await serve(app, { port: 0, log: { write: (line: string) => void serverLog.push(line) } });
    try {
      for (const path of ['/handler', '/layered', '/before']) expect((await fetch(`${server.url}${path}`)).status).toBe(502);
    } finally {
      await server.close();
    }
    expect(lines.map((line) => line.slice(0, line.indexOf(':')))).toEqual(['[tsgi] GET /handler HTTP/1.1 502', '[tsgi] GET /layered HTTP/1.1 502', '[tsgi] GET /before HTTP/1.1 502']);
    expect(reported).toHaveLength(3);
    expect(serverLog).toEqual([]);
  });
});
