/**
 * Request, issue 3: negotiation, conditional and range headers, Cache-Control, Authorization,
 * forms and uploads (form, files, params, parseForm, cleanup), Request.blank with files, and
 * the end-of-request cleanup of Request.application / getResponse. In-process; the socket
 * side is in conditional-server.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTPBadRequest, HTTPContentTooLarge, HTTPUnsupportedMediaType, MultiDict, Request, Response, type App } from 'tsgi';
import { FileUpload } from 'tsgi/forms';
import { Accept, basicAuthorization, EtagSet } from 'tsgi/http';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsgi-request-http-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const big = (n: number) => new Uint8Array(n).map((_, i) => i % 251);

describe('negotiation getters', () => {
  it('read the Accept-* headers', () => {
    const req = Request.blank('/', {
      headers: {
        Accept: 'text/html;q=0.5, application/json',
        'Accept-Language': 'fr-CH, fr;q=0.9, en;q=0.8',
        'Accept-Encoding': 'gzip, br;q=0.9',
        'Accept-Charset': 'utf-8, iso-8859-1;q=0.5',
      },
    });
    expect(req.accept).toBeInstanceOf(Accept);
    expect(req.accept.bestMatch(['text/html', 'application/json'])).toBe('application/json');
    expect(req.accept.quality('text/html')).toBe(0.5);
    expect(req.accept.present).toBe(true);
    expect(req.acceptLanguage.bestMatch(['en', 'fr'])).toBe('fr');
    expect(req.acceptEncoding.acceptableOffers(['br', 'gzip', 'identity'])).toEqual(['gzip', 'br', 'identity']);
    expect(req.acceptCharset.quality('ISO-8859-1')).toBe(0.5);
  });

  it('req.acceptLanguage matches by RFC 4647 basic filtering, with a lookup fallback', () => {
    const req = Request.blank('/', { headers: { 'Accept-Language': 'zh-Hant, de-DE;q=0.8, en-GB;q=0, en;q=0.5' } });
    expect(req.acceptLanguage.bestMatch(['zh-Hans', 'zh-Hant-TW'])).toBe('zh-Hant-TW');
    expect(req.acceptLanguage.quality('zh-Hans-CN')).toBe(0);
    expect(req.acceptLanguage.acceptableOffers(['en-GB', 'en-US', 'de', 'zh-Hant-HK'])).toEqual(['zh-Hant-HK', 'de', 'en-US']);
  });

  it('absent headers: everything acceptable (Accept-Encoding: identity only)', () => {
    const req = Request.blank('/');
    expect(req.accept.present).toBe(false);
    expect(req.accept.bestMatch(['application/json', 'text/html'])).toBe('application/json');
    expect(req.acceptLanguage.acceptableOffers(['de', 'en'])).toEqual(['de', 'en']);
    expect(req.acceptCharset.quality('latin1')).toBe(1);
    expect(req.acceptEncoding.acceptableOffers(['gzip', 'identity'])).toEqual(['identity']);
  });

  it('are cached by header value and follow changes (live view)', () => {
    const req = Request.blank('/', { headers: { Accept: 'text/html' } });
    const first = req.accept;
    expect(req.accept).toBe(first);
    req.environ.HTTP_ACCEPT = 'application/json';
    expect(req.accept).not.toBe(first);
    expect(req.accept.bestMatch(['text/html', 'application/json'])).toBe('application/json');
    req.accept = null;
    expect(req.environ.HTTP_ACCEPT).toBeUndefined();
    req.acceptLanguage = 'de';
    expect(req.headers.get('accept-language')).toBe('de');
  });

  it.each([
    ['overlong', `${'text/html;q=0.5, '.repeat(20_000)}*/*;q=0.1`],
    ['wrong encoding', 'text/h\u00e9ml, \u00ff\u00fe/x'],
    ['odd quoting', 'text/html;a="unterminated, application/json;q="0.5"'],
    ['huge numbers', 'text/html;q=1e400, application/json;q=99999999999999999999'],
    ['duplicate headers joined', 'text/html, text/html;q=0, text/html;q=0.3'],
    ['control characters', 'text/html\u0000\r\n, */*'],
  ])('hostile Accept-* (%s) never throws', (_name, value) => {
    const req = Request.blank('/', {
      environ: { HTTP_ACCEPT: value, HTTP_ACCEPT_LANGUAGE: value, HTTP_ACCEPT_ENCODING: value, HTTP_ACCEPT_CHARSET: value },
    });
    for (const header of [req.accept, req.acceptLanguage, req.acceptEncoding, req.acceptCharset]) {
      const offers = ['text/html', 'application/json', 'en', 'gzip', 'identity', 'utf-8'];
      const acceptable = header.acceptableOffers(offers);
      expect(acceptable.every((o) => offers.includes(o))).toBe(true);
      for (const o of offers) expect(header.quality(o)).toBeGreaterThanOrEqual(0);
      expect(typeof header.toString()).toBe('string');
    }
  });

  it('a malformed Accept reads as absent; duplicates resolve to the higher weight', () => {
    const bad = Request.blank('/', { headers: { Accept: 'text/html;q=2' } });
    expect(bad.accept.malformed).toBe(true);
    expect(bad.accept.bestMatch(['application/json', 'text/html'])).toBe('application/json');
    const dup = Request.blank('/', { headers: [['Accept', 'text/html;q=0.1'], ['Accept', 'text/html;q=0.8']] });
    expect(dup.accept.quality('text/html')).toBe(0.8);
  });

  it('property: no Request getter of this issue throws on any header value', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (value) => {
        const req = Request.blank('/');
        for (const key of [
          'HTTP_ACCEPT',
          'HTTP_ACCEPT_LANGUAGE',
          'HTTP_ACCEPT_ENCODING',
          'HTTP_ACCEPT_CHARSET',
          'HTTP_IF_MATCH',
          'HTTP_IF_NONE_MATCH',
          'HTTP_IF_MODIFIED_SINCE',
          'HTTP_IF_UNMODIFIED_SINCE',
          'HTTP_IF_RANGE',
          'HTTP_RANGE',
          'HTTP_CACHE_CONTROL',
          'HTTP_AUTHORIZATION',
        ]) {
          req.environ[key] = value;
        }
        req.accept.bestMatch(['text/html']);
        req.acceptLanguage.bestMatch(['en']);
        req.acceptEncoding.bestMatch(['gzip']);
        req.acceptCharset.bestMatch(['utf-8']);
        req.ifMatch.contains('"x"');
        req.ifNoneMatch.contains('"x"', { weak: true });
        expect(req.ifModifiedSince === null || req.ifModifiedSince instanceof Date).toBe(true);
        expect(req.ifUnmodifiedSince === null || !Number.isNaN(req.ifUnmodifiedSince.getTime())).toBe(true);
        void req.ifRange;
        expect(['satisfiable', 'unsatisfiable', 'ignored']).toContain(req.rangeFor(1000).kind);
        void req.cacheControl.maxAge;
        void req.authorization;
      }),
      { numRuns: 300 },
    );
  });
});

describe('conditional and range getters', () => {
  it('If-Match / If-None-Match as ETag sets, with * and weak comparison', () => {
    const req = Request.blank('/', { headers: { 'If-Match': '"a", W/"b"', 'If-None-Match': '*' } });
    expect(req.ifMatch).toBeInstanceOf(EtagSet);
    expect(req.ifMatch.contains('"a"')).toBe(true);
    expect(req.ifMatch.contains('W/"b"')).toBe(false);
    expect(req.ifMatch.tags.map((t) => t.tag)).toEqual(['a', 'b']);
    expect(req.ifNoneMatch.any).toBe(true);
    const weak = Request.blank('/', { headers: { 'If-None-Match': 'W/"v1"' } });
    expect(weak.ifNoneMatch.contains('"v1"', { weak: true })).toBe(true);
    expect(Request.blank('/').ifMatch.present).toBe(false);
  });

  it('If-Modified-Since / If-Unmodified-Since as Date; a bad date is null', () => {
    const req = Request.blank('/', {
      headers: { 'If-Modified-Since': 'Sun, 06 Nov 1994 08:49:37 GMT', 'If-Unmodified-Since': 'yesterday' },
    });
    expect(req.ifModifiedSince?.toISOString()).toBe('1994-11-06T08:49:37.000Z');
    expect(req.ifUnmodifiedSince).toBeNull();
    req.ifUnmodifiedSince = new Date(Date.UTC(2020, 0, 2, 3, 4, 5));
    expect(req.environ.HTTP_IF_UNMODIFIED_SINCE).toBe('Thu, 02 Jan 2020 03:04:05 GMT');
    req.ifModifiedSince = null;
    expect(req.environ.HTTP_IF_MODIFIED_SINCE).toBeUndefined();
  });

  it('If-Range: an entity tag, a date, or null', () => {
    expect(Request.blank('/', { headers: { 'If-Range': '"v2"' } }).ifRange).toEqual({ tag: 'v2', weak: false });
    expect(Request.blank('/', { headers: { 'If-Range': 'Sun, 06 Nov 1994 08:49:37 GMT' } }).ifRange).toBeInstanceOf(Date);
    expect(Request.blank('/', { headers: { 'If-Range': 'garbage date' } }).ifRange).toBeNull();
    expect(Request.blank('/').ifRange).toBeNull();
  });

  it('range is the raw header; rangeFor(length) evaluates it (WebOb range_for_length)', () => {
    const req = Request.blank('/', { headers: { Range: 'bytes=0-9, 20-' } });
    expect(req.range).toBe('bytes=0-9, 20-');
    expect(req.rangeFor(100)).toEqual({ kind: 'satisfiable', ranges: [{ start: 0, end: 9 }, { start: 20, end: 99 }] });
    expect(req.rangeFor(5)).toEqual({ kind: 'satisfiable', ranges: [{ start: 0, end: 4 }] });
    expect(Request.blank('/', { headers: { Range: 'bytes=500-' } }).rangeFor(100)).toEqual({ kind: 'unsatisfiable' });
    expect(Request.blank('/', { headers: { Range: 'pages=1-2' } }).rangeFor(100)).toEqual({ kind: 'ignored', reason: 'unit' });
    expect(Request.blank('/').rangeFor(100)).toEqual({ kind: 'ignored', reason: 'absent' });
    expect(Request.blank('/', { headers: { Range: `bytes=${'1-2,'.repeat(200)}` } }).rangeFor(100)).toEqual({
      kind: 'ignored',
      reason: 'too-many',
    });
  });
});

describe('cacheControl and authorization', () => {
  it('cacheControl is live: setting a field rewrites HTTP_CACHE_CONTROL', () => {
    const req = Request.blank('/', { headers: { 'Cache-Control': 'max-age=0, no-cache, x-ext="a, b"' } });
    const cc = req.cacheControl;
    expect(cc.maxAge).toBe(0);
    expect(cc.noCache).toBe(true);
    expect(cc.get('x-ext')).toBe('a, b');
    cc.maxAge = 60;
    cc.noCache = false;
    expect(req.environ.HTTP_CACHE_CONTROL).toBe('max-age=60, x-ext="a, b"');
    expect(req.cacheControl).toBe(cc);
    expect(new Request(req.environ).cacheControl.maxAge).toBe(60);
    cc.maxAge = null;
    cc.delete('x-ext');
    expect(req.environ.HTTP_CACHE_CONTROL).toBeUndefined();
  });

  it('cacheControl follows an environ change made elsewhere', () => {
    const req = Request.blank('/');
    expect(req.cacheControl.noStore).toBe(false);
    req.headers.set('Cache-Control', 'no-store, max-stale');
    expect(req.cacheControl.noStore).toBe(true);
    expect(req.cacheControl.maxStale).toBe(true);
    req.cacheControl.onlyIfCached = true;
    expect(req.headers.get('cache-control')).toBe('no-store, max-stale, only-if-cached');
  });

  it('authorization: Basic decoded, Bearer token, params; malformed is null', () => {
    const basic = Request.blank('/', { headers: { Authorization: basicAuthorization('Aladdin', 'open: sesame') } });
    expect(basic.authorization).toMatchObject({ scheme: 'basic', username: 'Aladdin', password: 'open: sesame' });
    const bearer = Request.blank('/', { headers: { Authorization: 'Bearer abc.def-ghi' } });
    expect(bearer.authorization?.token).toBe('abc.def-ghi');
    const digest = Request.blank('/', { headers: { Authorization: 'Digest username="Mufasa", realm="a \\"b\\""' } });
    expect(digest.authorization?.params).toEqual({ username: 'Mufasa', realm: 'a "b"' });
    for (const bad of ['Basic !!!', 'Basic', 'Bearer a=b', '', '   ', 'Basic Zm9v']) {
      expect(Request.blank('/', { environ: { HTTP_AUTHORIZATION: bad } }).authorization, bad).toBeNull();
    }
    expect(Request.blank('/').authorization).toBeNull();
    basic.authorization = null;
    expect(basic.environ.HTTP_AUTHORIZATION).toBeUndefined();
  });
});

describe('forms', () => {
  it('form() parses urlencoded and multipart; files() holds the uploads', async () => {
    const urlencoded = Request.blank('/', { method: 'POST', form: { a: ['1', '2'], b: 'x y' } });
    expect((await urlencoded.form()).getAll('a')).toEqual(['1', '2']);
    expect((await urlencoded.files()).size).toBe(0);

    const req = Request.blank('/', {
      method: 'POST',
      form: { title: 'Hello', tag: ['a', 'b'] },
      files: { doc: { filename: 'r.txt', content: 'hello' }, pics: [{ filename: 'a.png', content: new Uint8Array([1, 2]) }] },
    });
    expect(req.contentType).toBe('multipart/form-data');
    const form = await req.form();
    expect(form).toBeInstanceOf(MultiDict);
    expect([...form]).toEqual([
      ['title', 'Hello'],
      ['tag', 'a'],
      ['tag', 'b'],
    ]);
    const files = await req.files();
    const doc = files.get('doc') as FileUpload;
    expect(doc).toBeInstanceOf(FileUpload);
    expect(doc).toMatchObject({ filename: 'r.txt', contentType: 'text/plain', size: 5 });
    expect(await doc.text()).toBe('hello');
    expect((files.get('pics') as FileUpload).contentType).toBe('image/png');
    expect(await req.parseForm()).toBe(await req.parseForm());
  });

  it('MultiDict: get is the first value (Werkzeug), getAll all, getOne refuses several (400)', async () => {
    const form = await Request.blank('/', { method: 'POST', form: [['k', '1'], ['k', '2'], ['one', 'x']] }).form();
    expect(form.get('k')).toBe('1');
    expect(form.getAll('k')).toEqual(['1', '2']);
    expect(form.getOne('one')).toBe('x');
    expect(() => form.getOne('k')).toThrow(HTTPBadRequest);
    expect(() => form.getOne('none')).toThrow(HTTPBadRequest);
  });

  it('params() combines query then form; GET and HEAD give the query only', async () => {
    const post = Request.blank('/?a=q1&b=q2', { method: 'POST', form: { a: 'f1', c: 'f3' } });
    const params = await post.params();
    expect([...params]).toEqual([
      ['a', 'q1'],
      ['b', 'q2'],
      ['a', 'f1'],
      ['c', 'f3'],
    ]);
    expect(params.get('a')).toBe('q1');
    params.add('z', '1');
    expect(post.query.has('z')).toBe(false);
    const get = Request.blank('/?a=1', {
      method: 'GET',
      body: 'b=2',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect([...(await get.params())]).toEqual([['a', '1']]);
    expect(get.environ['tsgi.form']).toBeUndefined();
  });

  it('limits: 413 naming the limit, the same maxBodySize as bytes(); 400 for malformed multipart', async () => {
    const tooBig = Request.blank('/', { method: 'POST', files: { f: { filename: 'a.bin', content: big(5000) } } });
    const error = await tooBig.files({ maxFileSize: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HTTPContentTooLarge);
    expect((error as Error).message).toMatch(/^maxFileSize exceeded/);
    const body = Request.blank('/', { method: 'POST', form: { a: 'x'.repeat(100) } });
    await expect(body.form({ maxBodySize: 10 })).rejects.toThrow(/maxBodySize exceeded/);
    const fields = Request.blank('/', { method: 'POST', form: { a: '1', b: '2', c: '3' } });
    await expect(fields.form({ maxFields: 2 })).rejects.toThrow(/maxFields exceeded/);
    const broken = Request.blank('/', {
      method: 'POST',
      body: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated',
      headers: { 'Content-Type': 'multipart/form-data; boundary=x' },
    });
    await expect(broken.form()).rejects.toBeInstanceOf(HTTPBadRequest);
  });

  it('urlencoded forms are decoded in their declared charset; one no decoder knows answers 415', async () => {
    const latin = Request.blank('/', {
      method: 'POST',
      body: 'a=caf%E9',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=iso-8859-1' },
    });
    expect((await latin.form()).get('a')).toBe('café');
    const unknown = Request.blank('/', {
      method: 'POST',
      body: 'a=caf%E9',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=x-unknown' },
    });
    await expect(unknown.form()).rejects.toBeInstanceOf(HTTPUnsupportedMediaType);
    const utf8 = Request.blank('/', {
      method: 'POST',
      body: 'a=caf%C3%A9',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
    });
    expect((await utf8.form()).get('a')).toBe('café');
  });

  it('other content types give an empty form without reading the body', async () => {
    const req = Request.blank('/', { method: 'POST', json: { a: 1 } });
    expect((await req.form()).size).toBe(0);
    expect(await req.json()).toEqual({ a: 1 });
  });

  it('Request.blank with files: exact multipart body with the boundary in Content-Type', async () => {
    const req = Request.blank('/up', {
      method: 'post',
      form: { note: 'n' },
      files: { f: { filename: 'x "q".txt', content: 'abc', contentType: 'text/x-custom' } },
    });
    const boundary = /boundary=(.+)$/.exec(req.environ.CONTENT_TYPE!)![1]!;
    const text = new TextDecoder().decode(await req.bytes());
    expect(text).toBe(
      `--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nn\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="x %22q%22.txt"\r\nContent-Type: text/x-custom\r\n\r\nabc\r\n` +
        `--${boundary}--\r\n`,
    );
    expect(req.contentLength).toBe(text.length);
    expect(req.method).toBe('POST');
    const file = (await req.files()).get('f') as FileUpload;
    expect(file.filename).toBe('x "q".txt');
    expect(file.contentType).toBe('text/x-custom');
  });
});

describe('temporary files end with the request', () => {
  const spooled = () =>
    Request.blank('/', { method: 'POST', files: { f: { filename: 'big.bin', content: big(4096) } } });

  it('req.cleanup() removes spooled uploads; in-memory ones stay readable', async () => {
    const req = spooled();
    const files = await req.files({ spoolThreshold: 1024, tmpDir: dir });
    const file = files.get('f') as FileUpload;
    expect(file.inMemory).toBe(false);
    expect(existsSync(file.path!)).toBe(true);
    await req.cleanup();
    expect(existsSync(file.path!)).toBe(false);
    await expect(file.bytes()).rejects.toThrow(/cleaned up/);
    await req.cleanup();
  });

  it('Request.application cleans up after the body is sent (getResponse as the caller)', async () => {
    let path: string | undefined;
    const app = Request.application(async (req) => {
      const file = (await req.files({ spoolThreshold: 1024, tmpDir: dir })).get('f') as FileUpload;
      path = file.path;
      return new Response(`${file.size}`);
    });
    const res = await spooled().getResponse(app);
    expect((await res.text())).toBe('4096');
    expect(path && existsSync(path)).toBe(false);
  });

  it('a streamed response keeps the uploads until its body is done', async () => {
    let path: string | undefined;
    const app = Request.application(async (req) => {
      const file = (await req.files({ spoolThreshold: 1024, tmpDir: dir })).get('f') as FileUpload;
      path = file.path;
      return new Response(file.stream(), { contentType: 'application/octet-stream' });
    });
    const req = spooled();
    const res = await req.getResponse(app);
    expect(res.isStreamed()).toBe(true);
    expect(existsSync(path!)).toBe(true);
    expect((await res.bytes()).byteLength).toBe(4096);
    expect(existsSync(path!)).toBe(false);
    expect(req.environ['tsgi.cleanup_owner']).toBeFalsy();
  });

  it('a body closed early (client gone) still cleans up', async () => {
    let path: string | undefined;
    const app = Request.application(async (req) => {
      const file = (await req.files({ spoolThreshold: 1024, tmpDir: dir })).get('f') as FileUpload;
      path = file.path;
      return new Response(file.stream());
    });
    const environ = spooled().environ;
    const body = (await app(environ, () => {})) as AsyncIterable<Uint8Array>;
    const iterator = body[Symbol.asyncIterator]();
    await iterator.next();
    expect(existsSync(path!)).toBe(true);
    await iterator.return!();
    expect(existsSync(path!)).toBe(false);
  });

  it('an error from the handler propagates after the cleanup', async () => {
    let path: string | undefined;
    const app = Request.application(async (req) => {
      path = ((await req.files({ spoolThreshold: 1024, tmpDir: dir })).get('f') as FileUpload).path;
      throw new Error('boom');
    });
    await expect(spooled().getResponse(app)).rejects.toThrow('boom');
    expect(existsSync(path!)).toBe(false);
  });

  it('an inner app (called through getResponse) leaves the cleanup to the outer one', async () => {
    let innerPath: string | undefined;
    let readAfterInner = '';
    const inner = Request.application(async (req) => {
      innerPath = ((await req.files({ spoolThreshold: 1024, tmpDir: dir })).get('f') as FileUpload).path;
      return new Response('inner');
    });
    const outer = Request.application(async (req) => {
      const res = await req.getResponse(inner);
      await res.bytes();
      const file = (await req.files()).get('f') as FileUpload;
      readAfterInner = `${(await file.bytes()).byteLength}`;
      return new Response(`${(await res.text())}:${readAfterInner}`);
    });
    const res = await spooled().getResponse(outer);
    expect((await res.text())).toBe('inner:4096');
    expect(existsSync(innerPath!)).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it('without a form nothing is wrapped: array bodies stay arrays', () => {
    const app: App = Request.application(() => new Response('x'));
    const environ = Request.blank('/').environ;
    const body = app(environ, () => {});
    expect(Array.isArray(body)).toBe(true);
    expect(environ['tsgi.cleanup_owner']).toBeFalsy();
  });
});
