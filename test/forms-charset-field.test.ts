/**
 * A multipart form's `_charset_` field (HTML form submission, RFC 7578 §4.6): a browser fills a
 * hidden input named `_charset_` with the encoding it sent the form in (a legacy page's:
 * Shift_JIS, windows-1252…), and the text fields without a charset of their own are decoded in
 * it. Over a real socket (`serve`, port 0), through `req.form()` and `req.parts()`.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { Request, Response } from 'tsgi';
import { formEcho } from './fixtures/form-echo.ts';
import { serveForSuite } from './node-helpers.ts';

const BOUNDARY = '----tsgi-charset-field';

/** A multipart body of `parts`: `[name, bytes, partContentType?]`. */
function multipart(parts: Array<[string, Uint8Array | string, string?]>): Buffer {
  const chunks: Buffer[] = [];
  for (const [name, value, type] of parts) {
    let head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n`;
    if (type !== undefined) head += `Content-Type: ${type}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`, 'latin1'), Buffer.from(value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

/** 東京 in Shift_JIS. */
const TOKYO_SJIS = Uint8Array.of(0x93, 0x8c, 0x8b, 0x9e);

const served = serveForSuite(formEcho);

const post = (path: string, body: Buffer) =>
  fetch(`${served.server.url}${path}`, { method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` }, body });

describe('the _charset_ field of a multipart form', () => {
  it('decodes the text fields of a Shift_JIS page in Shift_JIS, wherever _charset_ comes in the form', async () => {
    const res = await post('/', multipart([['city', TOKYO_SJIS], ['_charset_', 'Shift_JIS'], ['note', 'plain']]));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ city: ['東京'], _charset_: ['Shift_JIS'], note: ['plain'] });
  });

  it('decodes the field names after _charset_ in Shift_JIS too, as Chromium writes them (backslash and %22 kept as a browser writes them)', async () => {
    const sjis = Buffer.from(TOKYO_SJIS).toString('latin1');
    const body = multipart([['_charset_', 'Shift_JIS'], [`n${sjis}`, TOKYO_SJIS], [`a\\${sjis}%22`, 'x']]);
    const res = await post('/', body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ n東京: ['東京'], _charset_: ['Shift_JIS'], ['a\\東京"']: ['x'] });
    // Streamed, the names after the _charset_ field.
    const parts = await post('/parts', multipart([['_charset_', 'Shift_JIS'], [`n${sjis}`, TOKYO_SJIS]]));
    expect(await parts.json()).toEqual([
      ['_charset_', 'Shift_JIS'],
      ['n東京', '東京'],
    ]);
  });

  it('decodes windows-1252 (iso-8859-1 read as browsers read it): 0x80 is €', async () => {
    const res = await post('/', multipart([['_charset_', 'ISO-8859-1'], ['price', Uint8Array.of(0x80, 0x35)]]));
    expect(await res.json()).toEqual({ _charset_: ['ISO-8859-1'], price: ['€5'] });
  });

  it('leaves a part that names its own charset to it, and reads UTF-8 without _charset_', async () => {
    const own = await post('/', multipart([['_charset_', 'shift_jis'], ['a', 'é', 'text/plain; charset=utf-8']]));
    expect(await own.json()).toEqual({ _charset_: ['shift_jis'], a: ['é'] });
    const utf8 = await post('/', multipart([['a', 'é東京'], ['b', Uint8Array.of(0xff)]]));
    expect(await utf8.json()).toEqual({ a: ['é東京'], b: ['\uFFFD'] });
    const empty = await post('/', multipart([['_charset_', ''], ['a', 'é']]));
    expect(await empty.json()).toEqual({ _charset_: [''], a: ['é'] });
  });

  it('answers 415 for a _charset_ naming no charset the server decodes', async () => {
    const res = await post('/', multipart([['_charset_', 'klingon'], ['a', 'b']]));
    expect(res.status).toBe(415);
    expect(await res.text()).toMatch(/_charset_/);
  });

  it('req.parts() decodes the fields after _charset_ in it', async () => {
    const res = await post('/parts', multipart([['_charset_', 'shift_jis'], ['city', TOKYO_SJIS]]));
    expect(await res.json()).toEqual([
      ['_charset_', 'shift_jis'],
      ['city', '東京'],
    ]);
  });
});

/** A multipart body whose part heads are given as bytes, as a browser on a legacy page writes them: `[head, content]`. */
function rawMultipart(parts: Array<[Uint8Array, Uint8Array | string]>): Buffer {
  const chunks: Buffer[] = [];
  for (const [head, content] of parts) chunks.push(Buffer.from(`--${BOUNDARY}\r\n`), Buffer.from(head), Buffer.from('\r\n\r\n'), Buffer.from(content), Buffer.from('\r\n'));
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

/** A part head `Content-Disposition: form-data; …` with `params` (text) encoded in `encoding`, as a browser writes it. */
const head = (params: string, encoding = 'shift_jis', type?: string): Uint8Array =>
  iconv.encode(`Content-Disposition: form-data; ${params}${type === undefined ? '' : `\r\nContent-Type: ${type}`}`, encoding);

const namesApp = Request.application(async (req) => {
  const out: Array<[string, string, string?]> = [];
  if (req.pathInfo === '/parts') {
    for await (const part of req.parts()) {
      if (part.kind === 'field') out.push([part.fieldName, part.value]);
      else out.push([part.fieldName, part.filename, await new Response(part.body).text()]);
    }
    return Response.json(out);
  }
  for (const [name, value] of (await req.form()).entries()) out.push([name, value]);
  for (const [name, file] of (await req.files()).entries()) out.push([name, file.filename, await file.text()]);
  return Response.json(out);
});

describe('field names and filenames of a multipart form with a _charset_ field', () => {
  const names = serveForSuite(namesApp);
  const send = (path: string, body: Buffer) =>
    fetch(`${names.server.url}${path}`, { method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` }, body });

  /** A Shift_JIS page's upload form: `_charset_` first, a field named 都市, a file 東京.txt and one 表.txt (0x95 0x5C: a backslash byte). */
  const sjisForm = () =>
    rawMultipart([
      [head('name="_charset_"'), 'Shift_JIS'],
      [head('name="都市"'), TOKYO_SJIS],
      [head('name="添付"; filename="東京.txt"', 'shift_jis', 'text/plain'), 'a'],
      [head('name="表"; filename="表.txt"', 'shift_jis', 'text/plain'), 'b'],
    ]);

  it('req.form() and req.files() read the names and filenames after _charset_ in it', async () => {
    const res = await send('/', sjisForm());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([
      ['_charset_', 'Shift_JIS'],
      ['都市', '東京'],
      ['添付', '東京.txt', 'a'],
      ['表', '表.txt', 'b'],
    ]);
  });

  it('req.parts() reads them in it too', async () => {
    const res = await send('/parts', sjisForm());
    expect(await res.json()).toEqual([
      ['_charset_', 'Shift_JIS'],
      ['都市', '東京'],
      ['添付', '東京.txt', 'a'],
      ['表', '表.txt', 'b'],
    ]);
  });

  it('leaves filename* to its own charset (RFC 8187), and reads names as UTF-8 without _charset_', async () => {
    const extended = await send(
      '/',
      rawMultipart([
        [head('name="_charset_"'), 'shift_jis'],
        [head("name=\"f\"; filename*=UTF-8''%E6%9D%B1.txt", 'latin1', 'text/plain'), 'x'],
      ]),
    );
    expect(await extended.json()).toEqual([
      ['_charset_', 'shift_jis'],
      ['f', '東.txt', 'x'],
    ]);
    const utf8 = await send(
      '/',
      rawMultipart([
        [head('name="都市"', 'utf-8'), 'x'],
        [head('name="f"; filename="東京.txt"', 'utf-8', 'text/plain'), 'y'],
        [head('name="g"; filename="東京.txt"', 'shift_jis', 'text/plain'), 'z'],
      ]),
    );
    expect(await utf8.json()).toEqual([
      ['都市', 'x'],
      ['f', '東京.txt', 'y'],
      ['g', '\uFFFD\uFFFD\uFFFD\uFFFD.txt', 'z'],
    ]);
  });
});
