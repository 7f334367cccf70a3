import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HTTPBadRequest, HTTPException, Request } from 'tsgi';
import { encodeMultipart, encodeUrlencoded, parseForm, safeFilename } from 'tsgi/forms';
import { formFromEnviron } from '../src/forms/parse.ts';
import { rejection as rejectionOf } from './helpers.ts';

const enc = new TextEncoder();

/** Yields `body` in chunks of `size` bytes. */
async function* chunked(body: Uint8Array | string, size = 1024): AsyncGenerator<Uint8Array> {
  const bytes = typeof body === 'string' ? enc.encode(body) : body;
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

/** The HTTPException a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<HTTPException> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(HTTPException);
  return error as HTTPException;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsgi-forms-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseForm: multipart round trip', () => {
  it('parses fields and files with their metadata', async () => {
    const { body, contentType } = encodeMultipart(
      { title: 'Hello', tags: ['a', 'b'] },
      {
        doc: { filename: 'notes.txt', content: 'some text' },
        blob: { filename: 'data.bin', content: new Uint8Array([0, 1, 2, 255]), contentType: 'application/x-custom' },
      },
    );
    const form = await parseForm(chunked(body, 13), contentType, { tmpDir: dir });
    expect(form.fields.toJSON()).toEqual({ title: ['Hello'], tags: ['a', 'b'] });
    const doc = form.files.getOne('doc');
    expect(doc).toMatchObject({ fieldName: 'doc', filename: 'notes.txt', contentType: 'text/plain', size: 9, inMemory: true });
    expect(await doc.text()).toBe('some text');
    const blob = form.files.getOne('blob');
    expect(blob.contentType).toBe('application/x-custom');
    expect([...(await blob.bytes())]).toEqual([0, 1, 2, 255]);
    // re-readable
    const again: number[] = [];
    for await (const chunk of blob.stream()) again.push(...chunk);
    for await (const chunk of blob.stream()) again.push(...chunk);
    expect(again).toEqual([0, 1, 2, 255, 0, 1, 2, 255]);
    await blob.saveTo(join(dir, 'saved.bin'));
    expect([...(await readFile(join(dir, 'saved.bin')))]).toEqual([0, 1, 2, 255]);
    await form.cleanup();
  });

  it('keeps repeated names in order, for fields and files', async () => {
    const { body, contentType } = encodeMultipart(
      [['a', '1'], ['b', '2'], ['a', '3'], ['c', ''], ['a', '4']],
      [['f', { filename: 'one', content: '1' }], ['g', { filename: 'two', content: '2' }], ['f', { filename: 'three', content: '3' }]],
    );
    const form = await parseForm(chunked(body, 5), contentType);
    expect([...form.fields]).toEqual([['a', '1'], ['b', '2'], ['a', '3'], ['c', ''], ['a', '4']]);
    expect(form.fields.get('a')).toBe('1');
    expect(form.fields.getAll('a')).toEqual(['1', '3', '4']);
    expect(form.files.getAll('f').map((f) => f.filename)).toEqual(['one', 'three']);
    expect([...form.files].map(([k, f]) => `${k}:${f.filename}`)).toEqual(['f:one', 'g:two', 'f:three']);
  });

  it('decodes UTF-8 names, values and filenames', async () => {
    const { body, contentType } = encodeMultipart(
      { 'naïve 名前': 'café ☕ 😀', 'quote"back\\slash': 'v' },
      { 'файл': { filename: 'résumé 履歴書.txt', content: 'ü' } },
    );
    const form = await parseForm(chunked(body, 3), contentType);
    expect(form.fields.get('naïve 名前')).toBe('café ☕ 😀');
    expect(form.fields.get('quote"back\\slash')).toBe('v');
    const file = form.files.getOne('файл');
    expect(file.filename).toBe('résumé 履歴書.txt');
    expect(await file.text()).toBe('ü');
  });

  it('reads RFC 5987 filename* and a browser-style raw body', async () => {
    const boundary = '----WebKitFormBoundaryAbC123';
    const raw =
      `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="up"; filename*=UTF-8''%E2%82%AC%20rates.txt\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\n\r\n` +
      `euro\r\n` +
      `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="empty"; filename=""\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n` +
      `\r\n` +
      `--${boundary}--\r\n`;
    const form = await parseForm(chunked(raw, 10), `multipart/form-data; boundary=${boundary}`);
    const up = form.files.getOne('up');
    expect(up.filename).toBe('€ rates.txt');
    expect(up.contentType).toBe('text/plain');
    expect(await up.text()).toBe('euro');
    // the file input left empty is no upload (and no field either)
    expect(form.files.has('empty')).toBe(false);
    expect(form.files.size).toBe(1);
    expect(form.fields.size).toBe(0);
  });

  it('keeps the filename as sent and offers safeFilename', async () => {
    const { body, contentType } = encodeMultipart({}, { f: { filename: 'C:\\Users\\me\\..\\evil.txt', content: 'x' } });
    const form = await parseForm(chunked(body), contentType);
    const file = form.files.getOne('f');
    expect(file.filename).toBe('C:\\Users\\me\\..\\evil.txt');
    expect(file.safeFilename).toBe('evil.txt');
    expect(safeFilename('../../etc/passwd')).toBe('passwd');
    expect(safeFilename('dir/..')).toBe('');
    expect(safeFilename(' a\u0000b\u001f.txt ')).toBe('ab.txt');
    expect(safeFilename('日本語.txt')).toBe('日本語.txt');
    // Joiners shape a name, they hide nothing: a Persian word's ZWNJ, an emoji sequence's ZWJ.
    expect(safeFilename('نامه\u200cها.txt')).toBe('نامه\u200cها.txt');
    expect(safeFilename('\u{1F469}\u200d\u{1F4BB}.png')).toBe('\u{1F469}\u200d\u{1F4BB}.png');
    expect(safeFilename('exe.\u202egnp')).toBe('exe.gnp');
    expect(safeFilename('a\u200bb.txt')).toBe('ab.txt');
  });

  it('answers an empty form for an empty multipart form and for an empty body', async () => {
    const { body, contentType } = encodeMultipart();
    const form = await parseForm(chunked(body), contentType);
    expect(form.fields.size + form.files.size).toBe(0);
    const none = await parseForm(chunked(''), contentType);
    expect(none.fields.size + none.files.size).toBe(0);
  });

  it('does not read the body for other content types', async () => {
    let pulled = 0;
    const input = (async function* () {
      pulled++;
      yield enc.encode('{"a":1}');
    })();
    for (const type of ['application/json', 'text/plain', '', undefined, 'multipart/mixed; boundary=x']) {
      const form = await parseForm(input, type);
      expect(form.fields.size + form.files.size).toBe(0);
    }
    expect(pulled).toBe(0);
  });
});

describe('safeFilename in linear time', () => {
  it('trims a name holding a run of 200,000 spaces at once (a trailing-trim regex retried at each space is quadratic: minutes)', () => {
    // No clock: the test's own timeout is the bound, a thousand times what the linear trim takes.
    expect(safeFilename(`a${' '.repeat(200_000)}b.txt`)).toBe('a.txt');
    expect(safeFilename(`${'. '.repeat(100_000)}x${' .'.repeat(100_000)}`)).toBe('x');
  });
});

describe('parseForm: spooling', () => {
  it('spools a big file to disk and removes it on cleanup', async () => {
    const big = new Uint8Array(600 * 1024).map((_, i) => i % 251);
    const { body, contentType } = encodeMultipart({ note: 'x' }, { big: { filename: 'big.bin', content: big }, small: { filename: 's.txt', content: 'small' } });
    const form = await parseForm(chunked(body, 64 * 1024), contentType, { tmpDir: dir });
    const file = form.files.getOne('big');
    expect(file.size).toBe(big.length);
    expect(file.inMemory).toBe(false);
    expect(file.path).toBeDefined();
    expect(file.path!.startsWith(dir)).toBe(true);
    expect(existsSync(file.path!)).toBe(true);
    expect(Buffer.from(await file.bytes()).equals(Buffer.from(big))).toBe(true);
    let streamed = 0;
    for await (const chunk of file.stream()) streamed += chunk.byteLength;
    expect(streamed).toBe(big.length);
    await file.saveTo(join(dir, 'copy.bin'));
    expect((await readFile(join(dir, 'copy.bin'))).length).toBe(big.length);
    expect(form.files.getOne('small').inMemory).toBe(true);

    await form.cleanup();
    expect(existsSync(file.path!)).toBe(false);
    expect(await readdir(dir)).toEqual(['copy.bin']); // the spool directory itself is gone
    await expect(file.bytes()).rejects.toThrow(/cleaned up/);
    expect(await form.files.getOne('small').text()).toBe('small');
    await form.cleanup(); // idempotent
  });

  it('honours spoolThreshold and Symbol.asyncDispose', async () => {
    const { body, contentType } = encodeMultipart({}, { f: { filename: 'a', content: '12345678901' } });
    const form = await parseForm(chunked(body, 4), contentType, { tmpDir: dir, spoolThreshold: 10 });
    const file = form.files.getOne('f');
    expect(file.inMemory).toBe(false);
    expect(await file.text()).toBe('12345678901');
    await form[Symbol.asyncDispose]();
    expect(existsSync(file.path!)).toBe(false);
  });
});

describe('parseForm: malformed multipart answers 400', () => {
  const good = encodeMultipart({ a: '1' }, { f: { filename: 'f.txt', content: 'file content here' } });

  it.each([
    ['a missing boundary parameter', 'multipart/form-data', /boundary/],
    ['an empty boundary', 'multipart/form-data; boundary=""', /boundary/],
    ['a boundary over 70 characters', `multipart/form-data; boundary=${'b'.repeat(71)}`, /boundary/],
    ['a boundary with a forbidden character', 'multipart/form-data; boundary=a@b', /boundary/],
  ])('%s', async (_label, type, reason) => {
    const error = await rejection(parseForm(chunked(good.body), type));
    expect(error).toBeInstanceOf(HTTPBadRequest);
    expect(error.detail).toMatch(reason);
  });

  it('a truncated body', async () => {
    const cut = good.body.subarray(0, good.body.length - 30);
    const error = await rejection(parseForm(chunked(cut, 7), good.contentType, { tmpDir: dir }));
    expect(error.code).toBe(400);
    expect(error.detail).toMatch(/Malformed multipart body: unexpected end/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('no closing boundary', async () => {
    const text = new TextDecoder().decode(good.body).replace(/--\r\n$/, '\r\n');
    const error = await rejection(parseForm(chunked(text), good.contentType));
    expect(error.code).toBe(400);
    expect(error.detail).toMatch(/unexpected end/);
  });

  it('a body that is not multipart at all', async () => {
    const error = await rejection(parseForm(chunked('just some text'), good.contentType));
    expect(error.code).toBe(400);
  });

  it('a malformed part header', async () => {
    const boundary = 'xyz';
    const raw = `--${boundary}\r\nContent-Disposition form-data; name="a"\r\n\r\nv\r\n--${boundary}--\r\n`;
    const error = await rejection(parseForm(chunked(raw), `multipart/form-data; boundary=${boundary}`));
    expect(error.code).toBe(400);
    expect(error.detail).toMatch(/part header/);
  });

  it('a body that breaks off (client gone)', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield good.body.subarray(0, 20);
      throw new Error('ECONNRESET');
    }
    const error = await rejection(parseForm(broken(), good.contentType));
    expect(error.code).toBe(400);
    expect(error.detail).toMatch(/could not be read/);
  });
});

describe('parseForm: urlencoded', () => {
  it('round trips fields in order, with UTF-8 and odd characters', async () => {
    const fields: Array<[string, string]> = [['a', 'b c'], ['?q', '&=+%'], ['a', 'é☕😀'], ['', ''], ['k', '']];
    const { body, contentType } = encodeUrlencoded(fields);
    const form = await parseForm(chunked(body, 3), contentType);
    expect([...form.fields]).toEqual(fields);
    expect(form.files.size).toBe(0);
  });

  it('decodes like MultiDict.fromQueryString (lenient)', async () => {
    const raw = 'a=%zz&&b&c=%E2%82%AC+x&d=%FF&=e';
    const form = await parseForm(chunked(raw, 2), 'application/x-www-form-urlencoded; charset=utf-8');
    expect([...form.fields]).toEqual([['a', '%zz'], ['b', ''], ['c', '€ x'], ['d', '\uFFFD'], ['', 'e']]);
  });

  it('answers an empty form for an empty body', async () => {
    const form = await parseForm(chunked(''), 'application/x-www-form-urlencoded');
    expect(form.fields.size).toBe(0);
  });

  it('decodes a declared charset other than UTF-8; answers 415 for one no decoder knows', async () => {
    const latin = await parseForm(chunked('a=%E9'), 'application/x-www-form-urlencoded; charset=latin1');
    expect(latin.fields.get('a')).toBe('é');
    const error = await rejectionOf(parseForm(chunked('a=%E9'), 'application/x-www-form-urlencoded; charset=x-no-such'));
    expect(error).toBeInstanceOf(HTTPException);
    expect((error as HTTPException).code).toBe(415);
    const ascii = await parseForm(chunked('a=b'), 'application/x-www-form-urlencoded; charset=US-ASCII');
    expect(ascii.fields.get('a')).toBe('b');
  });

  it.each(['UTF8', 'utf8', 'Utf-8', '"utf-8"', 'unicode-1-1-utf-8', 'x-unicode20utf8'])('takes the WHATWG label %s for UTF-8', async (label) => {
    const form = await parseForm(chunked('a=%E2%82%AC'), `application/x-www-form-urlencoded; charset=${label}`);
    expect(form.fields.get('a')).toBe('€');
  });
});

describe('formFromEnviron', () => {
  it('parses tsgi.input once and answers the same form to later callers', async () => {
    const { body, contentType } = encodeMultipart({ a: '1' }, { f: { filename: 'x.txt', content: 'x' } });
    const { environ } = Request.blank('/upload', { method: 'POST', body, headers: { 'Content-Type': contentType } });
    const first = await formFromEnviron(environ);
    const second = await formFromEnviron(environ);
    expect(second).toBe(first);
    expect(first.fields.get('a')).toBe('1');
    expect(await first.files.getOne('f').text()).toBe('x');
  });

  it('refuses a declared CONTENT_LENGTH past maxBodySize before reading', async () => {
    const { environ } = Request.blank('/', { method: 'POST', body: 'a=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    environ.CONTENT_LENGTH = '5000';
    const error = await rejection(formFromEnviron(environ, { maxBodySize: 4000 }));
    expect(error.code).toBe(413);
    expect(error.detail).toMatch(/^maxBodySize exceeded/);
  });
});
