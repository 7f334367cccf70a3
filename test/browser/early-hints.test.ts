/**
 * What Chromium does with `req.sendEarlyHints` (docs/response.md#early-hints-103): headless
 * Chromium (playwright-core) loads a page whose app sends a 103 and then waits for the
 * preloaded script, up to a limit, before answering. Over HTTP/2 (TLS, `http2: true`) the
 * script is asked for while the page is still being computed; over HTTP/1.1 it is not (Chromium
 * ignores a 103 there); and of two 103s only the first is used. Run with `npm run test:browser`.
 */
import { type Browser } from 'playwright-core';
import { launchChromium } from './chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, Response, serve, type ServerHandle } from 'tsgi';
import { makeCertificate, type TestCertificate } from '../tls-helpers.ts';


/** The scripts asked for so far, each with whether the page's final answer had gone out. */
let fetched: Array<{ path: string; beforeFinal: boolean }> = [];
let final = false;
let waiters: Array<() => void> = [];

const app = Request.application(async (req) => {
  if (req.path.endsWith('.js')) {
    fetched.push({ path: req.path, beforeFinal: !final });
    for (const wake of waiters) wake();
    return new Response('', { contentType: 'text/javascript' });
  }
  if (req.path === '/favicon.ico') return new Response('', { status: 404 });
  final = false;
  const sent = [req.sendEarlyHints('</first.js>; rel=preload; as=script')];
  if (req.query.has('twice')) sent.push(req.sendEarlyHints('</second.js>; rel=preload; as=script'));
  // The slow part of the page: up to 1.5 s, less once the first script was asked for.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1500);
    waiters = [() => void setTimeout(() => (clearTimeout(timer), resolve()), 300)];
  });
  final = true;
  return new Response(`<!doctype html><title>${sent.join(' ')}</title><script src="/first.js"></script><script src="/second.js"></script>`, { contentType: 'text/html' });
});

let browser: Browser;
let cert: TestCertificate;
let h1: ServerHandle;
let h2: ServerHandle;

beforeAll(async () => {
  cert = await makeCertificate();
  browser = await launchChromium(['--ignore-certificate-errors']);
  const log = { write() {} };
  h1 = await serve(app, { host: '127.0.0.1', port: 0, log });
  h2 = await serve(app, { host: '127.0.0.1', port: 0, log, tls: { cert: cert.cert, key: cert.key }, http2: true });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([h1, h2].map((server) => server?.close({ timeout: 1000 })));
  cert?.remove();
});

/** Loads `url` in a fresh context; answers the page's title (what each call answered) and the scripts asked for. */
async function load(url: string): Promise<{ title: string; fetched: typeof fetched }> {
  fetched = [];
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const tab = await context.newPage();
    await tab.goto(url, { waitUntil: 'load' });
    return { title: await tab.title(), fetched };
  } finally {
    await context.close();
  }
}

describe('103 Early Hints in Chromium', () => {
  it('over HTTP/2, the preload starts while the page is computed', async () => {
    const { title, fetched } = await load(`https://localhost:${h2.port}/`);
    expect(title).toBe('true');
    expect(fetched[0]).toEqual({ path: '/first.js', beforeFinal: true });
  });

  // What Chromium does with the hints beyond that (it ignores a 103 over HTTP/1.1 and all but
  // the first 103, as Chrome's documentation says, and as docs/response.md advises for) is the
  // browser's choice and may change; these check that the page still loads whole.
  it('over HTTP/1.1, a page answered after a 103 loads whole', async () => {
    const { title, fetched } = await load(`http://localhost:${h1.port}/`);
    expect(title).toBe('true');
    expect(fetched.map((f) => f.path)).toContain('/first.js');
  });

  it('after two 103s, the first one\'s preload starts while the page is computed, and the page loads whole', async () => {
    const { title, fetched } = await load(`https://localhost:${h2.port}/?twice`);
    expect(title).toBe('true true');
    expect(fetched[0]).toEqual({ path: '/first.js', beforeFinal: true });
    expect(fetched.map((f) => f.path)).toContain('/second.js');
  });
});
