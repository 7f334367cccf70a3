/**
 * `methodOverride`: a `POST` that names `PUT`, `PATCH` or `DELETE` in its query, a header or its
 * urlencoded form reaches the app as that method. Over a real socket: each source, only from a
 * `POST`, only to the allowed methods (400 otherwise), the body still readable by the app, a
 * multipart body never read, the order with `crossOriginProtection`, and the routes' 405.
 */
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type App, type Environ, Request, Response, compose } from 'tsgi';
import { accessLog, crossOriginProtection, errors, lint, methodOverride, originalMethodKey } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { request, start } from './node-helpers.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** An app answering `METHOD|original|form fields|body text`, recording each environ. */
function echo(calls: Environ[] = []): App {
  return Request.application(async (req) => {
    calls.push(req.environ);
    const text = await req.text(); // bytes the override may have read already
    // limits other than the middleware's: the app's own first form read
    const form = await req.form({ maxFieldSize: 1000 });
    return new Response(`${req.method}|${originalMethodKey.get(req) ?? '-'}|${[...form].map(([k, v]) => `${k}=${v}`).join('&')}|${text}`);
  });
}

async function send(url: string, method: string, headers: Record<string, string> = {}, body?: string | Uint8Array) {
  const res = await request(url, { method, headers, body });
  return { status: res.status, body: res.body.toString(), headers: res.headers };
}

function multipart(fields: Record<string, string>, file?: { name: string; size: number }) {
  const boundary = 'xYzBoundary';
  let text = '';
  for (const [name, value] of Object.entries(fields)) text += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const head = Buffer.from(text + (file ? `--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n` : ''));
  const tail = Buffer.from(`${file ? '\r\n' : ''}--${boundary}--\r\n`);
  const body = Buffer.concat([head, Buffer.alloc(file?.size ?? 0, 0x61), tail]);
  return { body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe('methodOverride', () => {
  it('reads the urlencoded form field, in any case, and leaves the body for the app to read with its own limits', async () => {
    const server = await start(lint(methodOverride(echo())));
    const res = await send(server.url, 'POST', FORM, 'title=Hi&_method=delete');
    expect(res).toMatchObject({ status: 200, body: 'DELETE|POST|title=Hi&_method=delete|title=Hi&_method=delete' });
    // a chunked body (no Content-Length) too
    const chunked = await send(server.url, 'POST', { ...FORM, 'transfer-encoding': 'chunked' }, '_method=Patch');
    expect(chunked.body).toBe('PATCH|POST|_method=Patch|_method=Patch');
  });

  it('reads the query parameter without reading the body; the query wins over the form field', async () => {
    const server = await start(lint(methodOverride(echo())));
    expect((await send(`${server.url}/notes/3?_method=put`, 'POST', FORM, 'a=1')).body).toBe('PUT|POST|a=1|a=1');
    expect((await send(`${server.url}/?_method=DELETE`, 'POST', FORM, '_method=PUT')).body).toBe('DELETE|POST|_method=PUT|_method=PUT');
  });

  it('decodes the query parameter\'s name as the app\'s req.args does: ?%5Fmethod=, and a renamed one that needs encoding', async () => {
    const server = await start(lint(methodOverride(echo())));
    expect((await send(`${server.url}/?%5Fmethod=DELETE`, 'POST')).body).toBe('DELETE|POST||');
    expect((await send(`${server.url}/?%5fmethod=put&x=%41`, 'POST')).body).toBe('PUT|POST||');
    // a leading ? belongs to the first name, as in req.args (/notes/1??_method= names ?_method)
    expect((await send(`${server.url}/notes/1??_method=DELETE`, 'POST')).body).toBe('POST|-||');
    const renamed = await start(lint(methodOverride(echo(), { query: 'http method' })));
    expect((await send(`${renamed.url}/?http+method=PATCH`, 'POST')).body).toBe('PATCH|POST||');
    expect((await send(`${renamed.url}/?http%20method=PUT`, 'POST')).body).toBe('PUT|POST||');
    expect((await send(`${renamed.url}/?http=PUT`, 'POST')).body).toBe('POST|-||');
  });

  it('reads the header only when given its name, and the sources can be renamed or turned off', async () => {
    const header = { 'x-http-method-override': 'DELETE' };
    const plain = await start(lint(methodOverride(echo())));
    expect((await send(plain.url, 'POST', header)).body).toBe('POST|-||');
    const withHeader = await start(lint(methodOverride(echo(), { header: 'X-HTTP-Method-Override', query: false, form: 'verb' })));
    expect((await send(withHeader.url, 'POST', header)).body).toBe('DELETE|POST||');
    expect((await send(`${withHeader.url}/?_method=PUT`, 'POST')).body).toBe('POST|-||');
    expect((await send(withHeader.url, 'POST', FORM, '_method=PUT&verb=patch')).body).toBe('PATCH|POST|_method=PUT&verb=patch|_method=PUT&verb=patch');
  });

  it('changes only a POST: a GET, a PUT or a DELETE naming another method passes as it is', async () => {
    const server = await start(lint(methodOverride(echo(), { header: 'X-HTTP-Method-Override' })));
    expect((await send(`${server.url}/?_method=DELETE`, 'GET')).body).toBe('GET|-||');
    expect((await send(`${server.url}/?_method=DELETE`, 'HEAD')).status).toBe(200);
    expect((await send(`${server.url}/?_method=DELETE`, 'PUT', { ...FORM, 'x-http-method-override': 'PATCH' }, '_method=PATCH')).body).toBe('PUT|-|_method=PATCH|_method=PATCH');
  });

  it('answers 400 to a method it may not become, without calling the app; an empty value names none', async () => {
    const calls: Environ[] = [];
    const server = await start(lint(methodOverride(echo(calls), { header: 'X-Method' })));
    for (const [url, headers, body] of [
      [`${server.url}/?_method=GET`, {}, undefined],
      [`${server.url}/?_method=DELTE`, {}, undefined],
      [server.url, FORM, '_method=head'],
      [server.url, { 'x-method': 'CONNECT' }, undefined],
      [server.url, FORM, '_method=POST'],
    ] as const) {
      const res = await send(url, 'POST', { ...headers, accept: 'text/plain' }, body);
      expect(res.status, `${url} ${body}`).toBe(400);
      expect(res.body).toContain('must name one of PUT, PATCH, DELETE.');
    }
    expect(calls).toEqual([]);
    expect((await send(`${server.url}/?_method=`, 'POST', FORM, '_method=')).body).toBe('POST|-|_method=|_method=');
    expect(() => methodOverride(echo(), { methods: ['PUT', 'GET'] })).toThrow(/may not become GET/);
    expect(() => methodOverride(echo(), { methods: ['delete'] })).toThrow(TypeError);
    expect(() => methodOverride(echo(), { header: 'X Method' })).toThrow(TypeError);
    const purge = await start(lint(methodOverride(echo(), { methods: ['PURGE', 'SEARCH'] })));
    expect((await send(`${purge.url}/?_method=purge`, 'POST')).body).toBe('PURGE|POST||');
    expect((await send(`${purge.url}/?_method=DELETE`, 'POST')).status).toBe(400);
    // compared in ASCII case only: the long s (U+017F) upper-cases to S in JavaScript
    expect((await send(`${purge.url}/?_method=%C5%BFearch`, 'POST')).status).toBe(400);
  });

  it('refuses a urlencoded form past its maxBodySize with 413 naming it, and a compressed one with 415, before the app', async () => {
    const calls: Environ[] = [];
    const server = await start(lint(methodOverride(echo(calls), { maxBodySize: 100 })));
    const big = `a=${'x'.repeat(200)}`;
    for (const headers of [FORM, { ...FORM, 'transfer-encoding': 'chunked' }]) {
      const res = await send(server.url, 'POST', { ...headers, accept: 'text/plain' }, big);
      expect(res.status).toBe(413);
      expect(res.body).toContain('maxBodySize');
    }
    const gzipped = await send(server.url, 'POST', { ...FORM, 'content-encoding': 'gzip' }, gzipSync('_method=DELETE'));
    expect(gzipped.status).toBe(415);
    expect(calls).toEqual([]);
    // a body not read for the method (the query named it) is the app's to limit
    expect((await send(`${server.url}/?_method=PUT`, 'POST', FORM, big)).body).toBe(`PUT|POST|${big}|${big}`);
  });

  it('leaves another layer\'s 413 as it is: a chunked form past the server\'s maxBodySize names the server\'s limit, not methodOverride\'s', async () => {
    const calls: Environ[] = [];
    const server = await start(lint(methodOverride(echo(calls))), { maxBodySize: 50 });
    const res = await send(server.url, 'POST', { ...FORM, 'transfer-encoding': 'chunked', accept: 'text/plain' }, `_method=PUT&a=${'x'.repeat(100)}`);
    expect(res.status).toBe(413);
    expect(res.body).toContain('larger than 50 bytes');
    expect(res.body).not.toContain('methodOverride');
    expect(calls).toEqual([]);
    expect(server.log.text).toBe('');
  });

  it('a client gone while the form is read: the app is not called, nothing is logged as an error, the access line is a 499', { timeout: 10_000 }, async () => {
    const calls: Environ[] = [];
    const lines: string[] = [];
    const server = await start(accessLog(methodOverride(echo(calls)), { log: { write: (line: string) => void lines.push(line) } }));
    const socket = net.connect(Number(new URL(server.url).port), '127.0.0.1');
    socket.on('error', () => {});
    // the 100 Continue says the middleware began reading the body
    const reading = new Promise<void>((resolve) => socket.on('data', (chunk: Buffer) => chunk.toString().includes('100 Continue') && resolve()));
    socket.write('POST /notes/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n');
    await reading;
    socket.write('_method=DEL');
    socket.destroy();
    while (lines.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(lines).toEqual([expect.stringContaining('"POST /notes/1 HTTP/1.1" 499 ')]);
    expect(calls).toEqual([]);
    expect(server.log.text).toBe('');
  });

  it('accessLog outside logs the request as sent, errors outside the method the app ran as', async () => {
    const lines: string[] = [];
    const failing = Request.application(() => {
      throw new Error('boom');
    });
    const server = await start(accessLog(errors(methodOverride(failing)), { log: { write: (line: string) => void lines.push(line) } }));
    expect((await send(`${server.url}/notes/3?_method=DELETE`, 'POST', { accept: 'text/plain' })).status).toBe(500);
    while (lines.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(lines).toEqual([expect.stringContaining('"POST /notes/3?_method=DELETE HTTP/1.1" 500 ')]);
    expect(server.log.text).toContain('[tsgi] DELETE /notes/3?_method=DELETE HTTP/1.1 500: Error: boom');
  });

  it('applies no form limit but its maxBodySize: more fields, or a longer one, than the defaults are the app\'s to allow', async () => {
    const app = Request.application(async (req) => {
      const form = await req.form({ maxFields: 2000, maxParts: 2000, maxFieldSize: 700_000 });
      return new Response(`${req.method} ${form.getAll('a').length} ${form.get('long')?.length ?? 0}`);
    });
    const server = await start(lint(methodOverride(app)));
    const many = `${'a=1&'.repeat(1500)}_method=PUT`;
    expect((await send(server.url, 'POST', FORM, many)).body).toBe('PUT 1500 0');
    const long = `long=${'x'.repeat(600_000)}&_method=DELETE`;
    expect((await send(server.url, 'POST', FORM, long)).body).toBe('DELETE 0 600000');
  });

  it('never reads a multipart body: its _method field is left to the app, a large upload streams past, the query overrides it', async () => {
    const seen: string[] = [];
    const app = Request.application(async (req) => {
      const form = await req.form({ maxFileSize: 10 * 1024 * 1024 });
      const file = (await req.files()).get('file');
      seen.push(`${req.method} ${form.get('_method') ?? ''} ${file?.size ?? 0}`);
      return new Response('ok');
    });
    const server = await start(lint(methodOverride(app, { maxBodySize: 1024 })));
    const withField = multipart({ _method: 'DELETE', title: 't' }, { name: 'file', size: 3 * 1024 * 1024 });
    expect((await send(server.url, 'POST', withField.headers, withField.body)).status).toBe(200);
    const viaQuery = multipart({ title: 't' }, { name: 'file', size: 2048 });
    expect((await send(`${server.url}/notes/1?_method=PUT`, 'POST', viaQuery.headers, viaQuery.body)).status).toBe(200);
    expect(seen).toEqual([`POST DELETE ${3 * 1024 * 1024}`, 'PUT  2048']);
  });

  it('inside crossOriginProtection: a forged POST is refused before its body is read or its method changed', async () => {
    const calls: Environ[] = [];
    const server = await start(lint(compose(crossOriginProtection, methodOverride)(echo(calls))));
    for (const url of [`${server.url}/notes/1?_method=DELETE`, `${server.url}/notes/1`]) {
      const res = await send(url, 'POST', { ...FORM, 'sec-fetch-site': 'cross-site' }, '_method=DELETE');
      expect(res.status).toBe(403);
    }
    expect(calls).toEqual([]);
    const res = await send(`${server.url}/notes/1`, 'POST', { ...FORM, 'sec-fetch-site': 'same-origin' }, '_method=DELETE');
    expect(res.body).toBe('DELETE|POST|_method=DELETE|_method=DELETE');
  });

  it('the order is what tells a body read from one left alone: inside crossOriginProtection the forged POST is judged as sent, outside it is still refused, as a DELETE, after its body was read', async () => {
    const judged: string[] = [];
    const exempt = (environ: Environ) => {
      judged.push(`${environ.REQUEST_METHOD} ${originalMethodKey.get(environ) ?? '-'}`);
      return false;
    };
    const forged = { ...FORM, 'sec-fetch-site': 'cross-site', accept: 'text/plain' };
    const big = `_method=DELETE&a=${'x'.repeat(200)}`;
    const inside = await start(lint(crossOriginProtection(methodOverride(echo(), { maxBodySize: 100 }), { exempt })));
    // refused before the body is read: a 403, not methodOverride's 413 for a body past its limit
    expect((await send(inside.url, 'POST', forged, big)).status).toBe(403);
    expect((await send(inside.url, 'POST', forged, '_method=DELETE')).status).toBe(403);
    expect(judged).toEqual(['POST -', 'POST -']);
    judged.length = 0;
    const outside = await start(lint(methodOverride(crossOriginProtection(echo(), { exempt }), { maxBodySize: 100 })));
    expect((await send(outside.url, 'POST', forged, big)).status).toBe(413);
    expect((await send(outside.url, 'POST', forged, '_method=DELETE')).status).toBe(403);
    expect(judged).toEqual(['DELETE POST']);
  });

  it('before the routes: the overridden method is matched, and one the path does not take is a 405 with Allow', async () => {
    const routes = new RouteMap({ note: { path: '/notes/<int:id>', methods: ['GET', 'PUT'] } });
    const site = routes.app({ note: (req, { id }) => new Response(`${req.method} note ${id}`) });
    const server = await start(lint(compose(crossOriginProtection, methodOverride)(site)));
    expect((await send(`${server.url}/notes/3`, 'POST', FORM, '_method=PUT')).body).toBe('PUT note 3');
    const refused = await send(`${server.url}/notes/3?_method=DELETE`, 'POST');
    expect(refused.status).toBe(405);
    expect(refused.headers.allow).toBe('GET, HEAD, OPTIONS, PUT');
  });
});

describe('methodOverride and QUERY (httpbis safe-method-w-body), over a real socket', () => {
  const search = new RouteMap({ search: { path: '/search', methods: ['QUERY'] } }).app({
    search: async (req) => new Response(`${req.method}|${originalMethodKey.get(req) ?? '-'}|${(await req.form()).get('q')}`),
  });

  it('is not in the default methods: a POST naming QUERY is a 400, the app not called', async () => {
    const server = await start(lint(methodOverride(search)));
    const res = await send(`${server.url}/search?_method=QUERY`, 'POST', FORM, 'q=tsgi');
    expect(res.status).toBe(400);
    expect(res.body).toContain('must name one of PUT, PATCH, DELETE');
  });

  it('may be allowed: a POST search form becomes a QUERY with its body, from the query or the form field', async () => {
    const server = await start(lint(methodOverride(search, { methods: ['PUT', 'PATCH', 'DELETE', 'QUERY'] })));
    expect(await send(`${server.url}/search?_method=query`, 'POST', FORM, 'q=tsgi')).toMatchObject({ status: 200, body: 'QUERY|POST|tsgi' });
    expect(await send(`${server.url}/search`, 'POST', FORM, 'q=tsgi&_method=QUERY')).toMatchObject({ status: 200, body: 'QUERY|POST|tsgi' });
    // a QUERY sent as itself passes as it is
    expect(await send(`${server.url}/search`, 'QUERY', FORM, 'q=direct')).toMatchObject({ status: 200, body: 'QUERY|-|direct' });
  });
});
