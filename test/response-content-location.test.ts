/**
 * `res.contentLocation` (RFC 9110 §8.7), WebOb's and Werkzeug's `content_location`: the URL of
 * the representation a 200 carries, sent as set, and kept on a 304 (§15.4.5).
 */
import { describe, expect, it } from 'vitest';
import { Request, Response, serve } from 'tsgi';
import { request } from './node-helpers.js';

describe('res.contentLocation', () => {
  it('sends Content-Location as set, reads it back, and keeps it on a 304', async () => {
    const app = Request.application(() => {
      const res = Response.json({ id: 1 }, { conditionalResponse: true });
      res.contentLocation = '/items/1';
      res.etag = 'v1';
      return res;
    });
    const server = await serve(app, { host: '127.0.0.1', port: 0 });
    try {
      const created = await request(server.url);
      expect([created.status, created.headers['content-location']]).toEqual([200, '/items/1']);
      const revalidated = await request(server.url, { headers: { 'if-none-match': '"v1"' } });
      expect([revalidated.status, revalidated.headers['content-location']]).toEqual([304, '/items/1']);
    } finally {
      await server.close();
    }
    const res = new Response('x');
    expect(res.contentLocation).toBeNull();
    res.contentLocation = 'https://example.com/a?b=1';
    expect([res.contentLocation, res.headers.get('Content-Location')]).toEqual(['https://example.com/a?b=1', 'https://example.com/a?b=1']);
    res.contentLocation = null;
    expect(res.headers.has('Content-Location')).toBe(false);
    expect(() => { res.contentLocation = '/a\r\nX: y'; }).toThrow(TypeError);
  });
});
