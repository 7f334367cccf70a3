/**
 * `etag` and an app's `Content-Length` the server refuses (not decimal digits alone, or given
 * twice: docs/spec.md §5): without `etag` that answer is a logged 500 whatever the request's
 * conditions. `etag` serves its 304, 206 and 412 with fields of its own, which used to turn
 * that 500 into a success for a conditional or range request alone. So for bytes in memory that
 * do not add up to a `Content-Length` of digits: the server refuses them for a GET (not for a
 * HEAD, whose field describes the GET body). Over a socket.
 */
import { describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { etag } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

const enc = new TextEncoder();
const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(200); // 9000 bytes

/** A raw app answering TEXT in memory with `fields` (to HEAD too, as the server allows). */
const answering =
  (fields: Array<[string, string]>): App =>
  (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain'], ...fields]);
    return [enc.encode(TEXT)];
  };

describe('etag: a Content-Length the server refuses', () => {
  it.each([
    ['not digits', [['Content-Length', '9000x']]],
    ['given twice', [['Content-Length', '9000'], ['Content-Length', '9000']]],
  ] as Array<[string, Array<[string, string]>]>)('answers 500 to every request, conditional or not, %s', async (_label, fields) => {
    const server = await start(etag(answering(fields)));
    const url = `http://127.0.0.1:${server.port}/`;
    const requests: Array<[string, Record<string, string>]> = [
      ['GET', {}],
      ['HEAD', {}],
      ['GET', { 'if-none-match': '*' }],
      ['HEAD', { 'if-none-match': '*' }],
      ['GET', { 'if-match': '"other"' }],
      ['GET', { range: 'bytes=0-9' }],
    ];
    for (const [method, headers] of requests) {
      const res = await request(url, { method, headers });
      expect([method, headers, res.status]).toEqual([method, headers, 500]);
    }
    expect(server.log.text).toMatch(/Content-Length/);
  });

  it('answers 500 to every GET, conditional or not, for bytes in memory that belie their Content-Length; HEAD as the server answers it', async () => {
    for (const length of ['10', '9001']) {
      const bare = await start(answering([['Content-Length', length]]));
      const server = await start(etag(answering([['Content-Length', length]])));
      const requests: Array<[string, Record<string, string>]> = [
        ['GET', {}],
        ['GET', { 'if-none-match': '*' }],
        ['GET', { 'if-match': '"other"' }],
        ['GET', { range: 'bytes=0-9' }],
        ['HEAD', {}],
        ['HEAD', { 'if-none-match': '*' }],
      ];
      for (const [method, headers] of requests) {
        const without = await request(`http://127.0.0.1:${bare.port}/`, { method, headers });
        const res = await request(`http://127.0.0.1:${server.port}/`, { method, headers });
        expect([length, method, headers, res.status, res.headers['content-length']]).toEqual([length, method, headers, without.status, without.headers['content-length']]);
        if (method === 'GET') expect(res.status).toBe(500);
      }
      expect(server.log.text).toMatch(/declared Content-Length/);
    }
  });

  it('still tags and serves conditionally an answer whose one Content-Length is digits alone', async () => {
    const server = await start(etag(answering([['Content-Length', '9000']])));
    const url = `http://127.0.0.1:${server.port}/`;
    const res = await request(url);
    expect(res.headers.etag).toMatch(/^"/);
    expect((await request(url, { headers: { 'if-none-match': res.headers.etag! } })).status).toBe(304);
    expect((await request(url, { headers: { range: 'bytes=0-9' } })).status).toBe(206);
  });
});
