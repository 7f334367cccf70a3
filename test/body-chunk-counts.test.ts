// A request body read whole, then read again (the body is kept: docs/request.md), whatever the
// number of chunks Node's parser handed over: none, one (held without an array), two, and past
// the sixteen kept as they are (the small ones then copied together), over a real socket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, Response, type ServerHandle, serve } from 'tsgi';
import { parseRaw, rawExchange } from './node-helpers.ts';

/** Reads the body three times: text, text again, bytes; answers the three lengths and the text. */
const app = Request.application(async (req) => {
  const first = await req.text();
  const again = await req.text();
  const bytes = await req.bytes();
  return new Response(`${first.length} ${again.length} ${bytes.byteLength} ${first === again ? 'same' : 'differ'} ${first}`);
});

/** A chunked request whose body is `pieces`, one chunk each. */
function chunked(pieces: string[]): string {
  const chunks = pieces.map((piece) => `${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n`).join('');
  return `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunks}0\r\n\r\n`;
}

describe('a body read whole and again, by the number of its chunks', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await serve(app, { host: '127.0.0.1', port: 0 });
  });
  afterAll(() => server.close());

  const answer = async (request: string) => parseRaw((await rawExchange(server.port, request)).raw).rest;

  it('none: Content-Length: 0, and a chunked body with no chunk', async () => {
    expect(await answer('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')).toBe('0 0 0 same ');
    expect(await answer(chunked([]))).toBe('0 0 0 same ');
  });

  it('one: by Content-Length, and one chunk of a chunked body', async () => {
    expect(await answer('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello')).toBe('5 5 5 same hello');
    expect(await answer(chunked(['hello']))).toBe('5 5 5 same hello');
  });

  it('two, and forty small ones (past the sixteen kept as they are), in order', async () => {
    expect(await answer(chunked(['hel', 'lo']))).toBe('5 5 5 same hello');
    const pieces = Array.from({ length: 40 }, (_, i) => String.fromCharCode(97 + (i % 26)).repeat(1 + (i % 3)));
    const text = pieces.join('');
    expect(await answer(chunked(pieces))).toBe(`${text.length} ${text.length} ${text.length} same ${text}`);
  });
});
