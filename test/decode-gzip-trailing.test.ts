/**
 * gzip bodies of several members (`cat a.gz b.gz`, RFC 1952 §2.2) and bodies with bytes after
 * their last member, over a real socket: `decodeContent` (responses) decodes every member and
 * ignores what follows the last one, as browsers do (Chrome and Firefox stop after the first
 * member); `decodeBody` (requests) decodes every member, takes zero padding (as gzip(1) and
 * node:zlib do) and answers any other bytes after them with a `400` that says so, as it
 * answers bytes after the end of a deflate or Brotli stream.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { decodeBody } from 'tsgi/middleware';
import { decodeContent, proxy } from 'tsgi/proxy';
import { request, start } from './node-helpers.ts';

const hello = zlib.gzipSync('hello ');
const world = zlib.gzipSync('world');
/** A page large enough to take several zlib chunks, and several chunks on the wire. */
const page = Buffer.from('<p>' + 'All work and no play makes Jack a dull boy. '.repeat(4000) + '</p>');
const bigMember = zlib.gzipSync(page, { level: 1 });

/** An app answering `chunks` as a gzip-coded text/html body. */
function gzipped(chunks: Uint8Array[]): App {
  return (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/html'], ['Content-Encoding', 'gzip']]);
    return (async function* () {
      for (const chunk of chunks) yield chunk;
    })();
  };
}

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('decodeContent and bytes after a gzip member', () => {
  it('decodes every member of a multi-member body, whether they come in one chunk or apart', async () => {
    for (const chunks of [[Buffer.concat([hello, world])], [hello, world], [Buffer.concat([hello, world.subarray(0, 1)]), world.subarray(1)]]) {
      const server = await start(decodeContent(gzipped(chunks)));
      const res = await request(server.url);
      expect([res.status, res.headers['content-encoding'], res.body.toString()]).toEqual([200, undefined, 'hello world']);
      expect(server.log.text).toBe('');
    }
  });

  it('ignores bytes after the last member, as browsers do: the whole content, no 502, nothing logged', async () => {
    const tails = ['\n', 'garbage', '\x1f', '\x1f\x00junk', '\x1f\x8b\x09', '\x1f\x8b', '\x00\x00\x00\x00'];
    for (const tail of tails) {
      for (const chunks of [[Buffer.concat([hello, world, bytes(tail)])], [hello, world, bytes(tail)]]) {
        const server = await start(decodeContent(gzipped(chunks)));
        const res = await request(server.url);
        expect([JSON.stringify(tail), chunks.length, res.status, res.body.toString()]).toEqual([JSON.stringify(tail), chunks.length, 200, 'hello world']);
        expect(server.log.text).toBe('');
      }
    }
  });

  it('keeps all of a large member followed by a newline in its last chunk, through a proxy of a gzipping upstream', async () => {
    const coded = Buffer.concat([bigMember, bytes('\n')]);
    const upstream = await start(gzipped([coded.subarray(0, 1000), coded.subarray(1000)]));
    const server = await start(decodeContent(proxy(upstream.url)));
    const res = await request(server.url);
    expect([res.status, res.body.byteLength, res.body.equals(page)]).toEqual([200, page.byteLength, true]);
    expect(server.log.text).toBe('');
  });

  it('still answers 502 for a body that is no gzip, the decoder\'s reason logged as zlib words it', async () => {
    const server = await start(decodeContent(gzipped([bytes('not gzip')])));
    const res = await request(server.url);
    expect(res.status).toBe(502);
    expect(res.body.toString()).toContain('not valid gzip');
    expect(server.log.text).toContain('decodeContent: the response body is not valid gzip (incorrect header check)');
  });
});

describe('a body of many gzip members', () => {
  it('decodes them all; past the first 16, read by one gunzip (a decoder per member costs too much), bytes after the last are corrupt data again', async () => {
    const many = Buffer.concat(Array.from({ length: 40 }, (_, i) => zlib.gzipSync(`${i},`)));
    const text = Array.from({ length: 40 }, (_, i) => `${i},`).join('');
    const whole = await start(decodeContent(gzipped([many])));
    expect((await request(whole.url)).body.toString()).toBe(text);
    const after = await start(decodeContent(gzipped([Buffer.concat([many, bytes('\n')])])));
    // The first members' content is out: the connection is cut, as for corrupt data after the head.
    await expect(request(after.url)).rejects.toThrow();
    expect(after.log.text).toContain('decodeContent: the response body is not valid gzip');
    const echo = Request.application(async (req) => new Response(await req.text()));
    const server = await start(decodeBody(echo));
    const posted = await request(server.url, { method: 'POST', body: many, headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' } });
    expect([posted.status, posted.body.toString()]).toEqual([200, text]);
  });
});

describe('decodeBody and bytes after a gzip member', () => {
  const echo = Request.application(async (req) => new Response(await req.text()));
  const post = (url: string, body: Uint8Array, chunked = false) =>
    request(url, { method: 'POST', body, headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip', ...(chunked ? { 'Transfer-Encoding': 'chunked' } : {}) } });

  it('decodes every member, and takes zero padding after the last, as gzip(1) does', async () => {
    const server = await start(decodeBody(echo));
    for (const body of [Buffer.concat([hello, world]), Buffer.concat([hello, world, Buffer.alloc(16)])]) {
      const res = await post(server.url, body);
      expect([res.status, res.body.toString()]).toEqual([200, 'hello world']);
    }
  });

  it('answers other bytes after the last member 400, saying so, and any byte after a deflate or Brotli stream', async () => {
    const server = await start(decodeBody(echo));
    for (const tail of ['\n', 'garbage', '\x1f', '\x00\x00x']) {
      for (const chunked of [false, true]) {
        const res = await post(server.url, Buffer.concat([hello, world, bytes(tail)]), chunked);
        expect([JSON.stringify(tail), res.status, res.body.toString()]).toEqual([JSON.stringify(tail), 400, expect.stringContaining('The body has bytes after its gzip data.')]);
      }
    }
    // A deflate or Brotli stream has one end: bytes after it were dropped unread.
    const coded: Array<[string, Buffer]> = [['deflate', zlib.deflateSync('hello world')], ['br', zlib.brotliCompressSync('hello world')]];
    for (const [coding, data] of coded) {
      const send = (body: Uint8Array) => request(server.url, { method: 'POST', body, headers: { 'Content-Type': 'text/plain', 'Content-Encoding': coding } });
      const clean = await send(data);
      expect([coding, clean.status, clean.body.toString()]).toEqual([coding, 200, 'hello world']);
      const after = await send(Buffer.concat([data, bytes('\n')]));
      expect([coding, after.status, after.body.toString()]).toEqual([coding, 400, expect.stringContaining(`The body has bytes after its ${coding} data.`)]);
    }
    // A corrupt member is still corrupt data.
    const corrupt = await post(server.url, Buffer.concat([hello, bytes('\x1f\x8b\x08\x00garbage-after-a-header')]));
    expect([corrupt.status, corrupt.body.toString()]).toEqual([400, expect.stringContaining('The body is not valid gzip data.')]);
    expect(server.log.text).toBe('');
  });
});
