import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeMultipart, encodeMultipartEntries, encodeUrlencoded, parseForm, type FileSpec } from 'tsgi/forms';

const dec = new TextDecoder();

/** Splits `body` at the given cut points (fractions of its length), to exercise chunk edges. */
async function* split(body: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  const points = [...new Set(cuts.map((c) => Math.floor(c * body.length)))].sort((a, b) => a - b);
  let last = 0;
  for (const p of [...points, body.length]) {
    if (p > last) yield body.slice(last, p);
    last = Math.max(last, p);
  }
}

describe('encodeMultipart', () => {
  it('writes the RFC 7578 layout with a random boundary', () => {
    const a = encodeMultipart({ x: '1' }, { f: { filename: 'a.txt', content: 'hi' } });
    const b = encodeMultipart({ x: '1' });
    const boundary = /boundary=(.+)$/.exec(a.contentType)![1]!;
    expect(a.contentType.startsWith('multipart/form-data; boundary=tsgi-')).toBe(true);
    expect(boundary).not.toBe(/boundary=(.+)$/.exec(b.contentType)![1]);
    expect(dec.decode(a.body)).toBe(
      `--${boundary}\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhi\r\n` +
        `--${boundary}--\r\n`,
    );
  });

  it('percent-encodes quotes and control characters as browsers do, a backslash left as it is', () => {
    const { body } = encodeMultipart({ 'a"b\\c\r\nd': 'v' }, {}, { boundary: 'B' });
    expect(dec.decode(body)).toContain('name="a%22b\\c%0D%0Ad"');
  });

  it('refuses a given boundary that occurs in the content', () => {
    expect(() => encodeMultipart({ a: 'x--B' }, {}, { boundary: 'B' })).toThrow(TypeError);
  });

  it('sends a given boundary that is no token (RFC 2046 allows \'()+_,-./:=? and spaces) quoted, so it is read back', async () => {
    // Unquoted, `boundary=----=_Part_1` is no parameter (RFC 9110 §5.6.6): the form was a 400.
    for (const boundary of ['----=_Part_0_1.2', 'a:b', 'a/b?c', '(x), y']) {
      const { body, contentType } = encodeMultipart({ f: 'v' }, { up: { filename: 'q.txt', content: 'hi' } }, { boundary });
      expect(contentType).toBe(`multipart/form-data; boundary="${boundary}"`);
      const form = await parseForm(split(body, []), contentType);
      expect([...form.fields]).toEqual([['f', 'v']]);
      expect(await form.files.getOne('up').text()).toBe('hi');
    }
    expect(encodeMultipart({}, {}, { boundary: 'tok-en_1' }).contentType).toBe('multipart/form-data; boundary=tok-en_1');
  });

  it("refuses a file's contentType holding a line break, rather than write its text as part headers", async () => {
    // Names and filenames have their control characters percent-encoded; a contentType was
    // written as it is, so a type taken from elsewhere (an upload's metadata) added a header,
    // or a whole part, to the body.
    const contentType = 'text/plain\r\nContent-Disposition: form-data; name="role"\r\n\r\nadmin';
    for (const encode of [
      () => encodeMultipart({}, { up: { filename: 'a.txt', content: 'hi', contentType } }),
      () => encodeMultipartEntries([['up', { filename: 'a.txt', content: 'hi', contentType }]]),
    ]) {
      expect(encode).toThrow(TypeError);
    }
    const { body, contentType: type } = encodeMultipart({}, { up: { filename: 'a.txt', content: 'hi', contentType: 'text/plain; charset=utf-8' } });
    expect((await parseForm(split(body, []), type)).files.getOne('up').contentType).toBe('text/plain');
  });

  it('refuses a given boundary that is no RFC 2046 boundary, rather than send a body no parser reads', () => {
    for (const boundary of ['', 'x'.repeat(71), 'ends in a space ', 'a"b', 'a\r\nX-Injected: 1', 'caf\u00e9', 'a;b']) {
      expect(() => encodeMultipart({ f: 'v' }, {}, { boundary })).toThrow(/RFC 2046/);
      expect(() => encodeMultipartEntries([['f', 'v']], { boundary })).toThrow(/RFC 2046/);
    }
  });

  it('defaults a file type from its extension', async () => {
    const { body, contentType } = encodeMultipart({}, { a: { filename: 'p.png', content: '' }, b: { filename: 'noext', content: '' } });
    const form = await parseForm(split(body, []), contentType);
    expect(form.files.getOne('a').contentType).toBe('image/png');
    expect(form.files.getOne('b').contentType).toBe('application/octet-stream');
  });
});

describe('encodeUrlencoded', () => {
  it('encodes like a browser form', () => {
    const { body, contentType } = encodeUrlencoded({ q: 'a b&c', tag: ['x', 'é'] });
    expect(contentType).toBe('application/x-www-form-urlencoded');
    expect(dec.decode(body)).toBe('q=a+b%26c&tag=x&tag=%C3%A9');
  });
});

// Any Unicode text (no lone surrogates); names and filenames without control characters,
// which the encoder percent-encodes as browsers do.
const text = fc.string({ unit: 'binary', maxLength: 40 });
// eslint-disable-next-line no-control-regex
const name = text.filter((s) => !/[\u0000-\u001f\u007f]/.test(s));
const bytes = fc.uint8Array({ maxLength: 300 });
// A part with an empty filename is a file only when typed application/octet-stream (as
// browsers send an empty file input); otherwise busboy, like RFC 7578, sees a text field.
// With no content too, it is the empty file input itself, which is no upload.
const fileSpec = fc
  .record({
    filename: name,
    content: fc.oneof(text, bytes),
    contentType: fc.option(fc.constantFrom('text/plain', 'application/octet-stream', 'image/png'), { nil: undefined }),
  })
  .filter((spec) => spec.filename !== '' || ((spec.contentType === undefined || spec.contentType === 'application/octet-stream') && spec.content.length > 0));
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

describe('encode → parse round trip (property)', () => {
  it('multipart: fields and small files come back as sent, in order, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(name, text), { maxLength: 8 }),
        fc.array(fc.tuple(name, fileSpec), { maxLength: 4 }),
        cuts,
        async (fields, files, cutPoints) => {
          const { body, contentType } = encodeMultipart(fields, files);
          const form = await parseForm(split(body, cutPoints), contentType, { spoolThreshold: 100 });
          try {
            expect([...form.fields]).toEqual(fields);
            expect(form.files.size).toBe(files.length);
            const got = [...form.files];
            for (let i = 0; i < files.length; i++) {
              const [key, spec] = files[i] as [string, FileSpec];
              const [gotKey, upload] = got[i]!;
              expect(gotKey).toBe(key);
              expect(upload.filename).toBe(spec.filename);
              const expected = typeof spec.content === 'string' ? new TextEncoder().encode(spec.content) : spec.content;
              expect(upload.size).toBe(expected.length);
              expect([...(await upload.bytes())]).toEqual([...expected]);
              if (spec.contentType) expect(upload.contentType).toBe(spec.contentType);
            }
          } finally {
            await form.cleanup();
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('urlencoded: fields come back as sent, in order, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(text, text), { maxLength: 10 }), cuts, async (fields, cutPoints) => {
        const { body, contentType } = encodeUrlencoded(fields);
        const form = await parseForm(split(body, cutPoints), contentType);
        expect([...form.fields]).toEqual(fields);
      }),
      { numRuns: 200 },
    );
  });
});
