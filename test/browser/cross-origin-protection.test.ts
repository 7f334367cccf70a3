/**
 * `crossOriginProtection` against a real browser's form posts: headless Chromium (playwright-core)
 * posting from one site to another, and to itself. Run with `npm run test:browser`.
 *
 * Two servers on the loopback: A serves the forging page at http://127.0.0.1:portA, B the
 * protected app at http://localhost:portB; 127.0.0.1 and localhost are different sites. Both are
 * potentially trustworthy origins, so Chromium sends `Sec-Fetch-Site`; a page on
 * http://a.test posting to http://b.test (both mapped to the loopback) are not, so that post
 * carries `Origin` alone and the fallback is what refuses it.
 */
import { type Browser } from 'playwright-core';
import { launchChromium } from './chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, Request, Response, serve, type ServerHandle } from 'tsgi';
import { crossOriginProtection } from 'tsgi/middleware';


/** A page whose form posts `amount=100` to `action`. */
const formPage = (action: string) =>
  new Response(`<!doctype html><form method="post" action="${action}"><input name="amount" value="100"><button>Send</button></form>`, {
    contentType: 'text/html',
  });

/** What B's app saw of each post that reached it, and what the browser sent to B. */
const reached: string[] = [];
const sent: Array<{ site: string | undefined; origin: string | undefined }> = [];

const bank = Request.application(async (req) => {
  if (req.method === 'POST') {
    reached.push((await req.form()).get('amount') ?? '');
    return new Response('sent');
  }
  return formPage('/transfer');
});

/** Records the headers the browser sent, outside the protection, then asks it. */
const guarded = crossOriginProtection(bank);
const protectedBank: App = (environ, startResponse) => {
  if (environ.REQUEST_METHOD === 'POST') {
    sent.push({ site: environ.HTTP_SEC_FETCH_SITE as string | undefined, origin: environ.HTTP_ORIGIN as string | undefined });
  }
  return guarded(environ, startResponse);
};

let browser: Browser;
let a: ServerHandle;
let b: ServerHandle;

beforeAll(async () => {
  browser = await launchChromium(['--host-resolver-rules=MAP a.test 127.0.0.1, MAP b.test 127.0.0.1']);
  b = await serve(protectedBank, { port: 0 });
  // The forging site: its form posts to ?to=, B's transfer URL.
  a = await serve(Request.application((req) => formPage(req.query.get('to')!)), { port: 0 });
});

afterAll(async () => {
  await browser?.close();
  await a?.close({ timeout: 1000 });
  await b?.close({ timeout: 1000 });
});

/** Opens `url`, submits its form, and answers the status and text of the page it leads to. */
async function submitFrom(url: string): Promise<{ status: number | undefined; text: string }> {
  const page = await browser.newPage();
  try {
    await page.goto(url);
    const [response] = await Promise.all([page.waitForNavigation(), page.click('button')]);
    return { status: response?.status(), text: await page.locator('body').innerText() };
  } finally {
    await page.close();
  }
}

describe('crossOriginProtection in Chromium', () => {
  it('refuses a form another site posts (Sec-Fetch-Site: cross-site) with a 403, never reaching the app', async () => {
    sent.length = 0;
    reached.length = 0;
    const { status, text } = await submitFrom(`http://127.0.0.1:${a.port}/?to=http://localhost:${b.port}/transfer`);
    expect(sent).toEqual([{ site: 'cross-site', origin: `http://127.0.0.1:${a.port}` }]);
    expect(status).toBe(403);
    expect(text).toContain('Cross-origin request refused: Sec-Fetch-Site is cross-site.');
    expect(reached).toEqual([]);
  });

  it('lets the site post its own form (Sec-Fetch-Site: same-origin)', async () => {
    sent.length = 0;
    reached.length = 0;
    const { status, text } = await submitFrom(`http://localhost:${b.port}/`);
    expect(sent).toEqual([{ site: 'same-origin', origin: `http://localhost:${b.port}` }]);
    expect(status).toBe(200);
    expect(text).toBe('sent');
    expect(reached).toEqual(['100']);
  });

  it('refuses, on Origin alone, a post from a page the browser sends no Sec-Fetch-Site for', async () => {
    sent.length = 0;
    reached.length = 0;
    // Neither http://a.test nor http://b.test is potentially trustworthy: no Fetch Metadata.
    const { status, text } = await submitFrom(`http://a.test:${a.port}/?to=http://b.test:${b.port}/transfer`);
    expect(sent).toEqual([{ site: undefined, origin: `http://a.test:${a.port}` }]);
    expect(status).toBe(403);
    expect(text).toContain('Cross-origin request refused: Origin does not match the Host.');
    expect(reached).toEqual([]);
  });
});
