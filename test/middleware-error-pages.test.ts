/**
 * errorPages through the public API: the router's 404 and 405, abort(), errors()' 500,
 * directoryApp's 404 and 416, a renderer keeping the default page (JSON clients), a renderer
 * that throws or answers a promise, HEAD, redirects and 304 left alone, and a real socket.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, HTTPInternalServerError, HTTPForbidden, HTTPNotFound, Request, Response, abort, serve } from 'tsgi';
import { escapeHtml } from 'tsgi/http';
import { AuthTickets, type ErrorPageRenderer, directoryApp, errorPages, errors, lint, mount } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';

const routes = new RouteMap({
  home: '/',
  item: { path: '/items/<int:id>', methods: ['GET', 'PUT'] },
  secret: '/secret',
  boom: '/boom',
  moved: '/moved/',
});

const site = routes.app({
  home: () => 'home',
  item: (_req, { id }) => `item ${id}`,
  secret: () => abort(403, 'Staff <only>'),
  boom: () => {
    throw new Error('secret internals: db password');
  },
  moved: () => 'moved',
});

/** Branded HTML for HTML clients; the default page for JSON clients. */
const seen: Array<{ error: unknown; req: Request }> = [];
const branded: ErrorPageRenderer = (error, req) => {
  seen.push({ error, req });
  if (req.accept.bestMatch(['text/html', 'application/json'], 'text/html') === 'application/json') return undefined;
  return `<!doctype html><title>${error.code}</title><main class="brand">${escapeHtml(error.title)}: ${escapeHtml(error.detail ?? error.description)}</main>`;
};

function client(app: App, render: ErrorPageRenderer = branded): TestClient {
  return new TestClient(lint(errorPages(lint(errors(lint(app))), { render })), { status: '*', allowErrors: true });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-error-pages-'));
  writeFileSync(path.join(dir, 'hello.txt'), 'hello\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('errorPages nested', () => {
  it("asks the inner renderer first, and the outer one for what the inner leaves to the default (Flask's blueprint fallback)", async () => {
    const section = errorPages(site, { render: (error) => (error.code === 404 ? '<p>section 404</p>' : undefined) });
    const outer = errorPages(errors(mount({ '/section': section, '/': site })), { render: (error) => `<p>site ${error.code}</p>` });
    const c = new TestClient(lint(outer), { status: '*', allowErrors: true });
    expect((await c.get('/section/nowhere')).textBody).toBe('<p>section 404</p>');
    // The section leaves 403 and 500 to the default: the site's pages answer them.
    expect((await c.get('/section/secret')).textBody).toBe('<p>site 403</p>');
    const boom = await c.get('/section/boom');
    expect(boom.statusCode).toBe(500);
    expect(boom.textBody).toBe('<p>site 500</p>');
    expect((await c.get('/nowhere')).textBody).toBe('<p>site 404</p>');
  });
});

describe('errorPages: the pages it brands', () => {
  it("renders the router's 404 as HTML with Vary: Accept", async () => {
    const res = await client(site).get('/nowhere', { headers: { accept: 'text/html' } });
    expect(res.statusCode).toBe(404);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('vary')).toBe('Accept');
    expect(res.select('main.brand')[0]?.text).toBe('Not Found: The requested URL was not found on the server.');
    expect(res.errors).toBe('');
  });

  it("renders the router's 405 and keeps its Allow", async () => {
    const res = await client(site).post('/items/3');
    expect(res.status).toBe('405 Method Not Allowed');
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS, PUT');
    expect(res.textBody).toContain('<main class="brand">Method Not Allowed');
  });

  it("renders a handler's abort(403), its detail escaped by the renderer", async () => {
    const res = await client(site).get('/secret');
    expect(res.statusCode).toBe(403);
    expect(res.textBody).toContain('Forbidden: Staff &lt;only&gt;');
  });

  it("renders errors()' 500 from an HTTPInternalServerError: the cause is given, never shown, and logged with its stack", async () => {
    seen.length = 0;
    const res = await client(site).get('/boom');
    expect(res.statusCode).toBe(500);
    expect(res.textBody).toContain('<main class="brand">Internal Server Error');
    expect(res.textBody).not.toContain('secret');
    const { error } = seen.at(-1)!;
    expect(error).toBeInstanceOf(HTTPInternalServerError);
    expect(((error as Error).cause as Error).message).toBe('secret internals: db password');
    expect(res.errors).toContain('[tsgi] GET /boom HTTP/1.1 500: Error: secret internals: db password');
    expect(res.errors).toMatch(/\n\s+at /);
  });

  it('renders the 500 of an errors() outside it too', async () => {
    const app = new TestClient(errors(errorPages(site, { render: branded })), { status: '*', allowErrors: true });
    const res = await app.get('/boom');
    expect(res.statusCode).toBe(500);
    expect(res.textBody).toContain('<main class="brand">Internal Server Error');
  });

  it("renders directoryApp's 404 (under mount) and the 416 of a range it cannot serve, Content-Range kept", async () => {
    const app = client(mount({ '/static': directoryApp(dir) }));
    const missing = await app.get('/static/missing.txt');
    expect(missing.statusCode).toBe(404);
    expect(missing.textBody).toContain('<main class="brand">Not Found');
    const range = await app.get('/static/hello.txt', { headers: { range: 'bytes=100-' } });
    expect(range.statusCode).toBe(416);
    expect(range.headers.get('content-range')).toBe('bytes */6');
    expect(range.textBody).toContain('<main class="brand">Range Not Satisfiable');
    expect(seen.at(-1)!.error).toMatchObject({ name: 'HTTPRangeNotSatisfiable', code: 416 });
  });

  it('sends a Response page with the error status and fields, and never changes it (one page serves every request)', async () => {
    const page = new Response('<h1>Lost?</h1>', { status: 200, contentType: 'text/html', headers: { 'Cache-Control': 'no-store', Allow: 'nothing' } });
    const app = client(site, () => page);
    const res = await app.put('/');
    expect(res.status).toBe('405 Method Not Allowed');
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('vary')).toBe('Accept');
    expect(res.textBody).toBe('<h1>Lost?</h1>');
    const again = await app.get('/nowhere');
    expect(again.statusCode).toBe(404);
    expect(again.headers.get('allow')).toBe('nothing');
    expect(page.statusCode).toBe(200);
    expect(page.headers.get('vary')).toBeNull();
  });

  it("keeps a Response page's own Set-Cookie next to the error's (the expired ticket of tickets.forget)", async () => {
    const tickets = new AuthTickets({ secret: 's'.repeat(32) });
    const page = new Response('<h1>Sign in</h1>', { contentType: 'text/html' });
    page.setCookie('csrf', 'token');
    const app = client(Request.application(() => tickets.forget(new HTTPForbidden())), () => page);
    const res = await app.get('/');
    expect(res.statusCode).toBe(403);
    const cookies = res.headers.getAll('set-cookie');
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toBe('csrf=token; Path=/');
    expect(cookies[1]).toMatch(/^auth_tkt=; .*Max-Age=0/);
    expect(page.headers.getAll('set-cookie')).toEqual(['csrf=token; Path=/']);
  });

  it('gives HEAD the head only', async () => {
    const res = await client(site).head('/nowhere');
    expect(res.statusCode).toBe(404);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(0);
    expect(res.textBody).toBe('');
  });
});

describe('errorPages: what it leaves alone', () => {
  it('keeps the default JSON body when the renderer answers undefined', async () => {
    const res = await client(site).get('/nowhere', { headers: { accept: 'application/json' } });
    expect(res.statusCode).toBe(404);
    expect(res.headers.get('vary')).toBe('Accept');
    expect(await res.json()).toEqual({ code: 404, title: 'Not Found', message: 'The requested URL was not found on the server.' });
  });

  it('never renders a redirect, a 304, or a Response the app built', async () => {
    const app = client(mount({ '/static': directoryApp(dir), '': site }));
    const redirect = await app.get('/moved');
    expect(redirect.statusCode).toBe(308);
    expect(redirect.textBody).not.toContain('brand');
    const first = await app.get('/static/hello.txt');
    const notModified = await app.get('/static/hello.txt', { headers: { 'if-none-match': first.headers.get('etag')! } });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.textBody).toBe('');
    const own = await client(Request.application(() => new Response('teapot', { status: 418 }))).get('/');
    expect(own.textBody).toBe('teapot');
  });

  it('sends the default page and logs one line when the renderer throws', async () => {
    const res = await client(site, () => {
      throw new Error('template missing');
    }).get('/nowhere', { headers: { accept: 'text/html' } });
    expect(res.statusCode).toBe(404);
    expect(res.select('h1')[0]?.text).toBe('Not Found');
    expect(res.errors.match(/^\[tsgi\]/gm)).toHaveLength(1);
    expect(res.errors).toContain('[tsgi] GET /nowhere HTTP/1.1 404 (errorPages: render failed, the default page was sent): Error: template missing');
  });

  it('refuses a promise (an async renderer) with a clear TypeError, without an unhandled rejection', async () => {
    const render = (async () => {
      throw new Error('late');
    }) as unknown as ErrorPageRenderer;
    const res = await client(site, render).get('/boom');
    expect(res.statusCode).toBe(500);
    expect(res.textBody).toContain('500 Internal Server Error');
    expect(res.errors).toContain('TypeError: errorPages: render returned a promise; it must answer synchronously');
    expect(res.errors.match(/^\[tsgi\]/gm)).toHaveLength(2); // the 500 itself, then the render
  });

  it('answers the default page to an error page the renderer asks for itself, without a loop', async () => {
    const res = await client(site, (error, req) => (error.code === 404 ? new HTTPNotFound('inner').getResponse(req) : undefined)).get('/nowhere');
    expect(res.statusCode).toBe(404);
    expect(res.textBody).toBe('404 Not Found\n\nThe requested URL was not found on the server.\n\ninner\n');
  });

  it('throws a TypeError for a renderer that is not a function', () => {
    expect(() => errorPages(site, { render: 'oops' as unknown as ErrorPageRenderer })).toThrow(new TypeError('errorPages needs a render function, not string'));
    expect(() => errorPages(site, undefined as unknown as { render: ErrorPageRenderer })).toThrow(new TypeError('errorPages needs a render function, not undefined'));
  });
});

describe('errorPages: over a socket', () => {
  it("brands the router's 404 and errors()' 500 served by serve()", async () => {
    const log: string[] = [];
    const server = await serve(errorPages(errors(site), { render: branded }), { port: 0, host: '127.0.0.1', log: { write: (m) => void log.push(m) } });
    try {
      const missing = await fetch(`${server.url}/nowhere`, { headers: { accept: 'text/html' } });
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await missing.text()).toContain('<main class="brand">Not Found');
      const boom = await fetch(`${server.url}/boom`);
      expect(boom.status).toBe(500);
      const text = await boom.text();
      expect(text).toContain('<main class="brand">Internal Server Error');
      expect(text).not.toContain('secret');
      const head = await fetch(`${server.url}/nowhere`, { method: 'HEAD' });
      expect(head.status).toBe(404);
      expect(await head.text()).toBe('');
    } finally {
      await server.close();
    }
    expect(log.join('')).toContain('Error: secret internals: db password');
  });

  it('brands an HTTPException that a raw app let escape, answered by the server itself', async () => {
    const raw: App = () => {
      throw new HTTPNotFound('no such thing');
    };
    const server = await serve(errorPages(raw, { render: branded }), { port: 0, host: '127.0.0.1' });
    try {
      const res = await fetch(`${server.url}/x`);
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('<main class="brand">Not Found: no such thing</main>');
    } finally {
      await server.close();
    }
  });
});
