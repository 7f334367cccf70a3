/**
 * A WebOb 1.8 service ported to tsgi from its docs: a notes API and pages with prefix dispatch
 * by pathInfoPop (WebOb's path_info_pop), JSON or HTML by Accept, conditional GETs (ETag,
 * Last-Modified, 304), byte ranges on an attachment, a form POST that sets a cookie and
 * answers HTTPFound, 404/405 as exceptions; driven over a socket with serve() and in-process
 * with Request.blank and TestClient.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTPFound, HTTPMethodNotAllowed, HTTPNotFound, Request, Response, serve } from 'tsgi';
import { TestClient } from 'tsgi/testing';

interface Note {
  id: number;
  title: string;
  body: string;
  updated: Date;
  version: number;
}

const ATTACHMENT = new TextEncoder().encode('0123456789abcdefghijklmnopqrstuvwxyz');
const UPDATED = new Date('2026-01-02T03:04:05Z');

function createService() {
  const notes = new Map<number, Note>([[1, { id: 1, title: 'First', body: 'Hello', updated: UPDATED, version: 1 }]]);
  let nextId = 2;

  const escape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;');

  function negotiate(req: Request, json: unknown, html: string): Response {
    const type = req.accept.bestMatch(['text/html', 'application/json'], 'text/html');
    const res = type === 'application/json' ? Response.json(json) : new Response(html, { contentType: 'text/html' });
    res.addVary('Accept');
    return res;
  }

  const notesApp = Request.application(async (req) => {
    const id = req.pathInfoPop(/^\d+$/);
    if (id === null) {
      if (req.pathInfoPeek() !== null) throw new HTTPNotFound();
      if (req.method === 'POST') {
        const form = await req.form();
        const title = form.getOne('title');
        const note = { id: nextId++, title, body: form.get('body') ?? '', updated: new Date(), version: 1 };
        notes.set(note.id, note);
        // WebOb: HTTPFound(location=…, headers=…); here the detail goes between.
        const res = new HTTPFound(req.relativeUrl(String(note.id), true), undefined, { headers: { 'X-Note-Id': String(note.id) } }).getResponse(req);
        res.setCookie('last_note', String(note.id), { maxAge: 3600, httpOnly: true });
        return res;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HTTPMethodNotAllowed(['GET', 'HEAD', 'POST']);
      const list = [...notes.values()];
      const res = negotiate(
        req,
        list.map(({ id, title }) => ({ id, title })),
        `<ul>${list.map((n) => `<li><a href="${req.applicationUrl}/${n.id}">${escape(n.title)}</a></li>`).join('')}</ul>`,
      );
      res.cacheExpires(0);
      return res;
    }
    const note = notes.get(Number(id));
    if (note === undefined) throw new HTTPNotFound(`No note ${id}`);
    const sub = req.pathInfoPop();
    if (sub === 'attachment') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HTTPMethodNotAllowed(['GET', 'HEAD']);
      const res = new Response(ATTACHMENT, { contentType: 'application/octet-stream', conditionalResponse: true });
      res.etag = `att-${note.id}`;
      res.lastModified = note.updated;
      res.attachment('note.bin');
      return res;
    }
    if (sub !== null) throw new HTTPNotFound();
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HTTPMethodNotAllowed(['GET', 'HEAD']);
    const res = negotiate(req, { id: note.id, title: note.title, body: note.body }, `<h1>${escape(note.title)}</h1><p>${escape(note.body)}</p>`);
    res.conditionalResponse = true;
    res.etag = `v${note.version}`;
    res.lastModified = note.updated;
    res.cacheControl.noCache = true;
    return res;
  });

  return Request.application((req) => {
    const head = req.pathInfoPop();
    if (head === null) {
      return new Response(`<a href="${req.applicationUrl}/notes">notes</a> ${req.hostUrl} ${req.pathUrl}`, { contentType: 'text/html' });
    }
    if (head === 'notes') return notesApp;
    throw new HTTPNotFound();
  });
}

describe('a WebOb service ported to tsgi', () => {
  describe('over a socket', () => {
    let server: Awaited<ReturnType<typeof serve>>;
    let base: string;
    beforeAll(async () => {
      server = await serve(createService(), { host: '127.0.0.1', port: 0 });
      base = server.url.replace(/\/$/, '');
    });
    afterAll(async () => {
      await server.close();
    });

    it('serves the index and dispatches by prefix', async () => {
      const res = await fetch(`${base}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(`<a href="${base}/notes">notes</a> ${base} ${base}/`);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
      expect((await fetch(`${base}/notes/1/nope`)).status).toBe(404);
      expect((await fetch(`${base}/notes/x`)).status).toBe(404);
    });

    it('negotiates JSON or HTML by Accept, with Vary', async () => {
      const json = await fetch(`${base}/notes`, { headers: { accept: 'application/json' } });
      expect(json.headers.get('content-type')).toBe('application/json');
      expect(json.headers.get('vary')).toBe('Accept');
      expect(await json.json()).toEqual([{ id: 1, title: 'First' }]);
      expect(json.headers.get('cache-control')).toContain('no-store');
      expect(json.headers.get('pragma')).toBe('no-cache');
      const html = await fetch(`${base}/notes`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await html.text()).toContain(`<a href="${base}/notes/1">First</a>`);
    });

    it('answers 304 to a matching If-None-Match or If-Modified-Since, keeping the validators', async () => {
      const first = await fetch(`${base}/notes/1`, { headers: { accept: 'application/json' } });
      const etag = first.headers.get('etag')!;
      expect(etag).toBe('"v1"');
      expect(first.headers.get('last-modified')).toBe(UPDATED.toUTCString());
      const again = await fetch(`${base}/notes/1`, { headers: { accept: 'application/json', 'if-none-match': etag } });
      expect(again.status).toBe(304);
      expect(again.headers.get('etag')).toBe(etag);
      expect(again.headers.get('vary')).toBe('Accept');
      expect(await again.text()).toBe('');
      const byDate = await fetch(`${base}/notes/1`, { headers: { 'if-modified-since': UPDATED.toUTCString() } });
      expect(byDate.status).toBe(304);
      const stale = await fetch(`${base}/notes/1`, { headers: { 'if-none-match': '"v0"' } });
      expect(stale.status).toBe(200);
      await stale.arrayBuffer();
      // RFC 9110 §13.1.1 over WebOb, which would send the 200: a stale If-Match on a GET is a 412.
      const ifMatch = await fetch(`${base}/notes/1`, { headers: { 'if-match': '"v0"' } });
      expect(ifMatch.status).toBe(412);
      await ifMatch.arrayBuffer();
    });

    it('serves byte ranges of the attachment, 416 past its end, the whole 200 for a stale If-Range', async () => {
      const part = await fetch(`${base}/notes/1/attachment`, { headers: { range: 'bytes=10-15' } });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 10-15/${ATTACHMENT.length}`);
      expect(await part.text()).toBe('abcdef');
      const suffix = await fetch(`${base}/notes/1/attachment`, { headers: { range: 'bytes=-3' } });
      expect(await suffix.text()).toBe('xyz');
      const past = await fetch(`${base}/notes/1/attachment`, { headers: { range: 'bytes=100-' } });
      expect(past.status).toBe(416);
      expect(past.headers.get('content-range')).toBe(`bytes */${ATTACHMENT.length}`);
      await past.arrayBuffer();
      const stale = await fetch(`${base}/notes/1/attachment`, { headers: { range: 'bytes=0-1', 'if-range': '"att-0"' } });
      expect(stale.status).toBe(200);
      expect(stale.headers.get('content-disposition')).toContain('note.bin');
      expect((await stale.arrayBuffer()).byteLength).toBe(ATTACHMENT.length);
    });

    it('takes a form POST: 302 with an absolute Location and a cookie with Max-Age', async () => {
      const res = await fetch(`${base}/notes`, {
        method: 'POST',
        body: new URLSearchParams({ title: 'Second', body: 'World' }),
        redirect: 'manual',
      });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(`${base}/notes/2`);
      expect(res.headers.get('x-note-id')).toBe('2');
      const cookie = res.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^last_note=2; Max-Age=3600; Path=\/; Expires=.+; HttpOnly$/);
      await res.arrayBuffer();
      const shown = await fetch(res.headers.get('location')!, { headers: { accept: 'application/json' } });
      expect(await shown.json()).toEqual({ id: 2, title: 'Second', body: 'World' });
    });

    it('answers 405 with Allow, and 400 for a form without its title; the server lives on', async () => {
      const res = await fetch(`${base}/notes/1`, { method: 'DELETE' });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      await res.arrayBuffer();
      const bad = await fetch(`${base}/notes`, { method: 'POST', body: new URLSearchParams({ body: 'x' }) });
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('title');
      expect((await fetch(`${base}/`)).status).toBe(200);
    });
  });

  describe('in-process, as with WebOb Request.blank and WebTest', () => {
    it('Request.blank(...).getResponse(app) answers as req.get_response does', async () => {
      const app = createService();
      const res = await Request.blank('/notes/1', { headers: { Accept: 'application/json' } }).getResponse(app);
      expect(res.statusCode).toBe(200);
      expect(await res.json()).toEqual({ id: 1, title: 'First', body: 'Hello' });
      const missing = await Request.blank('/notes/9').getResponse(app);
      expect(missing.statusCode).toBe(404);
      expect(await missing.text()).toContain('No note 9');
    });

    it('keeps links and redirects under a mount point (SCRIPT_NAME)', async () => {
      const app = createService();
      // WebOb's Request.blank('/notes', base_url=…, POST={…}): a form makes it a POST.
      const req = Request.blank('/notes', { baseUrl: 'http://example.com/app', form: { title: 'T' } });
      expect(req.method).toBe('POST');
      const res = await req.getResponse(app);
      expect(res.statusCode).toBe(302);
      expect(res.location).toBe('http://example.com/app/notes/2');
    });

    it('pathInfoPop moves segments as path_info_pop does', () => {
      const req = Request.blank('/notes/1/attachment');
      expect(req.pathInfoPop()).toBe('notes');
      expect(req.pathInfoPop(/^\d+$/)).toBe('1');
      expect(req.scriptName).toBe('/notes/1');
      expect(req.pathInfo).toBe('/attachment');
      expect(req.applicationUrl).toBe('http://localhost/notes/1');
      expect(req.relativeUrl('x')).toBe('http://localhost/notes/1/x');
      expect(req.relativeUrl('x', true)).toBe('http://localhost/notes/1/x');
    });

    it('bestMatch, quality and acceptableOffers (the offers alone, where WebOb pairs them with q)', () => {
      const req = Request.blank('/', { headers: { Accept: 'text/html;q=0.5, application/json' } });
      expect(req.accept.bestMatch(['text/html', 'application/json'])).toBe('application/json');
      expect(req.accept.quality('text/html')).toBe(0.5);
      const offers = req.accept.acceptableOffers(['text/html', 'application/json', 'image/png']);
      expect(offers.map((o) => [o, req.accept.quality(o)])).toEqual([
        ['application/json', 1],
        ['text/html', 0.5],
      ]);
    });

    it('TestClient follows the redirect and keeps the cookie', async () => {
      const client = new TestClient(createService());
      const res = await client.post('/notes', { form: { title: 'Via client' }, followRedirects: 1 });
      expect(res.history.map((r) => r.statusCode)).toEqual([302]);
      expect(res.url).toBe('http://localhost/notes/2');
      expect(await res.text()).toContain('<h1>Via client</h1>');
      expect(client.cookies.get('last_note')).toBe('2');
      const etag = (await client.get('/notes/2')).headers.get('ETag')!;
      await client.get('/notes/2', { headers: { 'If-None-Match': etag }, status: 304 });
      await client.delete('/notes/2', { status: 405 });
    });
  });
});
