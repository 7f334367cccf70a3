/**
 * Iterating `req.headers` (an `EnvironHeaders`) while deleting a header not reached yet skips
 * it: it was answered as `[name, null]`, typed a string, so a middleware dropping `Cookie` on
 * meeting `Authorization` crashed on the `null` (`value.length`) with a 500.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response, defineMiddleware, serve } from 'tsgi';

describe('EnvironHeaders iteration', () => {
  it('skips a header deleted before it is reached, and never visits one added', () => {
    const req = Request.blank('/', { headers: { Authorization: 'Bearer t', Cookie: 'a=1', 'X-A': '1' } });
    const seen: Array<[string, string]> = [];
    for (const pair of req.headers) {
      seen.push(pair);
      if (pair[0] === 'Authorization') {
        req.headers.delete('Cookie');
        req.headers.set('X-Added', '1');
      }
    }
    expect(seen).toEqual([['Host', 'localhost'], ['Authorization', 'Bearer t'], ['X-A', '1']]);
  });

  it('over a socket: a middleware deleting a later header while it iterates answers 200', async () => {
    const lines: string[] = [];
    const noCookieWithToken = defineMiddleware(async (req, app) => {
      for (const [name, value] of req.headers) {
        if (name === 'Authorization') req.headers.delete('Cookie');
        lines.push(`${name}: ${value.length}`);
      }
      return req.getResponse(app);
    });
    const app = noCookieWithToken(Request.application((req) => new Response(`${req.headers.has('cookie')}`)));
    const server = await serve(app, { host: '127.0.0.1', port: 0, log: { write: () => {} } });
    try {
      const answer = await fetch(`${server.url}/`, { headers: [['Authorization', 'Bearer t'], ['Cookie', 'a=1']] });
      expect([answer.status, await answer.text()]).toEqual([200, 'false']);
      expect(lines).toContain('Authorization: 8');
      expect(lines.some((line) => line.startsWith('Cookie'))).toBe(false);
    } finally {
      await server.close();
    }
  });
});
