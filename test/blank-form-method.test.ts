/**
 * Request.blank with a form or files and no method is a POST (WebOb's `POST=`), where it was a
 * GET carrying a form body that an app reading `req.method` answered as a GET.
 */
import { describe, expect, it } from 'vitest';
import { Request } from 'tsgi';

describe('Request.blank: a form without a method', () => {
  it('is a POST for form and for files, read as the form it is', async () => {
    const req = Request.blank('/notes', { form: { title: 'T' } });
    expect(req.method).toBe('POST');
    expect((await req.form()).get('title')).toBe('T');
    const upload = Request.blank('/up', { files: { doc: { filename: 'a.txt', content: 'hi' } } });
    expect(upload.method).toBe('POST');
    expect((await upload.files()).get('doc')?.size).toBe(2);
  });

  it('keeps a method given, and GET for json, body and none', () => {
    expect(Request.blank('/n', { method: 'PUT', form: { a: '1' } }).method).toBe('PUT');
    expect(Request.blank('/n', { method: 'get', form: { a: '1' } }).method).toBe('GET');
    expect(Request.blank('/n', { json: { a: 1 } }).method).toBe('GET');
    expect(Request.blank('/n', { body: 'x' }).method).toBe('GET');
    expect(Request.blank('/n').method).toBe('GET');
  });
});
