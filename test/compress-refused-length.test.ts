/**
 * `compress` and an app's `Content-Length` the server refuses (not decimal digits alone, or
 * given twice: docs/spec.md §5): without `compress` that answer is a logged 500 for every
 * client. Compressing drops the field, so `compress` used to turn it into a coded 200 for the
 * clients that take a coding, and a 500 for the others. Over a socket.
 */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { compress } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

const enc = new TextEncoder();
const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(200); // 9000 bytes

/** A raw app answering `status` with `fields` and TEXT, in memory or streamed. */
function answering(status: string, fields: Array<[string, string]>, streamed: boolean): App {
  return (_environ, startResponse) => {
    startResponse(status, [['Content-Type', 'text/plain'], ...fields]);
    if (!streamed) return status.startsWith('304') ? [] : [enc.encode(TEXT)];
    return (async function* () {
      yield enc.encode(TEXT);
    })();
  };
}

describe('compress: a Content-Length the server refuses', () => {
  const refused: Array<[string, Array<[string, string]>]> = [
    ['not digits', [['Content-Length', '9000x']]],
    ['blanks around it', [['Content-Length', ' 9000 ']]],
    ['a list', [['Content-Length', '9000, 9000']]],
    ['given twice', [['Content-Length', '9000'], ['Content-Length', '9000']]],
  ];

  it.each(refused)('answers 500 to GET and HEAD whatever the coding asked for, %s', async (_label, fields) => {
    for (const streamed of [false, true]) {
      const server = await start(compress(answering('200 OK', fields, streamed)));
      const url = `http://127.0.0.1:${server.port}/`;
      for (const method of ['GET', 'HEAD']) {
        for (const accept of ['identity', 'gzip', 'br']) {
          const res = await request(url, { method, headers: { 'accept-encoding': accept } });
          expect([method, accept, streamed, res.status, res.headers['content-encoding']]).toEqual([method, accept, streamed, 500, undefined]);
        }
      }
      expect(server.log.text).toMatch(/Content-Length/);
      await server.close();
    }
  });

  it('leaves a 304 with such a field to the server too, even to a client holding the coded 200', async () => {
    const server = await start(compress(answering('304 Not Modified', [['ETag', '"v1"'], ['Content-Length', '9000x']], false)));
    const url = `http://127.0.0.1:${server.port}/`;
    for (const tag of ['"v1"', 'W/"v1"']) {
      const res = await request(url, { headers: { 'accept-encoding': 'gzip', 'if-none-match': tag } });
      expect([tag, res.status]).toEqual([tag, 500]);
    }
  });

  it('still compresses an answer whose one Content-Length is digits alone', async () => {
    const server = await start(compress(answering('200 OK', [['Content-Length', '9000']], true)));
    const res = await request(`http://127.0.0.1:${server.port}/`, { headers: { 'accept-encoding': 'gzip' } });
    expect([res.status, res.headers['content-encoding']]).toEqual([200, 'gzip']);
    expect(gunzipSync(res.body).toString()).toBe(TEXT);
  });
});
