/**
 * A urlencoded form's `_charset_` field (HTML form submission: a hidden input named
 * `_charset_` is sent with the encoding the browser used, whatever the form's enctype). A
 * Shift_JIS page's plain `<form method=post>` posts `_charset_=Shift_JIS&city=%93%8C%8B%9E`
 * with no `charset` parameter: its fields are decoded in the charset it names, as a multipart
 * form's are. Over a real socket (`serve`, port 0), through `req.form()` and `req.parts()`.
 */
import { describe, expect, it } from 'vitest';
import { formEcho } from './fixtures/form-echo.ts';
import { serveForSuite } from './node-helpers.ts';

const served = serveForSuite(formEcho);

const post = (body: string, type = 'application/x-www-form-urlencoded', path = '/') =>
  fetch(`${served.server.url}${path}`, { method: 'POST', headers: { 'Content-Type': type }, body });

describe('the _charset_ field of a urlencoded form', () => {
  it('decodes the fields of a Shift_JIS page in Shift_JIS, wherever _charset_ comes', async () => {
    const res = await post('city=%93%8C%8B%9E&_charset_=Shift_JIS&note=plain');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ city: ['東京'], _charset_: ['Shift_JIS'], note: ['plain'] });
  });

  it('decodes names too, and windows-1252 for iso-8859-1 (0x80 is €); any case of the name', async () => {
    const res = await post('_CHARSET_=ISO-8859-1&pr%E9is=%805');
    expect(await res.json()).toEqual({ _CHARSET_: ['ISO-8859-1'], préis: ['€5'] });
  });

  it('keeps the order of repeated fields when a late _charset_ re-decodes some of them', async () => {
    const res = await post('a=%93%8C&b=x&a=plain&a=%8B%9E&%5Fcharset%5F=Shift_JIS', 'application/x-www-form-urlencoded', '/parts');
    expect(await res.json()).toEqual([['a', '東'], ['b', 'x'], ['a', 'plain'], ['a', '京'], ['_charset_', 'Shift_JIS']]);
  });

  it('re-decodes ASCII-only escapes that read otherwise in ISO-2022-JP (ESC sequences)', async () => {
    const res = await post('city=%1B%24B%45%6C%35%7E%1B%28B&_charset_=ISO-2022-JP');
    expect(await res.json()).toEqual({ city: ['東京'], _charset_: ['ISO-2022-JP'] });
  });

  it('reads UTF-8 without _charset_, with an empty one, or with _charset_=UTF-8', async () => {
    expect(await (await post('a=%C3%A9&b=%FF')).json()).toEqual({ a: ['é'], b: ['\uFFFD'] });
    expect(await (await post('_charset_=&a=%C3%A9')).json()).toEqual({ _charset_: [''], a: ['é'] });
    expect(await (await post('_charset_=UTF-8&a=%C3%A9')).json()).toEqual({ _charset_: ['UTF-8'], a: ['é'] });
  });

  it('leaves a declared charset parameter in charge', async () => {
    const res = await post('_charset_=Shift_JIS&city=%C5%EC%B5%FE', 'application/x-www-form-urlencoded; charset=euc-jp');
    expect(await res.json()).toEqual({ _charset_: ['Shift_JIS'], city: ['東京'] });
  });

  it('answers 415 for a _charset_ naming no charset the server decodes', async () => {
    const res = await post('_charset_=klingon&a=b');
    expect(res.status).toBe(415);
    expect(await res.text()).toMatch(/_charset_/);
  });

  it('req.parts() decodes the fields in it too', async () => {
    const res = await post('_charset_=shift_jis&city=%93%8C%8B%9E', undefined, '/parts');
    expect(await res.json()).toEqual([
      ['_charset_', 'shift_jis'],
      ['city', '東京'],
    ]);
  });
});
