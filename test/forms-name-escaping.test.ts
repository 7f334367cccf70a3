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

  it('reads a backslash in a quoted name or filename as it is, as browsers write it, a trailing one too', async () => {
    const boundary = 'XyZ';
    const part = (disposition: string, content: string) => `--${boundary}\r\nContent-Disposition: form-data; ${disposition}\r\n\r\n${content}\r\n`;
    const body = [
      part('name="x\\\\y"', 'v'),
      part('name="end\\"', 'w'),
      part('name="up"; filename="a\\\\b.txt"', 'x'),
      part('name="dir\\"; filename="C:\\dir\\"', 'y'),
      part('name="q"; filename="\\"', 'z'),
      `--${boundary}--\r\n`,
    ].join('');
    // As a browser sent it: the names and filenames are these bytes, backslashes and all.
    const fields = ['x\\\\y', 'end\\'];
    const files = [['up', 'a\\\\b.txt'], ['dir\\', 'C:\\dir\\'], ['q', '\\']];
    // In one piece, and in pieces of 7 bytes (a head split across reads).
    const pieces = (size: number) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          const bytes = Buffer.from(body, 'latin1');
          for (let at = 0; at < bytes.byteLength; at += size) controller.enqueue(bytes.subarray(at, at + size));
          controller.close();
        },
      });
    for (const size of [body.length, 7]) {
      for (const query of ['', '?parts']) {
        const res = await fetch(new URL(`/upload${query}`, server.url), {
          method: 'POST',
          body: pieces(size),
          duplex: 'half',
          headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
        } as RequestInit);
        const got = [size, query, res.status, await res.json()];
        if (query === '') expect(got).toEqual([size, query, 200, { fields, files }]);
        else expect(got).toEqual([size, query, 200, [...fields.map((name) => [name]), ...files]]);
      }
    }
    // Node's own reader (the Fetch Standard's parser) reads the same names.
    const read = await new globalThis.Response(body, { headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` } }).formData();
    expect([...read.keys()]).toEqual([...fields, ...files.map(([name]) => name)]);
    expect((read.getAll('up')[0] as File).name).toBe('a\\\\b.txt');
  });

  it('reads RFC 9110 quoted-pairs where the browser reading does not fit (`\\"` inside the quotes, as curl --form-escape writes)', async () => {
    const boundary = 'XyZ';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="up"; filename="say \\"hi\\".txt"\r\n\r\nx\r\n--${boundary}--\r\n`;
    const res = await fetch(new URL('/upload', server.url), { method: 'POST', body, headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` } });
    expect(await res.json()).toEqual({ fields: [], files: [['up', 'say "hi".txt']] });
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
