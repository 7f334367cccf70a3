/**
 * `req.headers.set` (an `EnvironHeaders`) takes what `res.headers.set` (a `HeaderList`) takes:
 * a finite number is written in decimal (a bigint or a boolean as `String()` writes it) and
 * `undefined` deletes, where `set('Content-Length', 5)`
 * threw `invalid value for header Content-Length: 5` (5 being a fine value) and
 * `set('X-A', undefined)` threw instead of deleting. Other types are still a `TypeError` naming
 * the field, never stored.
 */
import { describe, expect, it } from 'vitest';
import { EnvironHeaders, Request, Response, defineMiddleware, serve } from 'tsgi';

describe('EnvironHeaders values', () => {
  it('writes a finite number in decimal, and deletes for undefined as for null', () => {
    const req = Request.blank('/', { headers: { 'X-A': 'a' } });
    req.headers.set('Content-Length', 42);
    req.headers.set('X-Ratio', -0.5);
    expect([req.environ.CONTENT_LENGTH, req.headers.get('x-ratio')]).toEqual(['42', '-0.5']);
    req.headers.set('X-A', undefined);
    expect(req.headers.has('x-a')).toBe(false);
  });

  it('writes a bigint or a boolean as String() does, as res.headers.set does', () => {
    const req = Request.blank('/');
    req.headers.set('X-Big', 10n as never);
    req.headers.set('X-Flag', true as never);
    expect([req.headers.get('x-big'), req.headers.get('x-flag')]).toEqual(['10', 'true']);
  });

  it.each([{}, Number.NaN, Infinity, Symbol('s')])('refuses %s, naming the field, and stores nothing', (value) => {
    const headers = new EnvironHeaders(Request.blank('/').environ);
    expect(() => headers.set('X-Id', value as never)).toThrow(/^invalid value for header X-Id: .* \(a string or a number\)$/);
    expect(headers.keys()).toEqual(['Host']);
  });

  it('over a socket: a middleware setting a count for the app below', async () => {
    const count = defineMiddleware(async (req, app) => {
      req.headers.set('X-Query-Count', req.query.size);
      return req.getResponse(app);
    });
    const app = count(Request.application((req) => new Response(`${req.headers.get('x-query-count')}`)));
    const server = await serve(app, { host: '127.0.0.1', port: 0 });
    try {
      const answer = await fetch(`${server.url}/?a=1&a=2&b=3`);
      expect([answer.status, await answer.text()]).toEqual([200, '3']);
    } finally {
      await server.close();
    }
  });
});
