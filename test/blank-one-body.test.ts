/**
 * Request.blank refuses two bodies (`json` with `form`, `files` or `body`; `form` or `files`
 * with `body`), as the TestClient does and as Werkzeug's EnvironBuilder refuses `json` with
 * `data`: it sent the first and dropped the rest unsaid, and a `form` dropped under a `json`
 * still made the request a POST.
 */
import { describe, expect, it } from 'vitest';
import { Request } from 'tsgi';
import { TestClient } from 'tsgi/testing';

describe('Request.blank: two bodies', () => {
  it('throws a TypeError naming them, where the second was dropped', () => {
    expect(() => Request.blank('/notes', { json: { title: 'T' }, form: { title: 'T' } })).toThrow(
      new TypeError('Request.blank: give one body: json, form (with files) or body, not json and form'),
    );
    expect(() => Request.blank('/notes', { form: { a: '1' }, body: 'a=2' })).toThrow(/not form and body$/);
    expect(() => Request.blank('/up', { json: 1, files: { doc: { filename: 'a.txt', content: 'hi' } } })).toThrow(/not json and files$/);
    expect(() => Request.blank('/notes', { json: 1, body: 'x' })).toThrow(/not json and body$/);
  });

  it('takes form with files as one multipart body, and each body alone', async () => {
    const req = Request.blank('/up', { form: { title: 'T' }, files: { doc: { filename: 'a.txt', content: 'hi' } } });
    expect(req.method).toBe('POST');
    expect((await req.form()).get('title')).toBe('T');
    expect(await Request.blank('/n', { json: { a: 1 } }).json()).toEqual({ a: 1 });
    expect(await Request.blank('/n', { body: 'x' }).text()).toBe('x');
  });

  it('the TestClient keeps its own message', async () => {
    await expect(new TestClient(() => []).post('/n', { json: 1, form: { a: '1' } })).rejects.toThrow(
      new TypeError('POST /n: give one body: json, form (with files) or body, not json and form'),
    );
  });
});
