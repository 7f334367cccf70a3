/**
 * Request bodies sent with a `Content-Encoding` (RFC 9110 §8.4): the readers that interpret
 * the bytes (`text()`, `json()`, the form readers) refuse a coding they do not undo with a
 * 415 naming it and `Accept-Encoding: identity` (RFC 9110 §15.5.16), instead of reading the
 * gzip bytes as JSON (a 400 blaming the client's JSON) or as form fields (garbage accepted).
 * `bytes()` and `stream()` stay raw. And `json()` of an empty body says so. Over a real socket.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { start } from './node-helpers.ts';

const app = Request.application(async (req) => {
  switch (req.pathInfo) {
    case '/json':
      return Response.json({ got: await req.json() });
    case '/text':
      return new Response(await req.text());
    case '/form':
      return Response.json(Object.fromEntries(await req.form()));
    case '/bytes':
      return new Response(`${(await req.bytes()).byteLength} bytes`);
    default:
      return new Response('?', { status: 404 });
  }
});

const gzipped = (text: string) => gzipSync(Buffer.from(text));

describe('a request body with a Content-Encoding', () => {
  it('is refused by json(), text() and form() with a 415 naming the coding', async () => {
    const server = await start(app);
    const cases: [string, string, string][] = [
      ['/json', 'application/json', '{"a":1}'],
      ['/text', 'text/plain', 'hello'],
      ['/form', 'application/x-www-form-urlencoded', 'a=1'],
    ];
    for (const [path, type, text] of cases) {
      const res = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': type, 'content-encoding': 'gzip', accept: 'application/json' },
        body: gzipped(text),
      });
      expect(res.status, path).toBe(415);
      expect(res.headers.get('accept-encoding'), path).toBe('identity');
      expect(((await res.json()) as { message: string }).message, path).toContain('gzip');
    }
    expect(server.log.text).toBe('');
  });

  it('reads as before when the coding is identity or absent, and bytes() stays raw', async () => {
    const server = await start(app);
    const json = await fetch(`${server.url}/json`, { method: 'POST', headers: { 'content-encoding': 'identity' }, body: '{"a":1}' });
    expect(await json.json()).toEqual({ got: { a: 1 } });
    const raw = gzipped('x'.repeat(100));
    const bytes = await fetch(`${server.url}/bytes`, { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: raw });
    expect(await bytes.text()).toBe(`${raw.byteLength} bytes`);
    const multi = await fetch(`${server.url}/json`, { method: 'POST', headers: { 'content-encoding': 'gzip, identity' }, body: raw });
    expect(multi.status).toBe(415);
  });
});

describe('json() of an empty body', () => {
  it('answers a 400 that says the body is empty, not a parser message', async () => {
    const server = await start(app);
    const res = await fetch(`${server.url}/json`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toBe('The body is empty: a JSON value was expected.');
  });
});
