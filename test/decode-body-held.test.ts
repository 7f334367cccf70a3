/**
 * `decodeBody` (tsgi/middleware) over a body a layer above already kept (`await req.bytes()`,
 * a webhook's signature check): the decoded body is held too, so the app below reads it as
 * often as it reads an uncoded body kept the same way (`req.form()`, then `req.bytes()`);
 * held past `maxSize`, a 413; corrupt, a 400. Over a real socket.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Request, Response, compose, defineMiddleware } from 'tsgi';
import { decodeBody } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

/** A layer above `decodeBody` that reads the body as sent and keeps it (the signature check's read). */
const keepRaw = defineMiddleware({
  async before(req) {
    req.environ['test.raw_size'] = (await req.bytes()).byteLength;
  },
});

/** Reads the form, then the bytes, then the form again: the three reads of one body. */
const formThenBytes = Request.application(async (req) => {
  const form = await req.form();
  const bytes = await req.bytes();
  const again = await req.form();
  return Response.json({ raw: req.environ['test.raw_size'], name: form.get('name'), bytes: Buffer.from(bytes).toString(), again: again.get('name') });
});

const formBody = 'name=tsgi&kind=toolkit';
const post = (url: string, body: Uint8Array | string, headers: Record<string, string> = {}) =>
  request(url, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers } });

describe('decodeBody over a body kept above it', () => {
  it('answers req.form() then req.bytes() for a gzip body as for an uncoded one', async () => {
    const server = await start(compose(keepRaw, decodeBody)(formThenBytes));
    const gzip = zlib.gzipSync(formBody);
    const expected = { name: 'tsgi', bytes: formBody, again: 'tsgi' };
    const plain = await post(server.url, formBody);
    expect([plain.status, plain.body.toString()]).toEqual([200, JSON.stringify({ raw: formBody.length, ...expected })]);
    const coded = await post(server.url, gzip, { 'Content-Encoding': 'gzip' });
    expect([coded.status, coded.body.toString()]).toEqual([200, JSON.stringify({ raw: gzip.byteLength, ...expected })]);
    expect(server.log.text).toBe('');
  });

  it('refuses a kept body that decodes past maxSize with a 413, and a corrupt one with a 400', async () => {
    const server = await start(compose(keepRaw, (app) => decodeBody(app, { maxSize: 1000 }))(formThenBytes));
    const bomb = await post(server.url, zlib.gzipSync(Buffer.alloc(5000, 'a')), { 'Content-Encoding': 'gzip' });
    expect([bomb.status, bomb.body.toString()]).toEqual([413, expect.stringContaining('1000 bytes')]);
    const corrupt = await post(server.url, Buffer.from('not gzip at all'), { 'Content-Encoding': 'gzip' });
    expect([corrupt.status, corrupt.body.toString()]).toEqual([400, expect.stringContaining('not valid gzip')]);
    expect(server.log.text).toBe('');
  });
});
