/**
 * The single-page-app example of docs/middleware-cors.md in Chromium (playwright-core), as
 * written: `cors`, `crossOriginProtection` and `CookieSessions` with the front end's origin.
 * A page on http://localhost:portA logs in to the API at http://localhost:portB (one site,
 * another origin), reads `/me` and logs out; a page of a sibling origin (the same site, not
 * listed) posts with the user's cookie and is refused; and the same calls to 127.0.0.1 (another
 * site, the address `tsgi serve` prints) keep no session, as the page says. Run with
 * `npm run test:browser`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser } from 'playwright-core';
import { type PageCall, callsFrom, launchChromium } from './chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, Response, serve, type ServerHandle } from 'tsgi';

const DOC = fileURLToPath(new URL('../../docs/middleware-cors.md', import.meta.url));

/** The first `ts` block under `## heading` of docs/middleware-cors.md. */
function example(heading: string): string {
  const text = readFileSync(DOC, 'utf8');
  const at = text.indexOf(`\n## ${heading}\n`);
  if (at < 0) throw new Error(`docs/middleware-cors.md has no "## ${heading}"`);
  return /```ts\n([\s\S]*?)```/.exec(text.slice(at))![1]!;
}

/** What reached the API server, outside every middleware: method, path, Sec-Fetch-Site, a cookie or not. */
const arrived: string[] = [];
const recorded = (app: App): App => (environ, startResponse) => {
  arrived.push(`${environ.REQUEST_METHOD} ${environ.PATH_INFO} ${environ.HTTP_SEC_FETCH_SITE ?? '-'} ${environ.HTTP_COOKIE ? 'cookie' : 'no-cookie'}`);
  return app(environ, startResponse);
};

const page = new Response('<!doctype html><title>spa</title><p>spa</p>', { contentType: 'text/html' });
const log = { write() {} };
let browser: Browser;
let spa: ServerHandle;
let sibling: ServerHandle;
let api: ServerHandle;

beforeAll(async () => {
  browser = await launchChromium();
  spa = await serve(page, { host: '127.0.0.1', port: 0, log });
  sibling = await serve(page, { host: '127.0.0.1', port: 0, log });
  process.env.SPA_ORIGINS = `http://localhost:${spa.port}`;
  process.env.SESSION_SECRET ??= 'a session secret for the browser test, 32+ bytes';
  process.env.BOB_PASSWORD ??= 'a password for the browser test';
  const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-spa-'));
  const file = path.join(dir, 'spa-api.ts');
  writeFileSync(file, example('A single-page app with a cookie session'));
  let app: App;
  try {
    ({ app } = (await import(file)) as { app: App });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  api = await serve(recorded(app), { host: '127.0.0.1', port: 0, log });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([spa, sibling, api].map((server) => server?.close({ timeout: 1000 })));
});

const login = (password: string): PageCall => ['POST', '/api/login', { user: 'bob', password }];

describe('the single-page app of docs/middleware-cors.md in Chromium', () => {
  it('logs in from the front end’s origin, reads /me with the cookie, and logs out', async () => {
    const context = await browser.newContext();
    arrived.length = 0;
    const results = await callsFrom(context, `http://localhost:${spa.port}`, `http://localhost:${api.port}`, [
      ['GET', '/api/me'],
      login('wrong'),
      login(process.env.BOB_PASSWORD!),
      ['GET', '/api/me'],
      ['POST', '/api/logout'],
      ['GET', '/api/me'],
    ]);
    expect(results).toEqual([
      { status: 200, body: { user: null } },
      { status: 403, body: { code: 403, title: 'Forbidden', message: 'Wrong user name or password.' } },
      { status: 200, body: { user: 'bob' } },
      { status: 200, body: { user: 'bob' } },
      { status: 204, body: null },
      { status: 200, body: { user: null } },
    ]);
    // The JSON posts were preflighted (answered by cors alone); the fetches are same-site.
    expect(arrived).toContain('OPTIONS /api/login same-site no-cookie');
    expect(arrived).toContain('GET /api/me same-site cookie');
    await context.close();
  });

  it('refuses a sibling origin’s post though the browser sends it the cookie', async () => {
    const context = await browser.newContext();
    const [loggedIn] = await callsFrom(context, `http://localhost:${spa.port}`, `http://localhost:${api.port}`, [login(process.env.BOB_PASSWORD!)]);
    expect(loggedIn).toEqual({ status: 200, body: { user: 'bob' } });
    arrived.length = 0;
    // A text/plain post needs no preflight: it reaches the server with the user's cookie.
    const forged = await callsFrom(context, `http://localhost:${sibling.port}`, `http://localhost:${api.port}`, [['POST', '/api/logout', 'x']]);
    expect(forged).toEqual([{ error: 'TypeError: Failed to fetch' }]);
    expect(arrived).toEqual(['POST /api/logout same-site cookie']);
    // Refused before the app: the session is still there.
    const [me] = await callsFrom(context, `http://localhost:${spa.port}`, `http://localhost:${api.port}`, [['GET', '/api/me']]);
    expect(me).toEqual({ status: 200, body: { user: 'bob' } });
    await context.close();
  });

  it('keeps no session when the API is another site (127.0.0.1): a SameSite=Lax cookie set by a cross-site answer is not stored (RFC 6265bis)', async () => {
    const context = await browser.newContext();
    arrived.length = 0;
    const results = await callsFrom(context, `http://localhost:${spa.port}`, `http://127.0.0.1:${api.port}`, [login(process.env.BOB_PASSWORD!), ['GET', '/api/me']]);
    // The trusted origin's cross-site post passes crossOriginProtection; the cookie is not kept.
    expect(results).toEqual([
      { status: 200, body: { user: 'bob' } },
      { status: 200, body: { user: null } },
    ]);
    expect(arrived).toContain('POST /api/login cross-site no-cookie');
    expect(arrived).toContain('GET /api/me cross-site no-cookie');
    expect(await context.cookies()).toEqual([]);
    await context.close();
  });
});
