/**
 * `req.copy()` and `req.copyGet()` (WebOb's `copy`, `copy_get`): a request over a copy of the
 * environ, sent to another app while the original keeps its path, method and body; and
 * `req.getResponse(app)`, which, as WebOb's `get_response`, leaves what changed the environ
 * changed. Over a real socket (`serve`, port 0) where a live body is copied.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, HTTPContentTooLarge, Request, Response, serve } from 'tsgi';

/** An app answering what it saw: its mount point, path, method, query, content type and form. */
const echo = Request.application(async (req) =>
  Response.json({
    scriptName: req.scriptName,
    pathInfo: req.pathInfo,
    method: req.method,
    query: req.queryString,
    contentType: req.contentType,
    form: req.method === 'GET' ? null : (await req.form()).toJSON(),
  }),
);

/**
 * Sends a copy of each request under `/audit/…` to `echo` (its SCRIPT_NAME `/audit`), then the
 * request itself to `echo`, and answers both views: the original must be untouched by the copy.
 */
const auditing = Request.application(async (req) => {
  const copy = await req.copy({ maxBodySize: 1024 });
  copy.pathInfoPop();
  copy.query.set('copied', '1');
  const audit = await (await copy.getResponse(echo)).json();
  const page = await (await req.getResponse(echo)).json();
  const get = await (await req.copyGet().getResponse(echo)).json();
  return Response.json({ audit, page, get });
});

let server: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  server = await serve(auditing, { port: 0 });
});
afterAll(async () => {
  await server.close();
});

describe('req.copy() over a socket', () => {
  it('hands another app a copy with its own path, query and a readable copy of the live body; the original reads both intact', async () => {
    const res = await fetch(`${server.url}/audit/orders?a=1`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'item=tea&qty=2',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      audit: {
        scriptName: '/audit',
        pathInfo: '/orders',
        method: 'POST',
        query: 'a=1&copied=1',
        contentType: 'application/x-www-form-urlencoded',
        form: { item: ['tea'], qty: ['2'] },
      },
      page: {
        scriptName: '',
        pathInfo: '/audit/orders',
        method: 'POST',
        query: 'a=1',
        contentType: 'application/x-www-form-urlencoded',
        form: { item: ['tea'], qty: ['2'] },
      },
      get: { scriptName: '', pathInfo: '/audit/orders', method: 'GET', query: 'a=1', contentType: '', form: null },
    });
  });

  it('copies a GET without a body at once', async () => {
    const res = await fetch(`${server.url}/audit/list`);
    expect(res.status).toBe(200);
    const { audit, page } = (await res.json()) as Record<string, Record<string, unknown>>;
    expect([audit!.scriptName, audit!.pathInfo, audit!.query, audit!.form]).toEqual(['/audit', '/list', 'copied=1', null]);
    expect([page!.scriptName, page!.pathInfo, page!.query]).toEqual(['', '/audit/list', '']);
  });

  it('answers 413 when the body to copy is larger than maxBodySize', async () => {
    const res = await fetch(`${server.url}/audit/big`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `x=${'a'.repeat(4096)}`,
    });
    expect(res.status).toBe(413);
  });
});

describe('req.copy() and req.copyGet() in-process', () => {
  it('builds an instance of the class it is called on', async () => {
    class MyRequest extends Request {}
    const req = MyRequest.blank('/a', { method: 'POST', body: 'x' });
    expect(await req.copy()).toBeInstanceOf(MyRequest);
    expect(req.copyGet()).toBeInstanceOf(MyRequest);
  });

  it('copies the environ: a change to the copy leaves the original as it was', async () => {
    const req = Request.blank('/a/b?x=1', { method: 'PUT', headers: { 'X-Tag': 'one' }, body: 'payload' });
    const copy = await req.copy();
    expect(copy.environ).not.toBe(req.environ);
    copy.pathInfoPop();
    copy.method = 'DELETE';
    copy.headers.set('X-Tag', 'two');
    copy.queryString = 'x=2';
    expect([req.scriptName, req.pathInfo, req.method, req.headers.get('X-Tag'), req.query.get('x')]).toEqual(['', '/a/b', 'PUT', 'one', '1']);
    expect([copy.scriptName, copy.pathInfo, copy.method, copy.headers.get('X-Tag'), copy.query.get('x')]).toEqual(['/a', '/b', 'DELETE', 'two', '2']);
    expect(await copy.text()).toBe('payload');
    expect(await req.text()).toBe('payload');
  });

  it('copyGet() is a GET without body fields, the original body left unread', async () => {
    const req = Request.blank('/f?q=1', { method: 'POST', form: { a: 'b' }, headers: { 'Content-Encoding': 'identity' } });
    const get = req.copyGet();
    expect([get.method, get.queryString, get.isBodyReadable, get.contentLength, get.contentType]).toEqual(['GET', 'q=1', false, null, '']);
    expect(get.headers.has('Content-Encoding')).toBe(false);
    expect(await get.bytes()).toEqual(new Uint8Array(0));
    expect((await req.form()).get('a')).toBe('b');
  });

  it('copy() after a form parse that did not keep the body rejects, saying to read it with bytes() first', async () => {
    const req = Request.blank('/', { method: 'POST', form: { a: 'b' }, files: { f: { filename: 'f.txt', content: 'hi' } } });
    // A live body (not a replayable one), as a server hands it.
    const bytes = await req.bytes();
    req.environ['tsgi.input'] = (async function* () {
      yield bytes;
    })();
    await req.form();
    await expect(req.copy()).rejects.toThrow(/not kept: read it with await req\.bytes\(\) first/);
    await req.cleanup();
  });

  it('copy() refuses an unknown option and a bad maxBodySize with a TypeError, and a body past it with a 413', async () => {
    const req = Request.blank('/', { method: 'POST', body: 'abcdef' });
    await expect(req.copy({ maxsize: 1 } as never)).rejects.toThrow(/req\.copy: unknown option "maxsize"/);
    await expect(req.copy({ maxBodySize: -1 })).rejects.toThrow(TypeError);
    await expect(req.copy({ maxBodySize: 3 })).rejects.toBeInstanceOf(HTTPContentTooLarge);
  });
});

describe('req.getResponse(app) and the environ', () => {
  it('leaves SCRIPT_NAME and PATH_INFO as the request and the app left them (WebOb get_response): copy to keep them', async () => {
    const inner: App = Request.application((req) => `${req.pathInfoPop()}`);
    const req = Request.blank('/a/b/c');
    req.pathInfoPop();
    expect(await (await req.getResponse(inner)).text()).toBe('b');
    expect([req.scriptName, req.pathInfo]).toEqual(['/a/b', '/c']);

    const kept = Request.blank('/a/b/c');
    const copy = await kept.copy();
    copy.pathInfoPop();
    expect(await (await copy.getResponse(inner)).text()).toBe('b');
    expect([kept.scriptName, kept.pathInfo]).toEqual(['', '/a/b/c']);
  });
});

describe('the end of a request that copied', () => {
  it('removes the uploads a copy parsed when the outermost Request.application ends', async () => {
    const { mkdtemp, readdir, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'tsgi-request-copy-'));
    try {
      let during: string[] = [];
      const app = Request.application(async (req) => {
        const copy = await req.copy();
        const file = (await copy.files({ spoolThreshold: 0, tmpDir: dir })).get('doc')!;
        during = await readdir(dir);
        return new Response(await file.text());
      });
      const req = Request.blank('/', { method: 'POST', form: {}, files: { doc: { filename: 'd.txt', content: 'hello' } } });
      const res = await req.getResponse(app);
      expect(await res.text()).toBe('hello');
      expect(during).toHaveLength(1);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
