/**
 * The head of each part of a `multipart/byteranges` answer carries the representation's
 * `Content-Type` as the same bytes the server sends that field with in a 200 (one byte per
 * character, ISO-8859-1, as HTTP field values are: RFC 9110 §5.5), over a real socket.
 */
import { expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { parseRaw, rawExchange, rawGet, start } from './node-helpers.ts';

const TYPE = 'text/plain; charset=utf-8; title="Résumé"';

const app = Request.application(() => new Response('ABCDEFGHIJ', { contentType: TYPE, conditionalResponse: true }));

it('a part head holds the Content-Type field as a 200 sends it, with an exact Content-Length', async () => {
  const server = await start(app, { host: '127.0.0.1' });
  const whole = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
  expect(whole.header('content-type')).toBe(TYPE); // read as latin1: one byte per character

  const res = parseRaw((await rawExchange(server.port, rawGet('/', 'Range: bytes=0-1,5-6\r\n'))).raw);
  expect(res.status).toBe(206);
  const boundary = /boundary=([0-9a-f]{32})$/.exec(res.header('content-type')!)![1];
  const part = (range: string, data: string) => `--${boundary}\r\nContent-Type: ${TYPE}\r\nContent-Range: bytes ${range}/10\r\n\r\n${data}`;
  const expected = `${part('0-1', 'AB')}\r\n${part('5-6', 'FG')}\r\n--${boundary}--\r\n`;
  expect(res.rest).toBe(expected);
  expect(res.header('content-length')).toBe(String(expected.length));
});
