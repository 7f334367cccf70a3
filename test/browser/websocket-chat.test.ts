/**
 * docs/server.md's WebSocket recipe in Chromium (playwright-core): a page of the site opens
 * `ws://…/ws` with the session cookie `CookieSessions` set at login. Logged out, the page sees
 * only a failed WebSocket (`close` 1006: the browser hides the 401); logged in, its message is
 * broadcast back; the same page from another origin (`localhost`, another site) is refused
 * (1006 again); and `close()` ends the open one with 1001. Run with `npm run test:browser`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { HTTPForbidden, HTTPNotFound, HTTPSeeOther, HTTPUnauthorized, Request, Response, type ServerHandle, serve } from 'tsgi';
import { CookieSessions, sessionOf } from 'tsgi/middleware';
import type { UpgradeContext } from 'tsgi/node';
import { launchChromium } from './chromium.ts';

/** The page: opens the WebSocket, lists what comes, and puts the close code in its title. */
const PAGE = `<!doctype html><title>open</title><ul id=log></ul><script>
const ws = new WebSocket(location.origin.replace('http', 'ws') + '/ws');
ws.onmessage = (e) => { const li = document.createElement('li'); li.textContent = e.data; log.append(li); };
ws.onopen = () => ws.send('hello from the page');
ws.onclose = (e) => { document.title = 'closed ' + e.code; };
</script>`;

const sessions = new CookieSessions({ secret: 'b'.repeat(32), secure: false });
const app = sessions.middleware(
  Request.application(async (req) => {
    if (req.pathInfo === '/login' && req.method === 'POST') {
      sessionOf(req).clear();
      sessionOf(req).set('user', (await req.form()).get('user') ?? 'ann');
      return new HTTPSeeOther('/');
    }
    if (req.pathInfo === '/') return new Response(PAGE, { contentType: 'text/html' });
    throw new HTTPNotFound();
  }),
);
const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
const room = new Set<WebSocket>();
let server: ServerHandle;
let browser: Browser;

function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, { shutdown, environ }: UpgradeContext): void {
  const request = new Request(environ);
  if (request.pathInfo !== '/ws') throw new HTTPNotFound();
  if (request.headers.get('Origin') !== server.url) throw new HTTPForbidden('Not from this origin.');
  const user = sessions.load(request)?.data.get('user');
  if (typeof user !== 'string') throw new HTTPUnauthorized('Log in first.');
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', () => {});
    room.add(ws);
    const goAway = () => ws.close(1001, 'server shutting down');
    shutdown.addEventListener('abort', goAway, { once: true });
    ws.on('close', () => (room.delete(ws), shutdown.removeEventListener('abort', goAway)));
    ws.on('message', (data) => {
      for (const peer of room) peer.send(`${user}: ${String(data)}`);
    });
  });
}

beforeAll(async () => {
  browser = await launchChromium();
  server = await serve(app, { host: '127.0.0.1', port: 0, upgrade, log: { write() {} } });
});
afterAll(async () => {
  await browser?.close();
  await server?.close({ timeout: 1000 });
});

describe("docs/server.md's WebSocket recipe in Chromium", () => {
  it('fails a logged-out page (1006), broadcasts for a logged-in one, refuses another origin, and closes with 1001', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForFunction("document.title.startsWith('closed')");
    expect(await page.title()).toBe('closed 1006');

    await page.evaluate(() => fetch('/login', { method: 'POST', body: new URLSearchParams({ user: 'ann' }) }));
    await page.goto(`${server.url}/`);
    await page.waitForSelector('li');
    expect(await page.$$eval('li', (items) => items.map((item) => item.textContent))).toEqual(['ann: hello from the page']);

    // The same page on another origin, logged in there too: refused on Origin.
    const other = await context.newPage();
    const elsewhere = server.url.replace('127.0.0.1', 'localhost');
    await other.goto(`${elsewhere}/`);
    await other.evaluate(() => fetch('/login', { method: 'POST', body: new URLSearchParams({ user: 'eve' }) }));
    await other.goto(`${elsewhere}/`);
    await other.waitForFunction("document.title.startsWith('closed')");
    expect(await other.title()).toBe('closed 1006');

    await server.close({ timeout: 5_000 });
    await page.waitForFunction("document.title.startsWith('closed')");
    expect(await page.title()).toBe('closed 1001');
    await context.close();
  });
});
