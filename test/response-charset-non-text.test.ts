/**
 * `new Response(body, { contentType, charset })` adds the charset to text types only, as
 * docs/response.md says and WebOb's `Response(content_type=…, charset=…)` does: JSON has no
 * charset parameter (RFC 8259 §11), nor has an image. The charset still encodes a string body,
 * as in WebOb.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { parseRaw, rawExchange, start } from './node-helpers.ts';

describe('init.charset with a type that takes none, over a real socket', () => {
  it('sends no charset parameter for JSON or an image, and one for a text type', async () => {
    const server = await start(
      Request.application((req) => {
        const contentType = req.query.get('type')!;
        const headers = req.query.has('header') ? { 'Content-Type': contentType } : undefined;
        return new Response('{"a":"é"}', headers ? { headers, charset: 'utf-8' } : { contentType, charset: 'utf-8' });
      }),
    );
    const sent = async (query: string) => {
      const res = parseRaw((await rawExchange(server.port, `GET /?${query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).raw);
      return { type: res.header('content-type'), length: res.header('content-length'), body: Buffer.from(res.rest, 'latin1').toString('utf8') };
    };
    expect(await sent('type=application/json')).toEqual({ type: 'application/json', length: '10', body: '{"a":"é"}' });
    expect(await sent('type=application/problem%2Bjson')).toEqual({ type: 'application/problem+json', length: '10', body: '{"a":"é"}' });
    expect(await sent('type=image/png')).toMatchObject({ type: 'image/png' });
    expect(await sent('type=application/json&header')).toMatchObject({ type: 'application/json' });
    // text types take it
    expect(await sent('type=text/html')).toMatchObject({ type: 'text/html; charset=utf-8' });
    expect(await sent('type=application/xml')).toMatchObject({ type: 'application/xml; charset=utf-8' });
    expect(await sent('type=text/csv&header')).toMatchObject({ type: 'text/csv; charset=utf-8' });
    // a charset written in the type is the app's own: kept
    expect(await sent('type=application/json%3B%20charset%3Dutf-8')).toMatchObject({ type: 'application/json; charset=utf-8' });
    expect(server.log.text).toBe('');
  });
});

describe('init.charset with a type that takes none', () => {
  it('still encodes a string body, as WebOb does', async () => {
    const res = new Response('é', { contentType: 'application/octet-stream', charset: 'iso-8859-1' });
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect([...(await res.bytes())]).toEqual([0xe9]);
    expect(res.charset).toBeNull();
    const fromHeaders = new Response('é', { headers: { 'Content-Type': 'image/svg' }, charset: 'iso-8859-1' });
    expect(fromHeaders.headers.get('content-type')).toBe('image/svg');
    expect([...(await fromHeaders.bytes())]).toEqual([0xe9]);
    expect(() => new Response('€', { contentType: 'application/octet-stream', charset: 'iso-8859-1' })).toThrow(RangeError);
  });
});
