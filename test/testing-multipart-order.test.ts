/**
 * The test client submits a multipart form's entries in the order of its controls on the page,
 * as browsers do (HTML §4.10.21.4, "constructing the entry list"): an app reading `req.parts()`
 * sees a CSRF token placed before a file input before the file.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { encodeMultipartEntries } from 'tsgi/forms';
import { TestClient } from 'tsgi/testing';

const PAGE = `<!doctype html><title>t</title><form method="post" action="/upload" enctype="multipart/form-data">
  <input type="hidden" name="csrf" value="t0k3n">
  <input type="file" name="doc">
  <input name="note" value="after">
  <button>Send</button></form>`;

/** Answers the page at `/`, and at `/upload` the parts in the order `req.parts()` streams them. */
const app = Request.application(async (req) => {
  if (req.pathInfo === '/') return new Response(PAGE, { contentType: 'text/html' });
  const seen: string[] = [];
  for await (const part of req.parts()) {
    if (part.kind === 'file') {
      seen.push(`file ${part.fieldName} ${part.filename} ${await new Response(part.body).text()}`);
    } else seen.push(`field ${part.fieldName} ${part.value}`);
  }
  return Response.json(seen);
});

describe('multipart form submission order', () => {
  it('the test client sends the entries in page order, fields and files mixed', async () => {
    const client = new TestClient(app);
    const page = await client.get('/');
    const res = await page.form().upload('doc', { filename: 'a.txt', content: 'hello' }).submit();
    expect(await res.json()).toEqual(['field csrf t0k3n', 'file doc a.txt hello', 'field note after']);
  });

  it('encodeMultipartEntries sends the order given to client.post', async () => {
    const { body, contentType } = encodeMultipartEntries([
      ['csrf', 't0k3n'],
      ['doc', { filename: 'a.txt', content: 'hello' }],
      ['note', 'after'],
    ]);
    const res = await new TestClient(app).post('/upload', { body, headers: { 'Content-Type': contentType } });
    expect(await res.json()).toEqual(['field csrf t0k3n', 'file doc a.txt hello', 'field note after']);
  });
});
