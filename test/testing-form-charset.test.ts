/**
 * tsgi/testing submits a form in the encoding a browser picks for it (HTML §4.10.21.7): the
 * page's charset, or the first one its `accept-charset` names, with no `charset` parameter, so a
 * legacy page's form reaches the app in the bytes a browser sends (the forms.md recipe for pages
 * in Shift_JIS decodes them).
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { TestClient, TestClientError } from 'tsgi/testing';

/** Shift_JIS bytes of `<form …>` pages: 東京 is 93 8C 8B 9E, 日本 is 93 FA 96 7B. */
const sjis = (hex: string) => Uint8Array.from(hex.split(' ').map((h) => Number.parseInt(h, 16)));
const TOKYO = sjis('93 8C 8B 9E');

/** Serves `page` (bytes or text) at `/` with `contentType`; echoes what a form sends anywhere else. */
const appWith = (page: Uint8Array | string, contentType: string) =>
  Request.application(async (req) => {
    if (req.pathInfo === '/') return new Response(typeof page === 'string' ? new TextEncoder().encode(page) : page, { headers: { 'Content-Type': contentType } });
    // The forms.md recipe: a form in the page's charset, undeclared, read as Shift_JIS.
    const sentType = req.headers.get('Content-Type');
    const named = /;\s*charset=/i.test(sentType ?? '');
    if (req.contentType === 'application/x-www-form-urlencoded' && !named) req.charset = 'shift_jis';
    const raw = req.method === 'GET' ? req.queryString : await req.text();
    const form = req.method === 'GET' ? [...req.query.entries()] : [...(await req.form()).entries()];
    return Response.json({ contentType: sentType, raw, form });
  });

const html = (form: string) => `<!doctype html><title>t</title>${form}`;

describe('a form submitted in the page encoding', () => {
  it('posts a Shift_JIS page form in Shift_JIS, _charset_ naming it, as a browser does', async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode(html('<form method="post" action="/save"><input name="city" value="')), ...TOKYO,
      ...new TextEncoder().encode('"><input type="hidden" name="_charset_"></form>')]);
    const page = await new TestClient(appWith(bytes, 'text/html; charset=Shift_JIS')).get('/');
    const form = page.form();
    expect(form.get('city')).toBe('東京');
    const res = await form.set('city', '東京 日本').submit();
    expect(await res.json()).toEqual({
      contentType: 'application/x-www-form-urlencoded',
      raw: 'city=%93%8C%8B%9E+%93%FA%96%7B&_charset_=Shift_JIS',
      form: [['city', '東京 日本'], ['_charset_', 'Shift_JIS']],
    });
  });

  it('puts a GET form of a windows-1251 page in the query in windows-1251, a character it cannot hold as a reference', async () => {
    const page = await new TestClient(appWith(html('<form action="/search"><input name="q"></form>'), 'text/html; charset=windows-1251')).get('/');
    const res = await page.form().set('q', 'Мир ✓').submit();
    expect(((await res.json()) as { raw: string }).raw).toBe('q=%CC%E8%F0+%26%2310003%3B');
  });

  it('takes the first encoding accept-charset names over the page one, and UTF-8 when it names none', async () => {
    const client = new TestClient(appWith(html('<form method="post" action="/a" accept-charset="x-none shift_jis utf-8"><input name="c" value="東京"></form><form method="post" action="/b" accept-charset="x-none"><input name="c" value="東京"></form>'), 'text/html; charset=utf-8'));
    const page = await client.get('/');
    expect(((await (await page.form(0).submit()).json()) as { raw: string }).raw).toBe('c=%93%8C%8B%9E');
    expect(((await (await page.form(1).submit()).json()) as { raw: string }).raw).toBe('c=%E6%9D%B1%E4%BA%AC');
  });

  it('puts a GET form of a gb18030 page in the query in gb18030, written with iconv-lite', async () => {
    const page = await new TestClient(appWith(html('<form action="/search"><input name="q"></form>'), 'text/html; charset=gb18030')).get('/');
    const res = await page.form().set('q', '东京').submit();
    expect(((await res.json()) as { raw: string }).raw).toBe('q=%B6%AB%BE%A9');
  });

  it('posts a UTF-8 page form in UTF-8, as before', async () => {
    const page = await new TestClient(appWith(html('<form method="post" action="/s"><input name="c" value="東京"><input type="hidden" name="_charset_"></form>'), 'text/html')).get('/');
    expect(((await (await page.form().submit()).json()) as { raw: string }).raw).toBe('c=%E6%9D%B1%E4%BA%AC&_charset_=UTF-8');
  });

  it('refuses a form in an encoding it cannot write, rather than send UTF-8 the app would misread', async () => {
    const page = await new TestClient(appWith(html('<form method="post" action="/s"><input name="c" value="x"></form>'), 'text/html; charset=iso-2022-jp')).get('/');
    await expect(page.form().submit()).rejects.toThrow(TestClientError);
  });

  it('reads a page whose charset only its <meta> declares in it, and posts its form in it, as a browser does', async () => {
    // WHATWG HTML §13.2.3.2: with no charset in the Content-Type, the <meta> in the first 1024 bytes decides.
    const ascii = (text: string) => new TextEncoder().encode(text);
    for (const meta of ['<meta charset="shift_jis">', '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">']) {
      const bytes = new Uint8Array([
        ...ascii(`<!doctype html>${meta}<title>`), ...TOKYO, ...ascii('</title><form method="post" action="/save"><input name="city" value="'),
        ...TOKYO, ...ascii('"><input type="hidden" name="_charset_"></form>'),
      ]);
      const page = await new TestClient(appWith(bytes, 'text/html')).get('/');
      expect(page.textBody, meta).toContain('<title>東京</title>');
      expect(await page.text(), meta).toBe(page.textBody);
      expect(page.form().get('city'), meta).toBe('東京');
      const res = await page.form().set('city', '東京 日本').submit();
      expect(((await res.json()) as { raw: string }).raw, meta).toBe('city=%93%8C%8B%9E+%93%FA%96%7B&_charset_=Shift_JIS');
    }
  });
});

describe('a link of a page in a legacy encoding', () => {
  it('is followed with its query in the page encoding, its path in UTF-8, as a browser parses it (URL Standard, encoding override)', async () => {
    const ascii = (text: string) => new TextEncoder().encode(text);
    // <a href="/東京?q=東京&amp;c=é">, é (not in Shift_JIS) written as a reference; the page in Shift_JIS.
    const bytes = new Uint8Array([...ascii(html('<a href="/')), ...TOKYO, ...ascii('?q='), ...TOKYO, ...ascii(' 1&amp;c=&eacute;#top">go</a>')]);
    const page = await new TestClient(appWith(bytes, 'text/html; charset=Shift_JIS')).get('/');
    const res = await page.click('go');
    expect(res.url).toBe('http://localhost/%E6%9D%B1%E4%BA%AC?q=%93%8C%8B%9E%201&c=%26%23233%3B');
    expect(((await res.json()) as { raw: string }).raw).toBe('q=%93%8C%8B%9E%201&c=%26%23233%3B');
  });
});

describe('a form action of a page in a legacy encoding', () => {
  it('is posted to with its query in the page encoding, though accept-charset sends the fields in UTF-8', async () => {
    const ascii = (text: string) => new TextEncoder().encode(text);
    const bytes = new Uint8Array([...ascii(html('<form method="post" accept-charset="utf-8" action="/save?city=')), ...TOKYO, ...ascii('"><input name="q" value="x"></form>')]);
    const page = await new TestClient(appWith(bytes, 'text/html; charset=Shift_JIS')).get('/');
    const res = await page.form().submit();
    expect(res.url).toBe('http://localhost/save?city=%93%8C%8B%9E');
    expect(((await res.json()) as { raw: string }).raw).toBe('q=x');
    // Once a submit() loaded iconv-lite, form.action says the same.
    expect(page.form().action).toBe('http://localhost/save?city=%93%8C%8B%9E');
  });
});

describe('a text/plain form', () => {
  it('is sent in the form encoding, as the HTML standard and browsers write it (not always UTF-8)', async () => {
    const app = Request.application(async (req) => {
      if (req.pathInfo === '/') {
        const form = '<form method="post" action="/save" enctype="text/plain" accept-charset="windows-1252"><input type="hidden" name="_charset_"><input name="q" value="x"></form>';
        return new Response(html(form), { contentType: 'text/html' });
      }
      return Response.json({ contentType: req.headers.get('Content-Type'), bytes: [...(await req.bytes())] });
    });
    const page = await new TestClient(app).get('/');
    const res = await page.form().set('q', 'café ✓').submit();
    // "Submit as entity body", text/plain: the body encoded in the form's encoding; ✓ (not in windows-1252) as &#10003;.
    const expected = new Uint8Array([...new TextEncoder().encode('_charset_=windows-1252\r\nq=caf'), 0xe9, ...new TextEncoder().encode(' &#10003;\r\n')]);
    expect(await res.json()).toEqual({ contentType: 'text/plain', bytes: [...expected] });
  });
});

describe('a page that declares no charset', () => {
  // windows-1252 bytes (parsed as `sjis` parses hex): € is 80 (latin1 has none), é E9, ü FC.
  const ascii = (text: string) => new TextEncoder().encode(text);
  const page = (before: string, hex: string) =>
    new Uint8Array([...ascii(html(`${before}<form method="post" action="/save"><input name="city" value="`)),
      ...sjis(hex), ...ascii('"><input type="hidden" name="_charset_"></form>')]);
  const raw = async (res: { json(): Promise<unknown> }) =>
    ((await res.json()) as { raw: string }).raw;

  it('is read as windows-1252 when its first 1024 bytes are not UTF-8, its form posted in it', async () => {
    // WHATWG HTML §13.2.3.1: no BOM, charset parameter or <meta>: the legacy default, as
    // replaceText reads it.
    const res = await new TestClient(appWith(page('', '5A FC 72 69 63 68 20 80'), 'text/html')).get('/');
    expect(res.textBody).toContain('value="Zürich €"');
    expect(await res.text()).toBe(res.textBody);
    expect(res.form().get('city')).toBe('Zürich €');
    expect(await raw(await res.form().set('city', 'café €').submit())).toBe(
      'city=caf%E9+%80&_charset_=windows-1252',
    );
  });

  it('is read as UTF-8 when its first 1024 bytes are UTF-8, a byte past them not', async () => {
    const bytes = page(`<!--${'x'.repeat(1024)}-->`, 'E9');
    const res = await new TestClient(appWith(bytes, 'text/html')).get('/');
    expect(res.form().get('city')).toBe('\uFFFD');
    expect(await raw(await res.form().set('city', 'é').submit())).toBe('city=%C3%A9&_charset_=UTF-8');
  });
});
