/**
 * examples/upload.ts over a real socket: the form page, a multi-file FormData upload listed
 * with escaped names, sizes and types, the mount prefix in the form action, 405, and a 413
 * that names the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, serve } from 'tsgi';
import { app, limits } from '../examples/upload.ts';

let server: Awaited<ReturnType<typeof serve>>;

beforeAll(async () => {
  server = await serve(app, { port: 0 });
});
afterAll(async () => {
  await server.close({ timeout: 500 });
});

describe('examples/upload.ts', () => {
  it('GET shows a multipart form with a text field and a multiple file input', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('<form method="post" enctype="multipart/form-data" action="/">');
    expect(html).toContain('<input type="text" name="note">');
    expect(html).toContain('<input type="file" name="files" multiple>');
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
    const req = Request.blank('/', { baseUrl: 'http://localhost/upload' });
    const res = await req.getResponse(app);
    expect((await res.text())).toContain('action="/upload/"');
  });

  it('answers 405 with Allow for other methods, 404 for other paths', async () => {
    const put = await fetch(`${server.url}/`, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
    expect((await fetch(`${server.url}/elsewhere`)).status).toBe(404);
  });

  it('answers 413 naming the limit when too many files arrive', async () => {
    const fd = new FormData();
    for (let i = 0; i <= limits.maxFiles!; i++) fd.append('files', new Blob([`file ${i}`]), `f${i}.txt`);
    const res = await fetch(`${server.url}/`, { method: 'POST', body: fd, headers: { Accept: 'text/plain' } });
    expect(res.status).toBe(413);
    expect(await res.text()).toContain(`maxFiles exceeded`);
  });
});
