/**
 * `cors` in a real browser: headless Chromium (Debian's, driven by playwright-core) loads a
 * page from one tsgi server and calls an API on another port (another origin) behind `cors`,
 * with a custom header and `credentials: 'include'`, which forces a preflight. Run with
 * `npx vitest run --config vitest.browser.config.ts test/browser/cors.test.ts`.
 */
import { type Browser } from 'playwright-core';
import { launchChromium } from './chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, Request, Response, serve, type ServerHandle } from 'tsgi';
import { cors } from 'tsgi/middleware';


/** What reached the API app: method, the custom header and the cookie, one entry per request. */
const seen: string[] = [];
/** The methods of every request that reached the API server, before `cors`. */
const arrived: string[] = [];

const api = Request.application((req) => {
  seen.push(`${req.method} ${req.headers.get('x-token') ?? '-'} ${req.headers.get('cookie') ?? '-'}`);
  return Response.json({ cookie: req.headers.get('cookie') }, { headers: { 'X-Request-Id': '42' } });
});

const page = new Response('<!doctype html><title>client</title><p>client</p>', { contentType: 'text/html' });

let browser: Browser;
let allowedSite: ServerHandle;
let otherSite: ServerHandle;
let apiServer: ServerHandle;

beforeAll(async () => {
  browser = await launchChromium();
  const log = { write() {} };
  allowedSite = await serve(page, { host: '127.0.0.1', port: 0, log });
  otherSite = await serve(page, { host: '127.0.0.1', port: 0, log });
  const guarded = cors(api, { origin: [allowedSite.url], credentials: true, exposeHeaders: ['X-Request-Id'] });
  const recorded: App = (environ, startResponse) => {
    arrived.push(environ.REQUEST_METHOD);
    return guarded(environ, startResponse);
  };
  apiServer = await serve(recorded, { host: '127.0.0.1', port: 0, log });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([allowedSite, otherSite, apiServer].map((server) => server?.close({ timeout: 1000 })));
});

/** Loads `site` in a new page with a cookie, and has it fetch the API with credentials. */
async function callFrom(site: string): Promise<{ ok: true; status: number; body: unknown; requestId: string | null } | { ok: false; error: string }> {
  const tab = await browser.newPage();
  try {
    // A cookie of the page's host: cookies ignore ports, so the API's host has it too.
    await tab.context().addCookies([{ name: 'sid', value: 'abc', url: site }]);
    await tab.goto(`${site}/`);
    return await tab.evaluate(async (url) => {
      try {
        const res = await fetch(`${url}/items/1`, { method: 'PUT', credentials: 'include', headers: { 'X-Token': 't1', 'Content-Type': 'application/json' }, body: '{}' });
        return { ok: true as const, status: res.status, body: await res.json(), requestId: res.headers.get('X-Request-Id') };
      } catch (error) {
        return { ok: false as const, error: String(error) };
      }
    }, apiServer.url);
  } finally {
    await tab.close();
  }
}

describe('cors in Chromium', () => {
  it('lets the listed origin call the API with a custom header and its cookies (after a preflight)', async () => {
    seen.length = arrived.length = 0;
    const result = await callFrom(allowedSite.url);
    expect(result).toEqual({ ok: true, status: 200, body: { cookie: 'sid=abc' }, requestId: '42' });
    // A preflight, answered by cors alone; then the PUT reached the app with the header and the cookie.
    expect(arrived).toEqual(['OPTIONS', 'PUT']);
    expect(seen).toEqual(['PUT t1 sid=abc']);
  });

  it('blocks another origin: the preflight is refused, so the PUT is never sent', async () => {
    seen.length = arrived.length = 0;
    const result = await callFrom(otherSite.url);
    expect(result).toEqual({ ok: false, error: 'TypeError: Failed to fetch' });
    expect(arrived).toEqual(['OPTIONS']);
    expect(seen).toEqual([]);
  });
});
