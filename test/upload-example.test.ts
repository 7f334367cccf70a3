/**
 * examples/upload.ts: the form page, filled in and submitted with the test client; a multi-file
 * FormData upload over a real socket, listed with escaped names, sizes and types; the mount
 * prefix in the form action; 405; and a 413 over the socket that names the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from 'tsgi';
import { TestClient } from 'tsgi/testing';
import { app, limits } from '../examples/upload.ts';

let server: Awaited<ReturnType<typeof serve>>;
const client = new TestClient(app);

beforeAll(async () => {
  server = await serve(app, { port: 0 });
});
afterAll(async () => {
  await server.close({ timeout: 500 });
});

describe('examples/upload.ts', () => {
  it('GET shows a multipart form with a text field and a multiple file input', async () => {
    const page = await client.get('/');
    expect(page.contentType).toBe('text/html');
    const form = page.form();
    expect([form.method, form.enctype, form.action]).toEqual(['POST', 'multipart/form-data', 'http://localhost/']);
    expect(page.select('form input').map((input) => input.attributes)).toEqual([
      { type: 'text', name: 'note' },
      { type: 'file', name: 'files', multiple: '' },
    ]);
  });

  it('lists the files the form uploads (in-process, through the form)', async () => {
    const form = (await client.get('/')).form();
    form.set('note', 'two <files>').upload('files', [
      { filename: 'a.txt', content: 'hello' },
      { filename: 'b.png', content: new Uint8Array(10), contentType: 'image/png' },
    ]);
    const res = await form.submit();
    expect(res.select('h1')[0]?.text).toBe('Received 2 files');
    expect(res.select('tr td').map((td) => td.text)).toEqual(['a.txt', 'text/plain', '5', 'b.png', 'image/png', '10']);
    expect(res.textBody).toContain('<p>Note: two &lt;files&gt;</p>');
  });

  it('lists no file when the file input is left empty (the form still sends its part)', async () => {
    const res = await (await client.get('/')).form().set('note', 'none').submit();
    expect(res.select('h1')[0]?.text).toBe('Received 0 files');
  });

  it('POST lists every uploaded file: escaped name, type, size', async () => {
    const fd = new FormData();
    fd.append('note', 'holiday <pics> & more');
    fd.append('files', new Blob([new Uint8Array(600_000)], { type: 'image/png' }), 'beach.png');
    fd.append('files', new Blob(['hello'], { type: 'text/plain' }), '<script>alert(1)</script>.txt');
    fd.append('files', new Blob([], { type: 'application/octet-stream' }), '');
    const res = await fetch(`${server.url}/`, { method: 'POST', body: fd });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<h1>Received 2 files</h1>');
    expect(html).toContain('<p>Note: holiday &lt;pics&gt; &amp; more</p>');
    expect(html).toContain('<tr><td>beach.png</td><td>image/png</td><td>600000</td></tr>');
    expect(html).toContain('<tr><td>&lt;script&gt;alert(1)&lt;/script&gt;.txt</td><td>text/plain</td><td>5</td></tr>');
    expect(html).not.toContain('<script>');
  });

  it('keeps the mount prefix in the form action (mounted at /upload in the demo)', async () => {
    const page = await new TestClient(app, { baseUrl: 'http://localhost/upload' }).get('/');
    expect(page.form().action).toBe('http://localhost/upload/');
  });

  it('answers 405 with Allow for other methods, 404 for other paths', async () => {
    const put = await client.put('/', { body: 'x', status: 405 });
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
    await client.get('/elsewhere', { status: 404 });
  });

  it('answers 413 naming the limit when too many files arrive', async () => {
    const fd = new FormData();
    for (let i = 0; i <= limits.maxFiles!; i++) fd.append('files', new Blob([`file ${i}`]), `f${i}.txt`);
    const res = await fetch(`${server.url}/`, { method: 'POST', body: fd, headers: { Accept: 'text/plain' } });
    expect(res.status).toBe(413);
    expect(await res.text()).toContain(`maxFiles exceeded`);
  });
});
