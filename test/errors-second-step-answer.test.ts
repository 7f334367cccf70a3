/**
 * Under `errors`, an `HTTPException` a body raises at the step right after its first chunk,
 * which the server takes before it sends the head and so answers as the exception itself: a
 * 4xx or a redirect is that answer, not logged nor passed to `onError`, as the same exception
 * raised before the first chunk, or without `errors`; a 5xx is still logged with its status.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HTTPBadGateway, HTTPException, HTTPGone, HTTPSeeOther, Request, Response, type ServerHandle, serve } from 'tsgi';
import { errors } from 'tsgi/middleware';

const enc = new TextEncoder();

/** A page whose body throws `error` at its second step, at once (before the server sends the head). */
function failsAtSecondStep(error: () => HTTPException) {
  return Request.application(
    () =>
      new Response(
        (function* () {
          yield enc.encode('<p>Loading…</p>');
          throw error();
        })(),
        { contentType: 'text/html' },
      ),
  );
}

let server: ServerHandle | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function get(error: () => HTTPException) {
  const logged: string[] = [];
  const reported: unknown[] = [];
  const app = errors(failsAtSecondStep(error), { log: { write: (line) => void logged.push(line) }, onError: (e) => void reported.push(e) });
  server = await serve(app, { host: '127.0.0.1', port: 0, log: { write: (line) => void logged.push(line) } });
  const res = await fetch(`${server.url}/report/7`, { redirect: 'manual', headers: { accept: 'text/plain' } });
  const body = await res.text();
  // The log line, if any, is written once the server has settled the head.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { res, body, logged, reported };
}

describe('errors: an HTTPException raised at the step after the first chunk', () => {
  it('a 4xx is answered as itself and neither logged nor passed to onError', async () => {
    const { res, body, logged, reported } = await get(() => new HTTPGone('Report 7 was deleted.'));
    expect(res.status).toBe(410);
    expect(body).toContain('Report 7 was deleted.');
    expect(logged).toEqual([]);
    expect(reported).toEqual([]);
  });

  it('a redirect is answered as itself and neither logged nor passed to onError', async () => {
    const { res, logged, reported } = await get(() => new HTTPSeeOther('/reports/'));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${server!.url}/reports/`);
    expect(logged).toEqual([]);
    expect(reported).toEqual([]);
  });

  it('a 5xx is answered as itself, logged once with its status and passed to onError', async () => {
    const { res, logged, reported } = await get(() => new HTTPBadGateway('The report service failed.'));
    expect(res.status).toBe(502);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^\[tsgi\] GET \/report\/7 HTTP\/1\.1 502: HTTPBadGateway: The report service failed\./);
    expect(reported).toHaveLength(1);
  });
});
