/**
 * A 412 or 416 decided by `conditionalResponse` keeps the response's own fields (Set-Cookie,
 * Vary, Access-Control-*, others), as WebOb's 416 and Werkzeug's 412 do, and drops the
 * representation's and its freshness (a stored error would answer for the page): over a real socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, Response, serve } from 'tsgi';

let server: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  server = await serve(Request.application(() => {
    const res = new Response('ABCDEFGHIJ', { conditionalResponse: true, contentType: 'text/plain', charset: 'utf-8' });
    res.etag = 'v1';
    res.lastModified = new Date(Date.UTC(2024, 0, 1));
    res.cacheControl.public = true;
    res.cacheControl.maxAge = 600;
    res.expires = new Date(Date.now() + 600_000);
    res.vary = ['Cookie'];
    res.setCookie('session', 'refreshed');
    res.headers.set('Access-Control-Allow-Origin', 'https://app.example');
    res.headers.set('X-Request-Id', 'r1');
    res.headers.set('Content-Language', 'en');
    res.headers.set('Content-Location', '/doc.txt');
    res.headers.set('Content-Disposition', 'attachment; filename="doc.txt"');
    res.headers.set('Content-Digest', 'sha-256=:AAAA:');
    return res;
  }), { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server.close();
});

function expectResponseFields(res: globalThis.Response): void {
  expect(res.headers.get('set-cookie')).toMatch(/^session=refreshed/);
  expect(res.headers.get('vary')).toMatch(/Cookie/);
  expect(res.headers.get('vary')).toMatch(/Accept/);
  expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
  expect(res.headers.get('x-request-id')).toBe('r1');
  for (const name of ['etag', 'last-modified', 'content-language', 'content-location', 'content-disposition', 'content-digest', 'cache-control', 'expires']) {
    expect(res.headers.get(name), name).toBeNull();
  }
}

describe('conditionalResponse: the 412 and 416 keep the response fields', () => {
  it('412 for a failed If-Match', async () => {
    const res = await fetch(server.url, { headers: { 'If-Match': '"v0"', Accept: 'application/json' } });
    expect(res.status).toBe(412);
    expectResponseFields(res);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('content-range')).toBeNull();
    expect(((await res.json()) as { code: number }).code).toBe(412);
  });

  it('416 for an unsatisfiable Range, with Content-Range: bytes */length (RFC 9110 §15.5.17)', async () => {
    const res = await fetch(server.url, { headers: { Range: 'bytes=50-60' } });
    expect(res.status).toBe(416);
    expectResponseFields(res);
    expect(res.headers.get('content-range')).toBe('bytes */10');
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toContain('416 Range Not Satisfiable');
  });
});

describe('conditionalResponse: the 412 and 416 add Accept to the page Vary once (as HTTPException.getResponse does)', () => {
  let negotiated: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    // A page that negotiates by Accept itself (Vary: Accept), or varies on everything (Vary: *).
    negotiated = await serve(Request.application((req) => {
      const res = new Response('ABCDEFGHIJ', { conditionalResponse: true, headers: { Vary: req.query.get('vary') ?? 'Accept' } });
      res.etag = 'v1';
      return res;
    }), { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await negotiated.close();
  });

  for (const [vary, sent] of [['Accept', 'Accept'], ['accept, Origin', 'accept, Origin'], ['*', '*']] as const) {
    it(`Vary: ${vary} on the page gives Vary: ${sent} on the 412 and the 416`, async () => {
      const url = `${negotiated.url}?vary=${encodeURIComponent(vary)}`;
      const failed = await fetch(url, { headers: { 'If-Match': '"v0"' } });
      expect(failed.status).toBe(412);
      expect(failed.headers.get('vary')).toBe(sent);
      const unsatisfiable = await fetch(url, { headers: { Range: 'bytes=50-60' } });
      expect(unsatisfiable.status).toBe(416);
      expect(unsatisfiable.headers.get('vary')).toBe(sent);
      await Promise.all([failed.text(), unsatisfiable.text()]);
    });
  }
});
