import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, Response, serve } from 'tsgi';

/**
 * The 400 of a multipart `Content-Type` whose `boundary` parameter cannot be read: a boundary
 * holding characters a token cannot (`=`, `:`, `?`…) must be quoted (RFC 9110 §5.6.6), as
 * JavaMail's `----=_Part_0_…` is. The answer said there was no boundary parameter at all.
 */
const app = Request.application(async (req) => {
  if (req.query.has('parts')) {
    const names: string[] = [];
    for await (const part of req.parts()) names.push(part.fieldName);
    return Response.json(names);
  }
  return Response.json([...(await req.form()).keys()]);
});

let server: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  server = await serve(app, { host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await server.close();
});

const post = (contentType: string, query = '') =>
  fetch(new URL(`/${query}`, server.url), {
    method: 'POST',
    headers: { 'Content-Type': contentType },
    body: '------=_Part_0_1.2\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n------=_Part_0_1.2--\r\n',
  });

describe('the boundary parameter of a multipart Content-Type', () => {
  it('answers 400 saying a boundary parameter that is not a token must be quoted, not that there is none', async () => {
    for (const query of ['', '?parts']) {
      const res = await post('multipart/form-data; boundary=----=_Part_0_1.2', query);
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).toContain('multipart/form-data with a malformed boundary parameter');
      expect(text).toContain('quote');
      expect(text).not.toContain('without a boundary parameter');
    }
  });

  it('reads the same boundary quoted', async () => {
    const res = await post('multipart/form-data; boundary="----=_Part_0_1.2"');
    expect([res.status, await res.json()]).toEqual([200, ['a']]);
  });

  it('still says when there is no boundary parameter', async () => {
    const res = await post('multipart/form-data; charset=utf-8');
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('multipart/form-data without a boundary parameter');
  });
});
