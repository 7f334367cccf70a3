import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, Response, serve } from 'tsgi';

/**
 * The multipart guard reads each part's head before busboy does, and hands busboy's field and
 * file events the names and charsets it read, in body order: where its reading and busboy's
 * differ on which parts are text fields, every later field gets another part's.
 *
 * A part whose `Content-Type` names `application/octet-stream` with parameters busboy cannot
 * read (a trailing `;`, `charset=` with no value: what a hand-written client builds from an
 * empty parameter). busboy reads no type then (`text/plain`) and, the part having no filename,
 * hands it over as a text field, as Werkzeug and the Fetch Standard read a part without a
 * filename. The guard took it for a file: the names and charsets it reads for busboy's fields
 * went to the field after each such part, so a field came out under another part's name, and a
 * part's own `charset` was lost.
 */
const app = Request.application(async (req) => {
  if (req.query.has('parts')) {
    const fields: [string, string][] = [];
    const files: [string, string][] = [];
    for await (const part of req.parts()) {
      if (part.kind === 'field') fields.push([part.fieldName, part.value]);
      else {
        files.push([part.fieldName, part.filename]);
        for await (const _ of part.body);
      }
    }
    return Response.json({ fields, files });
  }
  const { fields, files } = await req.parseForm();
  return Response.json({ fields: [...fields], files: [...files].map(([k, f]) => [k, f.filename]) });
});

let server: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  server = await serve(app, { host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await server.close();
});

const latin1 = (text: string) => Buffer.from(text, 'latin1');

/** Posts the multipart `body` (boundary `XX`) to both readers, `parseForm` and `req.parts()`, and checks each answers 200 with `expected`. */
async function expectBothReaders(body: string | Buffer, expected: { fields: string[][]; files: string[][] }): Promise<void> {
  for (const query of ['', '?parts']) {
    const res = await fetch(new URL(`/${query}`, server.url), {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=XX' },
      body,
    });
    expect(res.status, query || 'parseForm').toBe(200);
    expect(await res.json()).toEqual(expected);
  }
}

describe('a part typed application/octet-stream with parameters busboy cannot read', () => {
  for (const type of ['application/octet-stream;', 'application/octet-stream; charset=']) {
    it(`is the text field busboy reads, and leaves the next parts their own names and charsets: ${type}`, async () => {
      const body = latin1(
        `--XX\r\nContent-Disposition: form-data; name="a"\r\nContent-Type: ${type}\r\n\r\nabc\r\n` +
          `--XX\r\nContent-Disposition: form-data; name="b\\c"\r\n\r\nv\r\n` +
          `--XX\r\nContent-Disposition: form-data; name="latin"\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n\u00e9\r\n` +
          `--XX\r\nContent-Disposition: form-data; name="d"\r\n\r\nw\r\n--XX--\r\n`,
      );
      await expectBothReaders(body, {
        fields: [
          ['a', 'abc'],
          ['b\\c', 'v'],
          ['latin', 'é'],
          ['d', 'w'],
        ],
        files: [],
      });
    });
  }

  it('still makes a file of a readable application/octet-stream part', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=XX' },
      body: `--XX\r\nContent-Disposition: form-data; name="a"; filename="a.bin"\r\nContent-Type: Application/Octet-Stream ; x=y\r\n\r\nabc\r\n--XX\r\nContent-Disposition: form-data; name="b\\c"\r\n\r\nv\r\n--XX--\r\n`,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ fields: [['b\\c', 'v']], files: [['a', 'a.bin']] });
  });
});

describe('a repeated header field of a part, folded over two lines (obs-fold)', () => {
  // busboy reads the first line of a field and folds each continuation into the line above it;
  // the guard folded the continuation of a repeated line into the first one, and so read
  // another type or another filename than busboy.
  const cases: Record<string, [head: string, files: [string, string][]]> = {
    'a second Content-Disposition whose continuation names a file': ['Content-Disposition: form-data; name="a"\r\nContent-Disposition: form-data; name="x"\r\n ; filename="x.txt"', []],
    'a second Content-Type whose continuation spoils the first one': ['Content-Disposition: form-data; name="a"\r\nContent-Type: application/octet-stream\r\nContent-Type: text/plain\r\n ;', [['a', '']]],
  };
  for (const [name, [head, files]] of Object.entries(cases)) {
    it(`is read from its first line, as busboy reads it: ${name}`, async () => {
      const fields = files.length === 0 ? [['a', 'abc'], ['b\\c', 'v']] : [['b\\c', 'v']];
      await expectBothReaders(`--XX\r\n${head}\r\n\r\nabc\r\n--XX\r\nContent-Disposition: form-data; name="b\\c"\r\n\r\nv\r\n--XX--\r\n`, { fields, files });
    });
  }
});

describe('a filename* in a charset busboy decodes and the guard did not read', () => {
  // busboy decodes a `filename*` in US-ASCII, latin1, windows-1252… (RFC 8187 names UTF-8 and
  // ISO-8859-1 only) and makes the part a file; the guard read no filename there and took it
  // for a text field.
  for (const filename of ["us-ascii''a.txt", "latin1''a.txt", "windows-1252''a.txt"]) {
    it(`is a file, and the next parts keep their own names: filename*=${filename}`, async () => {
      await expectBothReaders(`--XX\r\nContent-Disposition: form-data; name="a"; filename*=${filename}\r\n\r\nabc\r\n--XX\r\nContent-Disposition: form-data; name="b\\c"\r\n\r\nv\r\n--XX--\r\n`, {
        fields: [['b\\c', 'v']],
        files: [['a', 'a.txt']],
      });
    });
  }

  it("is held to maxFileSize, not to a text field's maxFieldSize (500 000 bytes)", async () => {
    const content = 'x'.repeat(600_000);
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=XX' },
      body: `--XX\r\nContent-Disposition: form-data; name="a"; filename*=us-ascii''big.bin\r\n\r\n${content}\r\n--XX--\r\n`,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ fields: [], files: [['a', 'big.bin']] });
  });
});

describe('a part head the guard and busboy both read', () => {
  // The parse checks each field and file busboy hands over against the name the guard read in its
  // head (a 400 when they differ, never a field under another part's name): a name folded inside
  // its quotes, whitespace and all, must read the same to both, and so pass.
  it('keeps a name folded inside its quotes (obs-fold) as busboy joins it, whitespace kept, for a field and a file', async () => {
    const body = latin1(
      `--XX\r\nContent-Disposition: form-data; name="a  \r\n   b"\r\n\r\nv\r\n` +
        `--XX\r\nContent-Disposition: form-data; name="f\r\n\tg"; filename="x.txt"\r\nContent-Type: text/plain\r\n\r\nfile\r\n` +
        `--XX\r\nContent-Disposition: form-data;\r\n name="c"\r\n\r\nw\r\n--XX--\r\n`,
    );
    await expectBothReaders(body, {
      fields: [
        ['a     b', 'v'],
        ['c', 'w'],
      ],
      files: [['f\tg', 'x.txt']],
    });
  });
});
