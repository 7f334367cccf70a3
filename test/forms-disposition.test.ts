import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, Response, serve } from 'tsgi';

/**
 * Parts whose `Content-Disposition: form-data` busboy cannot read (it then drops the whole
 * part without a word): the form readers answer 400 instead of a form with a field missing.
 */
const app = Request.application(async (req) => {
  if (req.query.has('form')) return Response.json({ fields: [...(await req.form())] });
  if (req.query.has('files')) return Response.json({ files: [...(await req.files())].map(([k, f]) => [k, f.filename]) });
  if (req.query.has('parts')) {
    const names: string[] = [];
    for await (const part of req.parts()) {
      names.push(part.fieldName);
      if (part.kind === 'file') for await (const _ of part.body);
    }
    return Response.json({ names });
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

const post = (disposition: string, query = '') =>
  fetch(new URL(`/${query}`, server.url), {
    method: 'POST',
    headers: { 'Content-Type': 'multipart/form-data; boundary=XX' },
    body: `--XX\r\nContent-Disposition: form-data; name="keep"\r\n\r\nk\r\n--XX\r\nContent-Disposition: ${disposition}\r\n\r\nhello\r\n--XX--\r\n`,
  });

describe('a part with a Content-Disposition busboy cannot read', () => {
  const unreadable = [
    'form-data; name="a";', // a trailing semicolon
    'form-data; name="a"; filename=my file.txt', // an unquoted value with a space
    'form-data; name = "a"', // spaces around "="
    `form-data; name="a"; filename*=UTF-8''100%.txt`, // a bad escape in filename*
    `form-data; name="a"; filename*=UTF-8''`, // an empty filename*
    'form-data name="a"', // no ";": no type busboy reads, nor one to name
    'form-data,name="a"',
  ];
  for (const disposition of unreadable) {
    it(`answers 400 naming the part, not a form without it: ${disposition}`, async () => {
      for (const query of ['', '?parts']) {
        const res = await post(disposition, query);
        expect(res.status).toBe(400);
        const text = await res.text();
        expect(text).toContain('Content-Disposition');
        expect(text).toContain('part 2');
        expect(text).toContain('cannot read');
      }
    });
  }

  it('still reads the dispositions busboy takes', async () => {
    const res = await post('form-data;name="a" ; filename="b.txt"');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ fields: [['keep', 'k']], files: [['a', 'b.txt']] });
  });
});

describe('a part whose Content-Disposition is not form-data', () => {
  // RFC 7578 §4.2: each part MUST have a form-data disposition. busboy skipped such a part,
  // so the app got a form without it in silence.
  const cases = ['attachment; name="a"', 'inline; name="a"; filename="a.txt"', 'Attachment'];
  for (const disposition of cases) {
    it(`answers 400 naming the part and the type, from form(), files() and parts(): ${disposition}`, async () => {
      const type = disposition.split(';')[0]!.toLowerCase();
      for (const query of ['?form', '?files', '?parts', '']) {
        const res = await post(disposition, query);
        expect(res.status).toBe(400);
        const text = await res.text();
        expect(text).toContain(`part 2 has Content-Disposition type '${type}'`);
        expect(text).toContain('RFC 7578 §4.2');
      }
    });
  }
});

describe('a part without a Content-Disposition', () => {
  // RFC 7578 §4.2: each part MUST have one; Werkzeug's MultipartDecoder raises
  // "Missing Content-Disposition header". busboy dropped the part without a word.
  const postPart = (headers: string, query = '') =>
    fetch(new URL(`/${query}`, server.url), {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=XX' },
      body: `--XX\r\nContent-Disposition: form-data; name="keep"\r\n\r\nk\r\n--XX\r\n${headers}\r\nhello\r\n--XX--\r\n`,
    });
  const cases: Record<string, string> = {
    'a part with other fields only': 'Content-Type: text/plain\r\n',
    'a part with no header at all': '',
  };
  for (const [name, headers] of Object.entries(cases)) {
    it(`answers 400 naming the part, not a form without it: ${name}`, async () => {
      for (const query of ['', '?parts']) {
        const res = await postPart(headers, query);
        expect(res.status).toBe(400);
        const text = await res.text();
        expect(text).toContain('part 2 has no Content-Disposition');
      }
    });
  }
});

describe('a boundary delimiter followed by neither CRLF nor "--"', () => {
  const postBody = (body: string, query = '') =>
    fetch(new URL(`/${query}`, server.url), { method: 'POST', headers: { 'Content-Type': 'multipart/form-data; boundary=XX' }, body });
  const cases: Record<string, string> = {
    // transport padding (RFC 2046 §5.1.1), which busboy does not read: every part was dropped
    'padding after the first delimiter': `--XX  \r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XX--\r\n`,
    // a boundary that also starts a line of the content: the parts after it were dropped
    'the boundary as a prefix in the content': `--XX\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XXabc\r\nContent-Disposition: form-data; name="b"\r\n\r\n2\r\n--XX--\r\n`,
    'a single dash after the delimiter': `--XX\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XX-\r\nContent-Disposition: form-data; name="b"\r\n\r\n2\r\n--XX--\r\n`,
  };
  for (const [name, body] of Object.entries(cases)) {
    it(`answers 400, not a form with the parts after it missing: ${name}`, async () => {
      for (const query of ['', '?parts']) {
        const res = await postBody(body, query);
        expect(res.status).toBe(400);
        expect(await res.text()).toContain('boundary');
      }
    });
  }

  it('still reads a preamble, an epilogue and the closing delimiter', async () => {
    const res = await postBody(`preamble\r\n--XX\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XX--\r\nepilogue --XX junk`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ fields: [['a', '1']], files: [] });
  });
});

describe('a part with more header fields than busboy reads', () => {
  // busboy keeps the first 1999 header fields of a part (MAX_HEADER_PAIRS, from Node) and
  // ignores the rest: a Content-Disposition after them left the part without one, dropped in
  // silence, though the block is well within maxPartHeaderSize (2000 empty fields, `a:`, are 8 kB).
  const postFields = (count: number, query = '') =>
    fetch(new URL(`/${query}`, server.url), {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=XX' },
      body: `--XX\r\nContent-Disposition: form-data; name="keep"\r\n\r\nk\r\n--XX\r\n${'a:\r\n'.repeat(count - 1)}Content-Disposition: form-data; name="last"\r\n\r\nhello\r\n--XX--\r\n`,
    });

  it('answers 400 naming the part, not a form without it, from form(), files() and parts()', async () => {
    for (const query of ['?form', '?files', '?parts', '']) {
      const res = await postFields(2000, query);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('part 2 has more than 1999 header fields');
    }
  });

  it('reads a part of 1999 header fields, the last its Content-Disposition', async () => {
    const res = await postFields(1999);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ fields: [['keep', 'k'], ['last', 'hello']], files: [] });
  });
});

describe('a part named by name* (RFC 8187) alone', () => {
  // busboy reads no name* (only filename*), so the field came back under '' with its name
  // lost; Werkzeug reads it as the name. urllib3 before 1.25 named non-ASCII fields so.
  const cases = [`form-data; name*=UTF-8''%C3%A9t%C3%A9`, `form-data; name*=utf-8''doc; filename="a.txt"`];
  for (const disposition of cases) {
    it(`answers 400 naming the part, not a field without its name, from form(), files() and parts(): ${disposition}`, async () => {
      for (const query of ['?form', '?files', '?parts', '']) {
        const res = await post(disposition, query);
        expect(res.status).toBe(400);
        const text = await res.text();
        expect(text).toContain('part 2');
        expect(text).toContain('name*');
      }
    });
  }
});

describe('a part without a name (RFC 7578 §4.2 requires one)', () => {
  // The part came back as a field or file named '', as a part with name="" does; the Fetch
  // Standard's multipart parser (a browser's formData()) refuses it, Django skips it.
  const cases = ['form-data', 'form-data; filename="a.txt"', `form-data; filename*=UTF-8''%C3%A9.txt`, 'form-data; name*0="a"'];
  for (const disposition of cases) {
    it(`answers 400 naming the part, not a field named '', from form(), files() and parts(): ${disposition}`, async () => {
      for (const query of ['?form', '?files', '?parts', '']) {
        const res = await post(disposition, query);
        expect(res.status).toBe(400);
        const text = await res.text();
        expect(text).toContain('part 2 has no name');
      }
    });
  }

  it('still reads name="" as the field named \'\'', async () => {
    const res = await post('form-data; name=""');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ fields: [['keep', 'k'], ['', 'hello']], files: [] });
  });
});

describe('a filename split over RFC 2231 continuations (filename*0, filename*1…)', () => {
  // busboy reads no continuation, so the file came back as a text field holding its content
  // (past maxFieldSize, a 413 for a field); Werkzeug joins them; RFC 7578 §4.2 has none.
  const cases = ['form-data; name="f"; filename*0="con"; filename*1="t.txt"', `form-data; name="f"; filename*0*=UTF-8''%C3%A9; filename*1=".txt"`];
  for (const disposition of cases) {
    it(`answers 400 naming the part, not a text field, from form(), files() and parts(): ${disposition}`, async () => {
      for (const query of ['?form', '?files', '?parts', '']) {
        const res = await post(disposition, query);
        expect(res.status).toBe(400);
        const text = await res.text();
        expect(text).toContain('part 2');
        expect(text).toContain('filename*0');
      }
    });
  }
});
