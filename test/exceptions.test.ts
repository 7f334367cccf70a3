import { describe, expect, expectTypeOf, it } from 'vitest';
import { type Body, type Environ, type ExceptionClass, HTTPBadRequest, HTTPClientError, HTTPConflict, HTTPException, HTTPForbidden, HTTPFound, HTTPGone, HTTPImATeapot, HTTPInternalServerError, HTTPMethodNotAllowed, HTTPMovedPermanently, HTTPNotFound, HTTPNotImplemented, HTTPNotModified, HTTPPermanentRedirect, HTTPProxyAuthenticationRequired, HTTPRedirection, HTTPSeeOther, HTTPServerError, HTTPServiceUnavailable, HTTPTemporaryRedirect, HTTPUnauthorized, HTTPUpgradeRequired, Request, Response, type StartResponse, abort, redirect, statusExceptions } from 'tsgi';
import { absoluteLocation, escapeHtml, reasonPhrase } from 'tsgi/http';
import { lint } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import http2 from 'node:http2';
import net from 'node:net';
import { parseRaw, request, start } from './node-helpers.ts';

const dec = new TextDecoder();

const REDIRECTS = [
  [301, HTTPMovedPermanently],
  [302, HTTPFound],
  [303, HTTPSeeOther],
  [307, HTTPTemporaryRedirect],
  [308, HTTPPermanentRedirect],
] as const;

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

async function serveApp(app: (environ: Environ, start: StartResponse) => Body, environ: Environ) {
  let status = '';
  let headers: Array<[string, string]> = [];
  const body = app(environ, (s, h) => {
    status = s;
    headers = h;
  });
  const chunks: Uint8Array[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return { status, headers, text: chunks.map((c) => dec.decode(c)).join('') };
}

describe('HTTPException basics', () => {
  it('refuses a detail that is not a string (options given first from JavaScript), naming where they go', () => {
    const make = (...args: unknown[]) => new (HTTPNotFound as unknown as new (...a: unknown[]) => HTTPNotFound)(...args);
    expect(() => make({ headers: [['X-A', '1']] })).toThrow(new TypeError('HTTPNotFound: the detail must be a string; options go second (new HTTPNotFound(undefined, { … }))'));
    expect(() => make(404)).toThrow(TypeError);
    expect(make(undefined, { headers: [['X-A', '1']] }).headers.get('x-a')).toBe('1');
    expect(make('gone').detail).toBe('gone');
  });

  it('is an Error with code, title, description, detail, name and message', () => {
    const error = new HTTPNotFound('No user 7');
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(HTTPException);
    expect(error).toBeInstanceOf(HTTPClientError);
    expect(error.code).toBe(404);
    expect(error.title).toBe('Not Found');
    expect(error.status).toBe('404 Not Found');
    expect(error.detail).toBe('No user 7');
    expect(error.description).toMatch(/not found/i);
    expect(error.name).toBe('HTTPNotFound');
    expect(error.message).toBe('No user 7');
    expect(new HTTPNotFound().message).toBe('404 Not Found');
    expect(new HTTPNotFound().detail).toBeUndefined();
    expect(HTTPNotFound.code).toBe(404);
    expect(new HTTPInternalServerError()).toBeInstanceOf(HTTPServerError);
    expect(new HTTPFound('/x')).toBeInstanceOf(HTTPRedirection);
    expect(new HTTPFound('/x')).not.toBeInstanceOf(HTTPClientError);
  });

  it('keeps the cause and extra headers', async () => {
    const cause = new Error('db down');
    const error = new HTTPServiceUnavailable('later', { cause, headers: { 'Retry-After': '120' } });
    expect(error.cause).toBe(cause);
    expect(error.getResponse().headers.get('retry-after')).toBe('120');
    expect(error.getResponse().statusCode).toBe(503);
  });

  it('can be thrown and caught by class', async () => {
    const error = caught(() => {
      throw new HTTPForbidden();
    });
    expect(error).toBeInstanceOf(HTTPForbidden);
    expect((error as HTTPException).code).toBe(403);
  });

  it('escapeHtml escapes & < > " \'', async () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });
});

describe('status classes', () => {
  it('are types: a variable can hold one, and another status does not fit', () => {
    const error: HTTPNotFound = new HTTPNotFound('No user 7');
    expectTypeOf(error.code).toEqualTypeOf<404>();
    expectTypeOf<typeof HTTPNotFound.code>().toEqualTypeOf<404>();
    expectTypeOf(new HTTPMethodNotAllowed().code).toEqualTypeOf<405>();
    expectTypeOf(new HTTPFound('/x').code).toEqualTypeOf<302>();
    expectTypeOf(new HTTPNotModified().code).toEqualTypeOf<304>();
    expectTypeOf(new HTTPServiceUnavailable().code).toEqualTypeOf<503>();
    expectTypeOf<HTTPGone>().not.toExtend<HTTPNotFound>();
    expectTypeOf<HTTPNotFound>().toExtend<HTTPClientError>();
    expect(error.code).toBe(404);
    expect(HTTPNotFound.code).toBe(404);
    expect(new HTTPGone().code).toBe(410);
  });

  it('instanceof narrows to the class, with its literal code', () => {
    const seen: number[] = [];
    for (const thrown of [caught(() => abort(404)), caught(() => abort(410)), caught(() => abort(500))]) {
      if (thrown instanceof HTTPNotFound) {
        expectTypeOf(thrown).toEqualTypeOf<HTTPNotFound>();
        expectTypeOf(thrown.code).toEqualTypeOf<404>();
        seen.push(thrown.code);
      } else if (thrown instanceof HTTPClientError) {
        expectTypeOf(thrown.code).toEqualTypeOf<number>();
        seen.push(-thrown.code);
      } else if (thrown instanceof HTTPInternalServerError) {
        expectTypeOf(thrown.code).toEqualTypeOf<500>();
        seen.push(thrown.code);
      }
    }
    expect(seen).toEqual([404, -410, 500]);
  });

  it('can be subclassed: the subclass keeps code and description and has its own name', async () => {
    class UserNotFound extends HTTPNotFound {}
    const error = new UserNotFound('No user 7');
    expectTypeOf(error.code).toEqualTypeOf<404>();
    expect(error).toBeInstanceOf(HTTPNotFound);
    expect(error).toBeInstanceOf(HTTPClientError);
    expect(error.name).toBe('UserNotFound');
    expect(String(error)).toBe('UserNotFound: No user 7');
    expect(error.code).toBe(404);
    expect(UserNotFound.code).toBe(404);
    expect(error.description).toBe(new HTTPNotFound().description);
    const res = error.getResponse(Request.blank('/', { headers: { Accept: 'application/json' } }));
    expect(res.statusCode).toBe(404);
    expect(await res.json()).toEqual({ code: 404, title: 'Not Found', message: 'No user 7' });
    expect(statusExceptions.get(404)).toBe(HTTPNotFound);
    expect(caught(() => abort(404))).not.toBeInstanceOf(UserNotFound);
  });

  it('answers JSON to an Accept naming JSON with a charset (Java clients send application/json;charset=UTF-8), over a socket', async () => {
    const server = await start(() => {
      throw new HTTPNotFound('No user 7');
    });
    const ask = (accept: string) => request(`${server.url}/`, { headers: { accept } });
    for (const accept of ['application/json;charset=UTF-8', 'application/json; charset=utf-8, */*;q=0.1']) {
      const res = await ask(accept);
      expect([res.status, res.headers['content-type'], JSON.parse(res.body.toString())]).toEqual([404, 'application/json', { code: 404, title: 'Not Found', message: 'No user 7' }]);
    }
    // A charset JSON is not sent in is no match: plain text, as without any acceptable type.
    expect((await ask('application/json; charset=iso-8859-1')).headers['content-type']).toBe('text/plain; charset=utf-8');
    expect((await ask('text/html; charset=UTF-8')).headers['content-type']).toBe('text/html; charset=utf-8');
    await server.close();
  });

  it('a subclass may give its own description', async () => {
    class Teapot extends HTTPImATeapot {
      static override readonly description = 'Short and stout.';
    }
    const error = new Teapot();
    expect(error.description).toBe('Short and stout.');
    expect(new HTTPImATeapot().description).not.toBe('Short and stout.');
    expect(await error.getResponse().text()).toBe("418 I'm a Teapot\n\nShort and stout.\n");
  });
});

describe('HTTPException body negotiation', () => {
  const withAccept = (accept?: string) =>
    Request.blank('/', accept === undefined ? {} : { headers: { Accept: accept } });

  it('is text/plain without a request, without Accept, and for */*', async () => {
    for (const res of [
      new HTTPNotFound('gone <b>').getResponse(),
      new HTTPNotFound('gone <b>').getResponse(withAccept()),
      new HTTPNotFound('gone <b>').getResponse(withAccept('*/*')),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect((await res.text())).toContain('404 Not Found');
      expect((await res.text())).toContain('gone <b>');
      expect(res.contentLength).toBe((await res.bytes()).byteLength);
    }
  });

  it('is HTML with every user string escaped when the client prefers HTML', async () => {
    const accept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    const res = new HTTPBadRequest('<script>alert("x")</script> & more').getResponse(withAccept(accept));
    expect(res.statusCode).toBe(400);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect((await res.text())).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    expect((await res.text())).not.toContain('<script>');
    expect((await res.text())).toContain('<title>400 Bad Request</title>');
    expect((await res.text())).toContain('<h1>Bad Request</h1>');
  });

  it('is JSON when the client asks for JSON', async () => {
    const res = new HTTPNotFound('No user 7').getResponse(withAccept('application/json'));
    expect(res.headers.get('content-type')).toBe('application/json');
    expect((await res.json())).toEqual({ code: 404, title: 'Not Found', message: 'No user 7' });
    const noDetail = (await new HTTPNotFound().getResponse(withAccept('application/json')).json()) as { message: string };
    expect(noDetail.message).toBe(new HTTPNotFound().description);
  });

  it('follows q-values and falls back to text/plain for types it cannot make', async () => {
    expect(new HTTPNotFound().getResponse(withAccept('text/html;q=0.5, application/json')).contentType).toBe(
      'application/json',
    );
    expect(new HTTPNotFound().getResponse(withAccept('text/html, text/plain;q=0.1')).contentType).toBe('text/html');
    expect(new HTTPNotFound().getResponse(withAccept('image/png')).contentType).toBe('text/plain');
    expect(new HTTPNotFound().getResponse(withAccept('text/html;q=0')).contentType).toBe('text/plain');
    expect(new HTTPNotFound().getResponse(withAccept(';;;,,garbage/')).contentType).toBe('text/plain');
  });

  it('takes a Request or a bare environ', async () => {
    const req = withAccept('text/html');
    expect(new HTTPNotFound().getResponse(req.environ).contentType).toBe('text/html');
    expect(new HTTPNotFound().getResponse(req).contentType).toBe('text/html');
  });

  it('a user body wins over the generated one, whatever the Accept', async () => {
    const error = new HTTPForbidden('ignored', { body: '<p>custom</p>', contentType: 'text/html' });
    const res = error.getResponse(withAccept('application/json'));
    expect(res.statusCode).toBe(403);
    expect((await res.text())).toBe('<p>custom</p>');
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const plain = new HTTPForbidden(undefined, { body: 'just text' }).getResponse(withAccept('text/html'));
    expect(plain.contentType).toBe('text/plain');
    expect((await plain.text())).toBe('just text');
    const bytes = new HTTPForbidden(undefined, { body: new Uint8Array([1, 2]), contentType: 'application/octet-stream' });
    expect([...(await bytes.getResponse().bytes())]).toEqual([1, 2]);
  });

  it('a user body takes the Content-Type of the headers option when contentType is not given', async () => {
    const app = Request.application(() => {
      throw new HTTPConflict(undefined, { body: '{"error":"version"}', headers: { 'Content-Type': 'application/json' } });
    });
    const server = await start(app, { host: '127.0.0.1' });
    const res = await fetch(server.url);
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ error: 'version' });
    const both = new HTTPConflict(undefined, { body: 'x', contentType: 'text/csv', headers: { 'Content-Type': 'application/json' } });
    expect(both.getResponse().headers.getAll('content-type')).toEqual(['text/csv; charset=utf-8']);
    expect(new HTTPConflict(undefined, { body: 'x' }).getResponse().headers.get('content-type')).toBe('text/plain; charset=utf-8');
  });

  it('a generated body sends Vary: Accept, added once to the Vary given', () => {
    const req = withAccept('text/html');
    expect(new HTTPNotFound().getResponse(req).headers.get('vary')).toBe('Accept');
    expect(new HTTPNotFound().getResponse().headers.get('vary')).toBe('Accept');
    expect(new HTTPFound('/x').getResponse(req).headers.get('vary')).toBe('Accept');
    const vary = (given: string) => new HTTPNotFound(undefined, { headers: { Vary: given } }).getResponse(req).headers.getAll('vary');
    expect(vary('Cookie')).toEqual(['Cookie, Accept']);
    expect(vary('cookie, accept')).toEqual(['cookie, accept']);
    expect(vary('*')).toEqual(['*']);
    const error = new HTTPNotFound(undefined, { headers: { Vary: 'Cookie' } });
    error.getResponse(req);
    expect(error.headers.get('vary')).toBe('Cookie');
  });

  it('a user body and a 304 send no Vary', () => {
    const req = withAccept('text/html');
    expect(new HTTPForbidden(undefined, { body: 'mine' }).getResponse(req).headers.has('vary')).toBe(false);
    expect(new HTTPNotModified().getResponse(req).headers.has('vary')).toBe(false);
  });

  it('each getResponse builds a fresh Response', () => {
    const error = new HTTPNotFound();
    const a = error.getResponse();
    a.headers.set('X-Changed', '1');
    expect(error.getResponse().headers.has('x-changed')).toBe(false);
    expect(error.headers.has('x-changed')).toBe(false);
  });
});

describe('HTTPException as an app', () => {
  it('respond() serves the negotiated response', async () => {
    const env = Request.blank('/', { headers: { Accept: 'application/json' } }).environ;
    const { status, headers, text } = await serveApp((e, s) => new HTTPNotImplemented('nope').respond(e, s), env);
    expect(status).toBe('501 Not Implemented');
    expect(headers).toContainEqual(['Content-Type', 'application/json']);
    expect(headers).toContainEqual(['Vary', 'Accept']);
    expect(JSON.parse(text)).toMatchObject({ code: 501, message: 'nope' });
  });

  it('toApp() runs through getResponse, and HEAD gets no body', async () => {
    const app = new HTTPUnauthorized('login', { headers: { 'WWW-Authenticate': 'Bearer' } }).toApp();
    const res = await Request.blank('/').getResponse(app);
    expect(res.statusCode).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    const head = await serveApp(app, Request.blank('/', { method: 'HEAD' }).environ);
    expect(head.status).toBe('401 Unauthorized');
    expect(head.text).toBe('');
  });
});

describe('redirects', () => {
  it.each(REDIRECTS)('%i needs a Location and refuses CR/LF/NUL', (code, Cls) => {
    const redirect = new Cls('/next');
    expect(redirect.code).toBe(code);
    expect(redirect.location).toBe('/next');
    const res = redirect.getResponse(Request.blank('/here'));
    expect(res.statusCode).toBe(code);
    expect(res.headers.get('location')).toBe('http://localhost/next');
    for (const bad of ['', '/a\r\nSet-Cookie: x=1', '/a\nb', '/a\rb', '/a\0b']) {
      expect(() => new Cls(bad), JSON.stringify(bad)).toThrow(HTTPBadRequest);
    }
    for (const bad of [undefined, 42]) expect(() => new Cls(bad as unknown as string)).toThrow(TypeError);
  });

  it('refuses a target of another scheme with a 400, and reads scheme:host as absolute', async () => {
    for (const bad of ['javascript:alert(1)', 'JavaScript:alert(1)', 'data:text/html,<b>x', 'mailto:a@example.com', 'file:///etc/passwd']) {
      expect(() => redirect(bad), bad).toThrow(HTTPBadRequest);
    }
    expect(new HTTPFound('http:evil.com').location).toBe('http://evil.com/');
    expect(new HTTPFound('https:/evil.com/x').location).toBe('https://evil.com/x');
    expect(new HTTPFound('HTTPS://ok.example/a').location).toBe('HTTPS://ok.example/a');
    const app = Request.application((req) => redirect(req.query.get('next') ?? '/'));
    const refused = await Request.blank('/?next=javascript:alert(1)').getResponse(app);
    expect(refused.statusCode).toBe(400);
    expect(await refused.text()).toContain('javascript');
    const nul = await Request.blank('/?next=%2Fa%00b').getResponse(app);
    expect(nul.statusCode).toBe(400);
    const ok = await Request.blank('/?next=http:evil.com').getResponse(app);
    expect(ok.headers.get('location')).toBe('http://evil.com/');
  });

  it('refuses with a 400 an absolute target that is no URL, as it refuses http:[ (no Location a client could follow)', async () => {
    const server = await start(Request.application((req) => redirect(req.query.get('next') ?? '/')));
    for (const bad of ['http://[', 'https://example.com:99999/', 'http://exa mple.com/', 'http://', 'http://%zz/', 'http:[']) {
      const res = await request(`http://127.0.0.1:${server.port}/?next=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
      expect(res.headers.location, bad).toBeUndefined();
      expect(res.body.toString(), bad).toContain('not a URL');
      expect(() => new HTTPFound(bad), bad).toThrow(HTTPBadRequest);
    }
    const ok = await request(`http://127.0.0.1:${server.port}/?next=${encodeURIComponent('https://example.com:8443/a b')}`);
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('https://example.com:8443/a%20b');
  });

  it('writes a \\ in an absolute target\'s authority as the browser reads it (/), so no client follows it to another host', async () => {
    // The host of a URI by RFC 3986 (Appendix B's regex, then the userinfo cut at the last @):
    // what curl, Python's urllib and requests follow, where the WHATWG parser ends the
    // authority at the `\` (an app's `new URL(next).origin` check sees example.com).
    const rfc3986Host = (uri: string) => /^[^:/?#]+:\/\/([^/?#]*)/.exec(uri)![1]!.replace(/^.*@/, '');
    const server = await start(Request.application((req) => redirect(req.query.get('next') ?? '/')));
    try {
      for (const [target, location] of [
        ['https://example.com\\@evil.com/x', 'https://example.com/@evil.com/x'],
        ['HTTP://example.com\\\\evil.com', 'http://example.com//evil.com'],
        ['https://user@example.com\\@evil.com', 'https://user@example.com/@evil.com'],
        ['https://\\evil.com\\@example.com/', 'https://evil.com/@example.com/'],
      ]) {
        expect(new URL(target!).host, target).toBe(new URL(location!).host);
        const res = await request(`http://127.0.0.1:${server.port}/?next=${encodeURIComponent(target!)}`);
        expect([res.status, res.headers.location], target).toEqual([303, location]);
        expect(rfc3986Host(res.headers.location!), target).toBe(new URL(target!).host);
      }
    } finally {
      await server.close();
    }
  });

  it('drops a tab from an absolute target\'s authority, as new URL does, instead of sending a host no client can follow', async () => {
    const server = await start(Request.application((req) => redirect(req.query.get('next') ?? '/')));
    try {
      for (const [target, location] of [
        ['https://exa\tmple.com/p', 'https://example.com/p'],
        ['https://example.com\t:8443/a b', 'https://example.com:8443/a%20b'],
      ]) {
        const res = await request(`http://127.0.0.1:${server.port}/?next=${encodeURIComponent(target!)}`);
        expect([res.status, res.headers.location], target).toEqual([303, location]);
        expect(new URL(res.headers.location!).host, target).toBe(new URL(target!).host);
      }
    } finally {
      await server.close();
    }
  });

  it('names the target in the generated page, as the Location sends it (a link in HTML, as WebOb and Werkzeug write it)', async () => {
    const server = await start(Request.application((req) => redirect(req.query.get('next') ?? '/', 302)));
    const get = (next: string, accept?: string) =>
      request(`http://127.0.0.1:${server.port}/app/page?next=${encodeURIComponent(next)}`, { headers: accept ? { Accept: accept } : {} });
    const base = `http://127.0.0.1:${server.port}`;

    const html = await get('done?q="<x>"', 'text/html');
    expect(html.status).toBe(302);
    const location = `${base}/app/done?q=%22%3Cx%3E%22`;
    expect(html.headers.location).toBe(location);
    expect(html.body.toString()).toContain(`<a href="${location}">${location}</a>`);

    const json = await get('/done', 'application/json');
    expect(JSON.parse(json.body.toString())).toEqual({ code: 302, title: 'Found', message: 'The resource was found elsewhere.', location: `${base}/done` });

    const text = await get('/done');
    expect(text.body.toString()).toBe(`302 Found\n\nThe resource was found elsewhere.\n\n${base}/done\n`);
    expect(Number(text.headers['content-length'])).toBe(text.body.byteLength);

    // The link is the target made safe, never the one given: `//evil.com` stays on this host.
    const evil = await get('//evil.com/x', 'text/html');
    expect(evil.headers.location).toBe(`${base}/%2Fevil.com/x`);
    expect(evil.body.toString()).toContain(`<a href="${base}/%2Fevil.com/x">`);
    expect(evil.body.toString()).not.toContain('"//evil.com');

    // A body of the exception's own is sent as it is; HEAD gets none.
    const own = new HTTPFound('/x', undefined, { body: 'moved' }).getResponse(Request.blank('/'));
    expect(await own.text()).toBe('moved');
    const head = await request(`http://127.0.0.1:${server.port}/?next=%2Fdone`, { method: 'HEAD' });
    expect(head.body.byteLength).toBe(0);
  });

  it('makes a relative Location absolute against the request URL (SCRIPT_NAME included)', () => {
    const req = Request.blank('/dir/page?x=1', { baseUrl: 'https://example.com:8443/app' });
    const loc = (target: string) => new HTTPFound(target).getResponse(req).headers.get('location');
    expect(loc('next')).toBe('https://example.com:8443/app/dir/next');
    expect(loc('../up')).toBe('https://example.com:8443/app/up');
    expect(loc('/root')).toBe('https://example.com:8443/root');
    expect(loc('?page=2')).toBe('https://example.com:8443/app/dir/page?page=2');
    // A fragment alone keeps the request's query (RFC 3986 §5.2.2), as a browser resolves it.
    expect(loc('#top')).toBe('https://example.com:8443/app/dir/page?x=1#top');
    expect(loc('http://other.test/x')).toBe('http://other.test/x');
  });

  it('keeps the Location relative without a request', () => {
    expect(new HTTPFound('next').getResponse().headers.get('location')).toBe('next');
  });

  it('quotes the request path when building the base', () => {
    const req = Request.blank('/caf%C3%A9/what%3F/page');
    expect(new HTTPFound('next').getResponse(req).headers.get('location')).toBe('http://localhost/caf%C3%A9/what%3F/next');
  });

  it('uses SERVER_NAME and SERVER_PORT (IPv6 bracketed) without a Host header', () => {
    const req = Request.blank('http://[::1]:8080/a/b');
    delete req.environ.HTTP_HOST;
    expect(absoluteLocation('c', req.environ)).toBe('http://[::1]:8080/a/c');
    const https = Request.blank('https://example.com/a');
    delete https.environ.HTTP_HOST;
    expect(absoluteLocation('/x', https.environ)).toBe('https://example.com/x');
  });

  it('percent-encodes spaces, controls and non-ASCII so the header is ASCII', () => {
    expect(absoluteLocation('/café here', undefined)).toBe('/caf%C3%A9%20here');
    expect(absoluteLocation('/q?x=a b', Request.blank('/').environ)).toBe('http://localhost/q?x=a%20b');
    expect(absoluteLocation('https://example.com/é', undefined)).toBe('https://example.com/%C3%A9');
    const res = new HTTPFound('/ünïcode').getResponse(Request.blank('/'));
    expect(res.headers.get('location')).toMatch(/^[\x21-\x7e]+$/);
  });

  it('percent-encodes in the path the characters no URI path may hold (" < > ^ ` { | }), as in the query', async () => {
    const server = await start(Request.application((req) => redirect(req.query.get('next') ?? '/')));
    try {
      for (const [target, location] of [
        ['https://example.com/a"b<c>^d`e{f|g}?q="x"#h', 'https://example.com/a%22b%3Cc%3E%5Ed%60e%7Bf%7Cg%7D?q=%22x%22#h'],
        ['https://[::1]:8443/a|b', 'https://[::1]:8443/a%7Cb'],
        ['/a^b|c', `http://127.0.0.1:${server.port}/a%5Eb%7Cc`],
        ['/ok/%41;x=1', `http://127.0.0.1:${server.port}/ok/%41;x=1`],
      ]) {
        const res = await request(`http://127.0.0.1:${server.port}/?next=${encodeURIComponent(target!)}`);
        expect(res.status, target).toBe(303);
        expect(res.headers.location, target).toBe(location);
      }
    } finally {
      await server.close();
    }
    expect(absoluteLocation('/a"b<c>|d', undefined)).toBe('/a%22b%3Cc%3E%7Cd');
  });

  it('percent-encodes in the path a % that starts no escape, so following the Location reaches the path, not a 400', async () => {
    const server = await start(Request.application((req) => (req.pathInfo === '/go' ? redirect(req.query.get('next') ?? '/') : `at ${req.pathInfo}`)));
    try {
      const base = `http://127.0.0.1:${server.port}`;
      for (const [target, location, pathInfo] of [
        ['/files/100%.txt', `${base}/files/100%25.txt`, '/files/100%.txt'],
        ['/a%zz/%41%', `${base}/a%25zz/%41%25`, '/a%zz/A%'],
        ['https://example.com/50%?q=%', 'https://example.com/50%25?q=%25', null],
      ] as const) {
        const res = await request(`${base}/go?next=${encodeURIComponent(target)}`);
        expect([res.status, res.headers.location], target).toEqual([303, location]);
        if (pathInfo === null) continue;
        const followed = await request(location);
        expect([followed.status, followed.body.toString()], target).toEqual([200, `at ${pathInfo}`]);
      }
    } finally {
      await server.close();
    }
  });

  it('writes a non-ASCII host name in punycode, not percent-encoded (Werkzeug iri_to_uri)', () => {
    expect(absoluteLocation('HTTP://évil.com/ü', undefined)).toBe('HTTP://xn--vil-9la.com/%C3%BC');
    expect(absoluteLocation('https://bücher.example:8443/a?q=é', undefined)).toBe('https://xn--bcher-kva.example:8443/a?q=%C3%A9');
    expect(redirect('https://münchen.example/').getResponse(Request.blank('/')).headers.get('location')).toBe('https://xn--mnchen-3ya.example/');
  });

  it('writes a non-ASCII host name after user info in punycode too, the user info percent-encoded', async () => {
    // It went out as https://user@b%C3%BCcher.example/: a host no client can look up.
    expect(absoluteLocation('https://user@bücher.example/', undefined)).toBe('https://user@xn--bcher-kva.example/');
    expect(absoluteLocation('https://jürgen:pw@bücher.example:8443/ü', undefined)).toBe('https://j%C3%BCrgen:pw@xn--bcher-kva.example:8443/%C3%BC');
    // The host is after the last @, as the WHATWG URL parser and RFC 3986 read it.
    expect(absoluteLocation('https://bücher.example@évil.com/', undefined)).toBe('https://b%C3%BCcher.example@xn--vil-9la.com/');
    expect(absoluteLocation('https://jürgen@example.com/', undefined)).toBe('https://j%C3%BCrgen@example.com/');
    const server = await start(Request.application((req) => redirect(req.query.get('next') ?? '/')));
    const target = 'https://user@bücher.example/a b';
    const res = await request(`http://127.0.0.1:${server.port}/?next=${encodeURIComponent(target)}`);
    expect([res.status, res.headers.location]).toEqual([303, 'https://user@xn--bcher-kva.example/a%20b']);
    expect(new URL(res.headers.location!).host).toBe(new URL(target).host);
  });

  describe('cannot become an open redirect', () => {
    const targets = [
      '//evil.com',
      '//evil.com/path',
      '///evil.com',
      '/\\evil.com',
      '\\\\evil.com',
      '\\/evil.com',
      '/\t/evil.com',
      ' //evil.com',
      '\t//evil.com',
      '/\u000b/evil.com',
    ];

    it.each(targets)('%j stays on this host', (target) => {
      const req = Request.blank('/from', { baseUrl: 'https://good.test/app' });
      const location = new HTTPFound(target).getResponse(req).headers.get('location')!;
      expect(new URL(location).host).toBe('good.test');
      expect(location).not.toContain('\\');
    });

    it.each(targets)('%j stays a path even when left relative', (target) => {
      const location = absoluteLocation(target, undefined);
      expect(new URL(location, 'https://good.test/app/from').host).toBe('good.test');
    });
  });

  it('redirect() and abort() build redirects', () => {
    const see = redirect('/done');
    expect(see).toBeInstanceOf(HTTPSeeOther);
    expect(see.code).toBe(303);
    expect(redirect('/x', 301)).toBeInstanceOf(HTTPMovedPermanently);
    expect(redirect('/x', 308).code).toBe(308);
    expect(() => redirect('/x', 200 as 301)).toThrow(TypeError);
    expect(() => redirect('/x', 404 as 301)).toThrow(TypeError);
    expect(() => redirect('/x', 304 as 301)).toThrow(TypeError);
    expect(() => redirect('')).toThrow(HTTPBadRequest);
    const thrown = caught(() => abort(302, '/login'));
    expect(thrown).toBeInstanceOf(HTTPFound);
    expect((thrown as HTTPFound).location).toBe('/login');
    expect(() => abort(301)).toThrow(TypeError);
  });

  it('304 Not Modified has no body, Content-Type or Content-Length', async () => {
    const error = new HTTPNotModified(undefined, { headers: { ETag: '"abc"' } });
    const res = error.getResponse(Request.blank('/', { headers: { Accept: 'text/html' } }));
    expect(res.statusCode).toBe(304);
    expect(res.headers.get('etag')).toBe('"abc"');
    expect(res.headers.has('content-type')).toBe(false);
    expect(res.headers.has('content-length')).toBe(false);
    expect((await res.bytes()).byteLength).toBe(0);
    expect(res.headers.has('location')).toBe(false);
  });
});

describe('401 Unauthorized', () => {
  it('refuses a wwwAuthenticate option with no challenge: a blank string as an empty list', async () => {
    for (const none of ['', '  ', []]) {
      expect(() => new HTTPUnauthorized(undefined, { wwwAuthenticate: none })).toThrow(/at least one challenge/);
    }
    const app = Request.application(() => abort(401, undefined, { wwwAuthenticate: 'Basic realm="staff"' }));
    const server = await start(app, { host: '127.0.0.1' });
    const res = await fetch(server.url);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="staff"');
  });
});

describe('407 Proxy Authentication Required', () => {
  it('sends the proxyAuthenticate challenges, through abort too, over a real socket and the test client', async () => {
    const challenge = { scheme: 'Basic', params: { realm: 'proxy' } };
    expect(new HTTPProxyAuthenticationRequired(undefined, { proxyAuthenticate: [challenge] }).headers.get('proxy-authenticate')).toBe('Basic realm="proxy"');
    const app = lint(Request.application(() => abort(407, 'Log in to the proxy.', { proxyAuthenticate: challenge })));
    const server = await start(app, { host: '127.0.0.1' });
    // fetch() turns a 407 into a network error (Fetch Standard, HTTP-network-or-cache fetch).
    const res = await request(server.url);
    expect(res.status).toBe(407);
    expect(res.headers['proxy-authenticate']).toBe('Basic realm="proxy"');
    expect(res.body.toString()).toContain('Log in to the proxy.');
    expect((await new TestClient(app).get('/', { status: 407 })).headers.get('proxy-authenticate')).toBe('Basic realm="proxy"');
    expect(server.log.text).toBe('');
    const fetched = new HTTPProxyAuthenticationRequired(undefined, { proxyAuthenticate: 'Bearer' }).getResponse().toFetch();
    expect(fetched.headers.get('proxy-authenticate')).toBe('Bearer');
  });

  it('refuses a proxyAuthenticate option with no challenge, naming the field', () => {
    for (const none of ['', '  ', []]) {
      expect(() => new HTTPProxyAuthenticationRequired(undefined, { proxyAuthenticate: none })).toThrow(/^Proxy-Authenticate needs at least one challenge$/);
    }
    expect(() => new HTTPProxyAuthenticationRequired(undefined, { proxyAuthenticate: { scheme: 'Ba sic' } })).toThrow(TypeError);
  });
});

describe('426 Upgrade Required', () => {
  it('takes the protocols as the upgrade option, a list or one string, and refuses one that is not a protocol', () => {
    expect(new HTTPUpgradeRequired(undefined, { upgrade: ['TLS/1.2', 'HTTP/1.1'] }).headers.get('upgrade')).toBe('TLS/1.2, HTTP/1.1');
    expect(new HTTPUpgradeRequired(undefined, { upgrade: 'websocket' }).headers.get('upgrade')).toBe('websocket');
    expect(new HTTPUpgradeRequired(undefined, { upgrade: ' h2c ,websocket' }).headers.get('upgrade')).toBe('h2c, websocket');
    for (const bad of ['', ' , ', [], ['web socket'], 'TLS/1.2/x', '/1.1', 'a\r\nX: y']) {
      expect(() => new HTTPUpgradeRequired(undefined, { upgrade: bad }), JSON.stringify(bad)).toThrow(TypeError);
    }
    // Without it the 426 goes as it is, without Upgrade (RFC 9110 §15.5.22 asks for one).
    expect(new HTTPUpgradeRequired().headers.get('upgrade')).toBeNull();
  });

  it('sends Upgrade with Connection: upgrade over HTTP/1.1 (RFC 9110 §7.8), keeping the connection; not over HTTP/2', async () => {
    const app = lint(Request.application(() => abort(426, 'This is a WebSocket endpoint.', { upgrade: 'websocket' })));
    const server = await start(app, { http2: 'h2c' });
    // Two pipelined requests: the first 426 leaves the connection open for the second.
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
      socket.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    const first = parseRaw(raw);
    expect([first.status, first.header('upgrade'), first.header('connection')]).toEqual([426, 'websocket', 'upgrade']);
    expect(raw.match(/^HTTP\/1\.1 426 /gm)).toHaveLength(2);
    const last = parseRaw(raw.slice(raw.lastIndexOf('HTTP/1.1 426')));
    expect([last.header('upgrade'), last.header('connection')]).toEqual(['websocket', 'close, upgrade']);
    // A body too large to drain unread: the connection closes, and the field says so.
    const unread = await new Promise<string>((resolve) => {
      const socket = net.connect(server.port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('error', () => {});
      socket.on('close', () => resolve(text));
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\nsome');
    });
    expect([parseRaw(unread).status, parseRaw(unread).header('connection')]).toEqual([426, 'close, upgrade']);
    // An HTTP/1.0 client cannot upgrade (RFC 9110 §7.8): no Upgrade, as over HTTP/2.
    const old = await new Promise<string>((resolve) => {
      const socket = net.connect(server.port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.write('GET / HTTP/1.0\r\nHost: x\r\n\r\n');
    });
    expect([parseRaw(old).status, parseRaw(old).header('upgrade')]).toEqual([426, undefined]);
    // HTTP/2 has no Upgrade (RFC 9113 §8.2.2): the 426 goes without it.
    const session = http2.connect(server.url);
    try {
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const stream = session.request({ ':path': '/' });
        stream.on('response', resolve).on('error', reject).resume();
        stream.end();
      });
      expect([headers[':status'], headers.upgrade]).toEqual([426, undefined]);
    } finally {
      session.close();
    }
    // The test client answers as the HTTP/1.1 server does.
    expect((await new TestClient(app).get('/', { status: 426 })).headers.get('upgrade')).toBe('websocket');
    // A fetch runtime owns its connection and may speak HTTP/2: toFetch() leaves it out.
    expect(new HTTPUpgradeRequired(undefined, { upgrade: 'websocket' }).getResponse().toFetch().headers.get('upgrade')).toBeNull();
    expect(server.log.text).toBe('');
  });
});

describe('405 Method Not Allowed', () => {
  it('takes one string as a list of methods, and refuses a name that is not a token', () => {
    expect(new HTTPMethodNotAllowed('GET').headers.get('allow')).toBe('GET');
    expect(new HTTPMethodNotAllowed('get, head').allow).toEqual(['GET', 'HEAD']);
    expect(() => new HTTPMethodNotAllowed(['GE T'])).toThrow(new TypeError('invalid Allow of HTTPMethodNotAllowed: "GE T" is not a token'));
    expect(() => new HTTPMethodNotAllowed('GET, P OST')).toThrow(new TypeError('invalid Allow of HTTPMethodNotAllowed: "P OST" is not a token'));
    expect(() => new HTTPMethodNotAllowed(['GET', 42 as unknown as string])).toThrow(new TypeError('invalid Allow of HTTPMethodNotAllowed: 42 is not a token'));
    expect(() => new HTTPMethodNotAllowed(['GET\r\nX: y'])).toThrow(TypeError);
  });

  it('carries Allow, upper-cased', async () => {
    const error = new HTTPMethodNotAllowed(['get', 'HEAD', 'post'], 'Only reads');
    expect(error.allow).toEqual(['GET', 'HEAD', 'POST']);
    expect(error.code).toBe(405);
    expect(error.detail).toBe('Only reads');
    const res = error.getResponse(Request.blank('/', { method: 'DELETE' }));
    expect(res.statusCode).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
    expect((await res.text())).toContain('Only reads');
  });

  it('takes any iterable and an empty list (no method allowed, RFC 9110 §10.2.1)', () => {
    expect(new HTTPMethodNotAllowed(new Set(['PUT'])).headers.get('allow')).toBe('PUT');
    expect(new HTTPMethodNotAllowed().getResponse().headers.get('allow')).toBe('');
  });

  it('refuses a method that would break the header', () => {
    expect(() => new HTTPMethodNotAllowed(['GET\r\nX-Evil: 1'])).toThrow(TypeError);
  });

  it('abort(405) builds one without Allow methods', () => {
    const error = caught(() => abort(405, 'no')) as HTTPMethodNotAllowed;
    expect(error).toBeInstanceOf(HTTPMethodNotAllowed);
    expect(error.allow).toEqual([]);
    expect(error.detail).toBe('no');
  });

  it('abort(405) and a constructor without methods send the Allow of the headers option', async () => {
    const app = Request.application(() => abort(405, 'Read only.', { headers: { Allow: 'GET, HEAD' } }));
    const server = await start(app, { host: '127.0.0.1' });
    const res = await fetch(server.url, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(await res.text()).toContain('Read only.');
    const error = new HTTPMethodNotAllowed(undefined, undefined, { headers: [['allow', 'get'], ['Allow', 'PUT']] });
    expect(error.allow).toEqual(['GET', 'PUT']);
    expect(error.headers.getAll('allow')).toEqual(['GET, PUT']);
    expect(new HTTPMethodNotAllowed(['POST'], undefined, { headers: { Allow: 'GET' } }).headers.getAll('allow')).toEqual(['POST']);
    expect(() => new HTTPMethodNotAllowed(undefined, undefined, { headers: { Allow: 'GE T' } })).toThrow(TypeError);
  });
});

describe('abort', () => {
  it('throws the class of the status with the detail and options', () => {
    const error = caught(() => abort(404, 'No user', { headers: { 'X-A': '1' } })) as HTTPException;
    expect(error).toBeInstanceOf(HTTPNotFound);
    expect(error.detail).toBe('No user');
    expect(error.headers.get('x-a')).toBe('1');
    expect(caught(() => abort(503))).toBeInstanceOf(HTTPServiceUnavailable);
  });

  it('refuses statuses with no class', () => {
    for (const code of [200, 204, 306, 419, 509, 600, 99]) {
      const error = caught(() => abort(code));
      expect(error, String(code)).toBeInstanceOf(TypeError);
      expect(error).not.toBeInstanceOf(HTTPException);
    }
  });
});

describe('statusExceptions', () => {
  const expected = [
    300, 301, 302, 303, 304, 305, 307, 308,
    400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418,
    421, 422, 423, 424, 425, 426, 428, 429, 431, 451,
    500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
  ];

  it('has values a caller can name: ExceptionClass', () => {
    // What a library re-exporting statusExceptions with `declaration: true` must write out.
    const notFound: ExceptionClass<HTTPException> | undefined = statusExceptions.get(404);
    expect(notFound).toBe(HTTPNotFound);
    expect(new notFound!()).toBeInstanceOf(HTTPNotFound);
  });

  it('covers 300-308, the registered 400-431, 451 and 500-511', () => {
    expect([...statusExceptions.keys()].sort((a, b) => a - b)).toEqual(expected);
  });

  it.each(expected)('%i: a class with that code, its reason and the right base', (code) => {
    const Cls = statusExceptions.get(code)!;
    expect(Cls.code).toBe(code);
    expect(Cls.name).toMatch(/^HTTP[A-Z]/);
    let instance: HTTPException;
    if (Cls.prototype instanceof HTTPRedirection) instance = new (Cls as unknown as typeof HTTPFound)('/to');
    else if (code === 405) instance = new HTTPMethodNotAllowed(['GET']);
    else instance = new (Cls as unknown as typeof HTTPNotFound)('detail');
    expect(instance.code).toBe(code);
    expect(instance.title).toBe(reasonPhrase(code));
    expect(instance.name).toBe(Cls.name);
    expect(instance.description.length).toBeGreaterThan(0);
    if (code >= 500) expect(instance).toBeInstanceOf(HTTPServerError);
    else if (code >= 400) expect(instance).toBeInstanceOf(HTTPClientError);
    const res = instance.getResponse(Request.blank('/'));
    expect(res).toBeInstanceOf(Response);
    expect(res.statusCode).toBe(code);
    expect(res.status).toBe(`${code} ${reasonPhrase(code)}`);
    if (instance instanceof HTTPRedirection) expect(res.headers.get('location')).toBe('http://localhost/to');
    expect(caught(() => (code >= 300 && code < 400 && code !== 304 ? abort(code, '/to') : abort(code)))).toBeInstanceOf(Cls);
  });

  it('uses the RFC 9110 names', () => {
    expect(new (statusExceptions.get(413) as unknown as typeof HTTPNotFound)().title).toBe('Content Too Large');
    expect(new (statusExceptions.get(422) as unknown as typeof HTTPNotFound)().status).toBe('422 Unprocessable Content');
  });
});
