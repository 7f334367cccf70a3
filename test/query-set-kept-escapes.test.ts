/**
 * `req.query.set(key, value)` with the value a key already has keeps that pair as it was sent
 * in `QUERY_STRING`, as `add` and `delete` keep the pairs they leave alone: its inner delete
 * rewrote `QUERY_STRING` first, so the pair set back was re-encoded, and a Shift_JIS query's
 * escapes (`%93%8C%8B%9E`, read as U+FFFD in UTF-8) became `%EF%BF%BD`, lost to the app below.
 * A middleware keeping the first value of each parameter (against parameter pollution) is
 * the case: over a socket, the app below still reads the Shift_JIS text.
 */
import { describe, expect, it } from 'vitest';
import { MultiDict, Request, Response, defineMiddleware, serve } from 'tsgi';

describe('req.query.set keeps the escapes of a pair set back as it was', () => {
  it('keeps the sent text of a pair set back to its value, encodes a changed one', () => {
    const req = Request.blank('/?q=%93%8C%8B%9E&q=x&a=%31');
    req.query.set('q', req.query.get('q')!);
    req.query.set('a', '1');
    expect(req.queryString).toBe('q=%93%8C%8B%9E&a=%31');
    req.query.set('a', '2');
    expect(req.queryString).toBe('q=%93%8C%8B%9E&a=2');
  });

  it('over a socket: first-value-only middleware, then a Shift_JIS read below', async () => {
    const firstOnly = defineMiddleware(async (req, app) => {
      for (const key of req.query.keys()) req.query.set(key, req.query.get(key)!);
      return req.getResponse(app);
    });
    const app = firstOnly(Request.application((req) => {
      const query = MultiDict.fromQueryString(req.queryString, 'shift_jis');
      return new Response(JSON.stringify([req.queryString, query.getAll('q')]));
    }));
    const server = await serve(app, { host: '127.0.0.1', port: 0 });
    try {
      const answer = await fetch(`${server.url}/?q=%93%8C%8B%9E&q=%91%E5%8D%E3&page=2`);
      expect(await answer.json()).toEqual(['q=%93%8C%8B%9E&page=2', ['東京']]);
    } finally {
      await server.close();
    }
  });
});
