/**
 * `secureHeaders` in a real browser: headless Chromium (playwright-core). Run with
 * `npm run test:browser`.
 *
 * - The CSP nonce: an inline script carrying the request's nonce runs, one without it is
 *   blocked (and reported on the console).
 * - Why `Referrer-Policy` defaults to `strict-origin-when-cross-origin` and not helmet's
 *   `no-referrer`: under `no-referrer` a browser sends `Origin: null` with the site's own form
 *   posts (Fetch §3.1, "append a request `Origin` header"), and a page on a plain-http host
 *   gets no `Sec-Fetch-Site`, so `crossOriginProtection` refuses the site's own forms.
 *   http://b.test (mapped to the loopback) is such a host: not potentially trustworthy.
 */
import { type Browser } from 'playwright-core';
import { launchChromium } from './chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, Request, Response, serve, type ServerHandle } from 'tsgi';
import { crossOriginProtection, cspNonce, secureHeaders } from 'tsgi/middleware';


/** A page with two inline scripts: one with the request's nonce, one without. */
const scripts = Request.application(
  (req) =>
    new Response(
      '<!doctype html><body><p id="out">none</p>' +
        `<script nonce="${cspNonce(req)}">document.getElementById('out').textContent = 'nonced ran';</script>` +
        "<script>document.getElementById('out').textContent += ', unnonced ran';</script></body>",
      { contentType: 'text/html' },
    ),
);

/** A site with a form posting to itself, behind CSRF protection; records each post's `Origin`. */
const origins: Array<string | undefined> = [];
const site = crossOriginProtection(
  Request.application((req) =>
    req.method === 'POST'
      ? new Response('saved')
      : new Response('<!doctype html><form method="post" action="/save"><input name="a" value="1"><button>Save</button></form>', { contentType: 'text/html' }),
  ),
);
const recorded: App = (environ, startResponse) => {
  if (environ.REQUEST_METHOD === 'POST') origins.push(environ.HTTP_ORIGIN as string | undefined);
  return site(environ, startResponse);
};

let browser: Browser;
const servers: ServerHandle[] = [];

beforeAll(async () => {
  browser = await launchChromium(['--host-resolver-rules=MAP b.test 127.0.0.1']);
});

afterAll(async () => {
  await browser?.close();
  for (const server of servers) await server.close({ timeout: 1000 });
});

async function serveApp(app: App): Promise<ServerHandle> {
  const server = await serve(app, { port: 0, log: { write() {} } });
  servers.push(server);
  return server;
}

describe('secureHeaders in Chromium', () => {
  it('runs the inline script with the request’s nonce and blocks the one without', async () => {
    const server = await serveApp(
      secureHeaders(scripts, { contentSecurityPolicy: { directives: { 'default-src': ["'self'"], 'script-src': ["'self'"] }, nonce: true } }),
    );
    const page = await browser.newPage();
    const logged: string[] = [];
    page.on('console', (message) => logged.push(message.text()));
    const response = await page.goto(server.url);
    expect(response?.headers()['content-security-policy']).toMatch(/^default-src 'self'; script-src 'self' 'nonce-[A-Za-z0-9+/]{22}=='$/);
    expect(await page.locator('#out').innerText()).toBe('nonced ran');
    expect(logged.join('\n')).toContain('Content Security Policy');
    await page.close();
  });

  it('sends no CSP by default: inline scripts run', async () => {
    const inline = Request.application(
      () => new Response('<!doctype html><p id="out">none</p><script>document.getElementById("out").textContent = "ran"</script>', { contentType: 'text/html' }),
    );
    const server = await serveApp(secureHeaders(inline));
    const page = await browser.newPage();
    const response = await page.goto(server.url);
    expect(response?.headers()['content-security-policy']).toBeUndefined();
    expect(await page.locator('#out').innerText()).toBe('ran');
    await page.close();
  });

  /** Opens the site's form on http://b.test, posts it, and answers the status of the result. */
  async function postOwnForm(server: ServerHandle): Promise<number | undefined> {
    const page = await browser.newPage();
    try {
      await page.goto(`http://b.test:${server.port}/`);
      const [response] = await Promise.all([page.waitForNavigation(), page.click('button')]);
      return response?.status();
    } finally {
      await page.close();
    }
  }

  it('keeps the site’s own form posts working under crossOriginProtection (Referrer-Policy default)', async () => {
    origins.length = 0;
    const server = await serveApp(secureHeaders(recorded));
    expect(await postOwnForm(server)).toBe(200);
    expect(origins).toEqual([`http://b.test:${server.port}`]);
  });

  it('shows why not no-referrer: the browser then sends Origin: null, and the own form is refused', async () => {
    origins.length = 0;
    const server = await serveApp(secureHeaders(recorded, { referrerPolicy: 'no-referrer' }));
    expect(await postOwnForm(server)).toBe(403);
    expect(origins).toEqual(['null']);
  });
});
