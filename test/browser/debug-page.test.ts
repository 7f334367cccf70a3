/**
 * The `errors({ debug: true })` traceback page in a real browser: headless Chromium from
 * Debian, driven by playwright-core. Run with `npm run test:browser` (CI installs chromium).
 * A screenshot is saved to test-artifacts/debug-page.png.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type Browser } from 'playwright-core';
import { launchChromium } from './chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, Response, serve, type ServerHandle } from 'tsgi';
import { errors } from 'tsgi/middleware';

const artifacts = path.resolve(import.meta.dirname, '..', '..', 'test-artifacts');

function failingLookup(id: string): never {
  throw new Error(`lookup failed for <${id}> & friends`);
}

const site = Request.application((req) => {
  if (req.pathInfo === '/ok') return new Response('fine');
  return failingLookup(req.query.get('id') ?? 'none');
});

let browser: Browser;
let server: ServerHandle;

beforeAll(async () => {
  browser = await launchChromium();
  const log = { write() {} };
  server = await serve(errors(site, { debug: true, log }), { port: 0 });
  await mkdir(artifacts, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close({ timeout: 1000 });
});

describe('errors({ debug: true }) in Chromium', () => {
  it('renders the traceback page with the escaped error, source lines and the request', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${server.url}/crash?id=%3Cscript%3Ealert(1)%3C/script%3E`);
    expect(response?.status()).toBe(500);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);
    const text = await page.locator('body').innerText();
    // The error message is shown as text, never interpreted as markup.
    expect(text).toContain('lookup failed for <<script>alert(1)</script>> & friends');
    expect(await page.locator('script').count()).toBe(0);
    // A frame of this very file, with the source line that threw.
    expect(text).toContain('debug-page.test.ts');
    expect(text).toContain('throw new Error(`lookup failed for');
    // The request line and environ keys.
    expect(text).toContain('GET');
    expect(text).toContain('/crash');
    expect(text).toContain('PATH_INFO');
    await page.screenshot({ path: path.join(artifacts, 'debug-page.png'), fullPage: true });
    await page.close();
  });

  it('leaves successful requests alone', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${server.url}/ok`);
    expect(response?.status()).toBe(200);
    expect(await page.locator('body').innerText()).toBe('fine');
    await page.close();
  });
});
