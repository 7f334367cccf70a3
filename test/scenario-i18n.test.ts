/**
 * Scenario: a multilingual site (Japanese, German, Arabic) built from the docs alone
 * (request.md, response.md, forms.md, negotiation.md, routing.md, middleware-static.md,
 * sessions.md) and driven over a real socket: non-ASCII routes and the URLs and redirects built
 * from them, legacy-charset forms and queries, non-ASCII upload and download names, cookies,
 * header bytes, `Accept-Language`, JSON with a byte order mark, static names in NFC and NFD,
 * IDN hosts. Where tsgi answers otherwise than Werkzeug or Django, the case says why.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultiDict, Response, redirect, serve } from 'tsgi';
import { directoryApp, mount } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { parseRaw, rawExchange } from './node-helpers.ts';

const routes = new RouteMap({
  article: '/記事/<city>',
  go: '/go',
  report: '/report',
  search: '/search',
  form: { path: '/form', methods: ['POST'] },
  upload: { path: '/upload', methods: ['POST'] },
  cookie: '/cookie',
  who: '/who',
  home: '/',
  json: { path: '/json', methods: ['POST'] },
});

const site = routes.app({
  article: (req, { city }, urls) => {
    const res = new Response(`<p dir="rtl">${city} مرحبا\u200F</p> ${urls.build('article', { city }, { external: true })}`, { contentType: 'text/html' });
    res.contentLanguage = ['ja'];
    return res;
  },
  go: (_req, _values, urls) => redirect(urls.build('article', { city: '東京', q: 'ü' })),
  report: () => {
    const res = new Response('%PDF', { contentType: 'application/pdf' });
    res.attachment('Übersicht März.pdf');
    return res;
  },
  search: (req) => Response.json({ utf8: req.query.getAll('q'), sjis: MultiDict.fromQueryString(req.queryString, 'shift_jis').getAll('q') }),
  form: async (req) => Response.json((await req.form()).toJSON()),
  upload: async (req) => Response.json([...(await req.files()).entries()].map(([name, file]) => [name, file.filename, file.safeFilename])),
  cookie: (req) => {
    const res = Response.json(req.cookies);
    res.setCookie('name', 'Jürgen 東京');
    return res;
  },
  who: (req) => Response.json({ name: req.headers.get('X-Name'), host: req.host, url: req.url }),
  home: (req) => new Response(req.acceptLanguage.bestMatch(['de', 'ja', 'ar', 'en'], 'en')),
  json: async (req) => Response.json(await req.json()),
});

let dir: string;
let server: Awaited<ReturnType<typeof serve>>;
let trusted: Awaited<ReturnType<typeof serve>>;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-scen-i18n-'));
  writeFileSync(path.join(dir, '日本語.txt'), 'ja');
  writeFileSync(path.join(dir, 'caf\u00e9.txt'), 'nfc'); // one code point
  writeFileSync(path.join(dir, 'ne\u0301e.txt'), 'nfd'); // e + combining acute, as macOS's HFS+ wrote it
  server = await serve(mount({ '/static': directoryApp(dir), '/': site }), { host: '127.0.0.1', port: 0 });
  trusted = await serve(site, { host: '127.0.0.1', port: 0, trustedHosts: ['bücher.example'] });
});

afterAll(async () => {
  await Promise.all([server.close(), trusted.close()]);
  rmSync(dir, { recursive: true, force: true });
});

/** Sends one request (its head as latin1 bytes, so obs-text goes as it is) and parses the answer, body as UTF-8. */
async function send(target: string, extra = '', body?: Buffer, port = server.port) {
  const method = body === undefined ? 'GET' : 'POST';
  const length = body === undefined ? '' : `Content-Length: ${body.length}\r\n`;
  const head = Buffer.from(`${method} ${Buffer.from(target, 'utf8').toString('latin1')} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}${length}\r\n`, 'latin1');
  const { raw } = await rawExchange(port, body === undefined ? head : Buffer.concat([head, body]));
  const res = parseRaw(raw);
  return { status: res.status, header: res.header, text: Buffer.from(res.rest, 'latin1').toString('utf8') };
}

const hostOf = (host: string) => Buffer.from(`GET /who HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 'utf8');

describe('paths and URLs', () => {
  it('routes a UTF-8 escaped segment, builds it back escaped, and leaves right-to-left text as it is', async () => {
    const res = await send('/%E8%A8%98%E4%BA%8B/%E6%9D%B1%E4%BA%AC');
    expect(res.status).toBe(200);
    expect(res.header('content-type')).toBe('text/html; charset=utf-8');
    expect(res.header('content-language')).toBe('ja');
    expect(res.text).toBe('<p dir="rtl">東京 مرحبا\u200F</p> http://127.0.0.1/%E8%A8%98%E4%BA%8B/%E6%9D%B1%E4%BA%AC');
  });

  it('answers 400 for invalid UTF-8 escapes and raw non-ASCII bytes (Werkzeug routes U+FFFD, Django keeps %E6%9D: routing.md)', async () => {
    for (const target of ['/%E8%A8%98%E4%BA%8B/%E6%9D', '/static/caf%E9.txt', '/記事/東京']) {
      expect((await send(target)).status, target).toBe(400);
    }
  });

  it('redirects to an ASCII Location, percent-encoded UTF-8', async () => {
    const res = await send('/go');
    expect(res.status).toBe(303);
    expect(res.header('location')).toBe('http://127.0.0.1/%E8%A8%98%E4%BA%8B/%E6%9D%B1%E4%BA%AC?q=%C3%BC');
  });

  it('reads a UTF-8 query, and a Shift_JIS one with fromQueryString', async () => {
    const res = JSON.parse((await send('/search?q=%E6%9D%B1%E4%BA%AC&q=%93%8C%8B%9E')).text);
    expect(res).toEqual({ utf8: ['東京', '\uFFFD'.repeat(4)], sjis: ['譚ｱ莠ｬ', '東京'] });
  });
});

describe('forms in legacy charsets', () => {
  const urlencoded = (type: string, body: string) => send('/form', `Content-Type: ${type}\r\n`, Buffer.from(body, 'latin1'));

  it('decodes a declared charset, and an undeclared one that _charset_ names', async () => {
    const sjis = await urlencoded('application/x-www-form-urlencoded; charset=shift_jis', 'city=%93%8C%8B%9E');
    expect(JSON.parse(sjis.text)).toEqual({ city: ['東京'] });
    const latin = await urlencoded('application/x-www-form-urlencoded; charset=iso-8859-1', 'name=J%FCrgen&price=%805');
    expect(JSON.parse(latin.text)).toEqual({ name: ['Jürgen'], price: ['€5'] });
    const field = await urlencoded('application/x-www-form-urlencoded', 'city=%C5%EC%B5%FE&_charset_=EUC-JP');
    expect(JSON.parse(field.text)).toEqual({ city: ['東京'], _charset_: ['EUC-JP'] });
  });

  it('decodes a multipart form in the charset of its _charset_ field', async () => {
    const body = Buffer.concat([
      Buffer.from('--b\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\nShift_JIS\r\n--b\r\nContent-Disposition: form-data; name="city"\r\n\r\n'),
      Buffer.from([0x93, 0x8c, 0x8b, 0x9e]),
      Buffer.from('\r\n--b--\r\n'),
    ]);
    const res = await send('/form', 'Content-Type: multipart/form-data; boundary=b\r\n', body);
    expect(JSON.parse(res.text)).toEqual({ _charset_: ['Shift_JIS'], city: ['東京'] });
  });

  it('names uploads from raw UTF-8 (as browsers send it) and from filename*, a bidi override left out of safeFilename', async () => {
    const part = (disposition: string) => `--b\r\nContent-Disposition: form-data; ${disposition}\r\nContent-Type: text/plain\r\n\r\nx\r\n`;
    const body = Buffer.from(part('name="a"; filename="報告 ü.txt"') + part(`name="b"; filename="b.txt"; filename*=UTF-8''%D8%AA%D9%82%D8%B1%D9%8A%D8%B1.txt`) + part('name="c"; filename="doc\u202Etxt.exe"') + '--b--\r\n', 'utf8');
    const res = await send('/upload', 'Content-Type: multipart/form-data; boundary=b\r\n', body);
    expect(JSON.parse(res.text)).toEqual([
      ['a', '報告 ü.txt', '報告 ü.txt'],
      ['b', 'تقرير.txt', 'تقرير.txt'],
      ['c', 'doc\u202Etxt.exe', 'doctxt.exe'],
    ]);
  });

  it('reads JSON after a UTF-8 byte order mark', async () => {
    const res = await send('/json', 'Content-Type: application/json\r\n', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"city":"東京","greeting":"مرحبا"}')]));
    expect(JSON.parse(res.text)).toEqual({ city: '東京', greeting: 'مرحبا' });
  });
});

describe('headers, cookies and languages', () => {
  it('sends a download name as filename* with an ASCII fallback (RFC 6266, RFC 8187)', async () => {
    const res = await send('/report');
    expect(res.header('content-disposition')).toBe(`attachment; filename="Ubersicht Marz.pdf"; filename*=UTF-8''%C3%9Cbersicht%20M%C3%A4rz.pdf`);
  });

  it('reads UTF-8, percent-escaped and Werkzeug-octal cookies, and sets UTF-8 as percent-escapes', async () => {
    const res = await send('/cookie', 'Cookie: a=J\xc3\xbcrgen; b=%E6%9D%B1; c="\\346\\235\\261"\r\n');
    expect(JSON.parse(res.text)).toEqual({ a: 'Jürgen', b: '東', c: '東' });
    expect(res.header('set-cookie')).toBe('name=J%C3%BCrgen%20%E6%9D%B1%E4%BA%AC; Path=/');
  });

  it('reads header bytes one character each, as WSGI does', async () => {
    expect(JSON.parse((await send('/who', 'X-Name: M\xfcller\r\n')).text).name).toBe('Müller');
    expect(JSON.parse((await send('/who', 'X-Name: M\xc3\xbcller\r\n')).text).name).toBe('MÃ¼ller');
  });

  it('negotiates Accept-Language by RFC 4647 lookup: de-CH gets de', async () => {
    expect((await send('/', 'Accept-Language: de-CH, en;q=0.5\r\n')).text).toBe('de');
    expect((await send('/', 'Accept-Language: ja-JP,ja;q=0.9\r\n')).text).toBe('ja');
    expect((await send('/', 'Accept-Language: ar-EG\r\n')).text).toBe('ar');
    expect((await send('/', 'Accept-Language: fr\r\n')).text).toBe('en');
  });

  it('answers an IDN host in punycode, listed in Unicode in trustedHosts; a raw Unicode Host is a 400', async () => {
    const ok = parseRaw((await rawExchange(trusted.port, hostOf('xn--bcher-kva.example'))).raw);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.rest)).toEqual({ name: null, host: 'xn--bcher-kva.example', url: 'http://xn--bcher-kva.example/who' });
    expect(parseRaw((await rawExchange(trusted.port, hostOf('bücher.example'))).raw).status).toBe(400);
    expect(parseRaw((await rawExchange(trusted.port, hostOf('evil.example'))).raw).status).toBe(400);
  });
});

describe('static files with non-ASCII names', () => {
  it('serves a name as stored, without Unicode normalization (middleware-static.md)', async () => {
    expect((await send('/static/%E6%97%A5%E6%9C%AC%E8%AA%9E.txt')).text).toBe('ja');
    expect((await send('/static/caf%C3%A9.txt')).text).toBe('nfc');
    expect((await send('/static/ne%CC%81e.txt')).text).toBe('nfd');
    // The other spelling is another name on Linux (macOS's file systems would open it).
    if (process.platform === 'linux') expect((await send('/static/n%C3%A9e.txt')).status).toBe(404);
  });
});
