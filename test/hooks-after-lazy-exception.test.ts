/**
 * A hooks layer's `after` over an app that raises an `HTTPException` lazily: from its body,
 * before it called `startResponse` (PEP 3333's lazy start) or before its first chunk. `after`
 * gets the exception's `Response` (its status, its fields, its page), as for one thrown at once
 * (Flask runs `after_request` on it), and what it changes reaches the client.
 */
import { describe, expect, it } from 'vitest';
import { type App, HTTPUnauthorized, Response, defineMiddleware } from 'tsgi';
import { start } from './node-helpers.ts';

describe("after on a lazily raised HTTPException's answer, over a real socket", () => {
  const lazy: Record<string, App> = {
    'before startResponse': () =>
      (async function* () {
        await new Promise((resolve) => setTimeout(resolve, 1));
        throw new HTTPUnauthorized('lazy', { wwwAuthenticate: 'Bearer realm="api"' });
      })(),
    'after startResponse, before the first chunk': (_environ, startResponse) =>
      (function* () {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        throw new HTTPUnauthorized('lazy', { wwwAuthenticate: 'Bearer realm="api"' });
      })(),
  };
  for (const [when, app] of Object.entries(lazy)) {
    it(`sees the exception's Response and its edits are sent (${when})`, async () => {
      const seen: Array<{ response: boolean; status: string; challenge: string | null; text: string }> = [];
      const stamp = defineMiddleware({
        after: async (_req, res) => {
          seen.push({ response: res instanceof Response, status: res.status, challenge: res.headers.get('www-authenticate'), text: await res.text() });
          res.headers.set('X-After', 'ran');
        },
      });
      const server = await start(stamp(app));
      const res = await fetch(`http://127.0.0.1:${server.port}/`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"');
      expect(res.headers.get('x-after')).toBe('ran');
      expect(await res.text()).toContain('lazy');
      expect(seen).toEqual([{ response: true, status: '401 Unauthorized', challenge: 'Bearer realm="api"', text: expect.stringContaining('lazy') }]);
      expect(server.log.text).toBe('');
    });
  }
});
