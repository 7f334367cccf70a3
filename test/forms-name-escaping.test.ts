/**
 * Field names and filenames in a `multipart/form-data` body as browsers write them (HTML
 * Living Standard, "multipart/form-data encoding algorithm": `"` as `%22`, CR as `%0D`, LF as
 * `%0A`, nothing else escaped) and as the Fetch Standard's parser reads them back
 * ("parse a multipart/form-data name", what `Request.formData()` does).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, Response, serve } from 'tsgi';
import { encodeMultipartEntries } from 'tsgi/forms';
import { TestClient } from 'tsgi/testing';

const PAGE = `<!doctype html><title>t</title><form method="post" action="/upload?raw" enctype="multipart/form-data">
  <input name='say "hi"' value="v">
  <input type="file" name="doc">
  <button>Send</button></form>`;

/** The page at `/`; at `/upload` the raw body (`?raw`) or the names the form readers give. */
const app = Request.application(async (req) => {
  if (req.pathInfo === '/') return new Response(PAGE, { contentType: 'text/html' });
  if (req.query.has('raw')) return new Response(await req.bytes(), { contentType: 'text/plain' });
  if (req.query.has('parts')) {
    const seen: string[][] = [];
    for await (const part of req.parts()) {
      if (part.kind === 'file') {
        seen.push([part.fieldName, part.filename]);
        await part.body.cancel();
      } else seen.push([part.fieldName]);
    }
    return Response.json(seen);
  }
  const { fields, files } = await req.parseForm();
  return Response.json({ fields: [...fields].map(([name]) => name), files: [...files].map(([name, file]) => [name, file.filename]) });
});

let server: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  server = await serve(app, { host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await server.close();
});

describe('multipart names and filenames, escaped as browsers escape them', () => {
  it("form.submit() writes `\"`, CR and LF as %22, %0D and %0A, a backslash as it is", async () => {
    const client = new TestClient(app);
    const page = await client.get('/');
    const res = await page.form().upload('doc', { filename: 'a "b"\\c.txt', content: 'x' }).submit();
    const body = await res.text();
    expect(body).toContain('Content-Disposition: form-data; name="say %22hi%22"\r\n');
    expect(body).toContain('Content-Disposition: form-data; name="doc"; filename="a %22b%22\\c.txt"\r\n');
  });

  it('reads %22, %0D and %0A back as a browser does, over a socket, in form(), files() and parts()', async () => {
    // What Node's own FormData (undici, the Fetch Standard's encoder) writes.
    const data = new FormData();
    data.append('q "1"\r\nx', 'v');
    data.append('up', new Blob(['x']), 'say "hi"\\.txt');
    for (const query of ['', '?parts']) {
      const res = await fetch(new URL(`/upload${query}`, server.url), { method: 'POST', body: data });
      expect(res.status).toBe(200);
      const got = await res.json();
      if (query === '') expect(got).toEqual({ fields: ['q "1"\r\nx'], files: [['up', 'say "hi"\\.txt']] });
      else expect(got).toEqual([['q "1"\r\nx'], ['up', 'say "hi"\\.txt']]);
    }
  });

  it("encodeMultipartEntries' names round-trip through the parser", async () => {
    const { body, contentType } = encodeMultipartEntries([
      ['a"b\r\nc', 'v'],
      ['f', { filename: 'x"y.txt', content: 'z' }],
    ]);
    const res = await fetch(new URL('/upload', server.url), { method: 'POST', body, headers: { 'Content-Type': contentType } });
    expect(await res.json()).toEqual({ fields: ['a"b\r\nc'], files: [['f', 'x"y.txt']] });
    // and Node's own reader (the Fetch Standard's parser) reads the same names
    const read = await new globalThis.Response(body, { headers: { 'Content-Type': contentType } }).formData();
    expect([...read.keys()]).toEqual(['a"b\r\nc', 'f']);
    expect((read.get('f') as File).name).toBe('x"y.txt');
  });
});
