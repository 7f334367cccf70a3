/**
 * The API of test/scenario-spa.test.ts (test/spa-api.ts) in Chromium: a page served on one
 * 127.0.0.1 port calls the API on another with `fetch(…, { credentials: 'include' })`. Two ports
 * are two origins but one site, so Chromium sends `Sec-Fetch-Site: same-site`, stores the
 * session cookie (`Secure` is kept over plain http on a loopback address) and sends it back,
 * `SameSite=None` or `Lax` alike: the page logs in, reads the exposed fields, reads the 401, 404
 * and 500 bodies, and logs out. Another port of 127.0.0.1 is the same site too: its post goes
 * with the cookie, and only `crossOriginProtection` refuses it. A page on `localhost` calling
 * 127.0.0.1 is cross-site: the login answers 200 but no cookie is kept, even
 * `SameSite=None; Secure` (third-party cookies). Run with
 * `npx vitest run --config vitest.browser.config.ts test/browser/spa-cross-port.test.ts`.
 */
import { type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, Response, serve, type ServerHandle } from 'tsgi';
import { spaApi } from '../spa-api.ts';
import { callsFrom, launchChromium, type PageCall } from './chromium.ts';

const page = new Response('<!doctype html><title>spa</title><p>spa</p>', { contentType: 'text/html' });
const log = { write() {} };
/** What reached the API server, outside every middleware: method, path, Sec-Fetch-Site, a cookie or not. */
const arrived: string[] = [];
const recorded = (app: App): App => (environ, startResponse) => {
  arrived.push(`${environ.REQUEST_METHOD} ${environ.PATH_INFO} ${environ.HTTP_SEC_FETCH_SITE ?? '-'} ${environ.HTTP_COOKIE ? 'cookie' : 'no-cookie'}`);
  return app(environ, startResponse);
};

let browser: Browser;
let spa: ServerHandle;
let sibling: ServerHandle;
const apis: ServerHandle[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  spa = await serve(page, { host: '127.0.0.1', port: 0, log });
  sibling = await serve(page, { host: '127.0.0.1', port: 0, log });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([spa, sibling, ...apis].map((server) => server?.close({ timeout: 1000 })));
});

/** The API on a port of its own, for the front end at `origin`. */
async function startApi(origin: string, sameSite: 'none' | 'lax' = 'none'): Promise<string> {
  const server = await serve(recorded(spaApi([origin], undefined, undefined, sameSite)), { host: '127.0.0.1', port: 0, log });
  apis.push(server);
  return `http://127.0.0.1:${server.port}`;
}

/** The page's calls, each result with its `ETag` and `X-Request-Cost`. */
const callsReadingFields = (context: BrowserContext, site: string, base: string, calls: PageCall[]) => callsFrom(context, site, base, calls, { etag: 'etag', cost: 'x-request-cost' });

const LOGIN: PageCall = ['POST', '/login', { user: 'bob', password: 'hunter2' }];
const ok = (status: number, body: unknown, etag: string | null = null, cost: string | null = null) => ({ status, etag, cost, body });
const loggedOut = ok(401, { code: 401, message: 'Log in first.' });

describe('a single-page app on one 127.0.0.1 port, its API on another (one site), in Chromium', () => {
  for (const sameSite of ['none', 'lax'] as const) {
    it(`logs in, reads the exposed fields and every error, and logs out (SameSite=${sameSite})`, async () => {
      const origin = `http://127.0.0.1:${spa.port}`;
      const api = await startApi(origin, sameSite);
      const context = await browser.newContext();
      arrived.length = 0;
      const results = await callsReadingFields(context, origin, api, [
        ['GET', '/me'],
        LOGIN,
        ['GET', '/me'],
        ['PUT', '/notes/1', { text: 'hi' }],
        ['DELETE', '/notes/1'],
        ['GET', '/boom'],
        ['GET', '/nope'],
        ['POST', '/logout'],
        ['GET', '/me'],
      ]);
      expect(results).toEqual([
        loggedOut,
        ok(200, { user: 'bob' }),
        ok(200, { user: 'bob' }, null, '1'),
        ok(200, { id: 1, text: 'hi' }, '"n1"'),
        ok(204, null),
        ok(500, { code: 500, message: 'Internal Server Error' }),
        ok(404, { code: 404, message: 'Not Found' }),
        ok(204, null),
        loggedOut,
      ]);
      // The JSON writes were preflighted, without the cookie; every call after the login has it.
      // The DELETE was not: the PUT's preflight answer (Max-Age 600, every method) was reused.
      expect(arrived).toEqual([
        'GET /me same-site no-cookie',
        'OPTIONS /login same-site no-cookie',
        'POST /login same-site no-cookie',
        'GET /me same-site cookie',
        'OPTIONS /notes/1 same-site no-cookie',
        'PUT /notes/1 same-site cookie',
        'DELETE /notes/1 same-site cookie',
        'GET /boom same-site cookie',
        'GET /nope same-site cookie',
        'POST /logout same-site cookie',
        'GET /me same-site no-cookie',
      ]);
      expect(await context.cookies()).toEqual([]);
      await context.close();
    });
  }

  it('refuses the post of another 127.0.0.1 port, which the browser sends with the cookie (same site)', async () => {
    const origin = `http://127.0.0.1:${spa.port}`;
    const api = await startApi(origin);
    const context = await browser.newContext();
    expect(await callsReadingFields(context, origin, api, [LOGIN])).toEqual([ok(200, { user: 'bob' })]);
    arrived.length = 0;
    const other = `http://127.0.0.1:${sibling.port}`;
    expect(await callsReadingFields(context, other, api, [['POST', '/logout', 'x'], ['GET', '/me']])).toEqual([{ error: 'TypeError: Failed to fetch' }, { error: 'TypeError: Failed to fetch' }]);
    expect(arrived).toEqual(['POST /logout same-site cookie', 'GET /me same-site cookie']);
    // Refused before the session was read: still logged in.
    expect(await callsReadingFields(context, origin, api, [['GET', '/me']])).toEqual([ok(200, { user: 'bob' }, null, '1')]);
    await context.close();
  });

  it('keeps no cookie when the page is on localhost (another site), even SameSite=None; Secure', async () => {
    const origin = `http://localhost:${spa.port}`;
    const api = await startApi(origin);
    const context = await browser.newContext();
    arrived.length = 0;
    expect(await callsReadingFields(context, origin, api, [LOGIN, ['GET', '/me']])).toEqual([ok(200, { user: 'bob' }), loggedOut]);
    expect(arrived).toContain('POST /login cross-site no-cookie');
    expect(arrived).toContain('GET /me cross-site no-cookie');
    expect(await context.cookies()).toEqual([]);
    await context.close();
  });
});
