/**
 * What the server keeps from one request to the next to answer the next one faster (the last
 * Host found valid) must never carry an answer over to a request that differs: over a real
 * socket, valid and invalid Hosts alternate on one server, each answered as it would be alone.
 */
import { describe, expect, it } from 'vitest';
import { Request } from 'tsgi';
import { parseRaw, rawExchange, start } from './node-helpers.ts';

/** Sends one request with `host` and answers its parsed response. */
async function ask(port: number, target: string, host: string) {
  const { raw } = await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  const res = parseRaw(raw);
  return { line: res.statusLine, length: res.header('content-length'), body: res.rest };
}

describe('answers kept from the last request', () => {
  it('a Host refused after a valid one, and a valid one after a refused one, are each answered as alone', async () => {
    const server = await start(Request.application((req) => req.host));
    const valid = { line: 'HTTP/1.1 200 OK', length: '14', body: 'a.example:8000' };
    const refused = { line: 'HTTP/1.1 400 Bad Request', length: '33', body: 'Bad Request: invalid Host header\n' };
    // Most invalid Hosts differ from the valid one before them by a character or two.
    for (const host of ['a.example:80000', 'a.example:800a', 'a.example%3A8000', '[::1::2]', '999.1.1.1']) {
      expect(await ask(server.port, '/', 'a.example:8000')).toEqual(valid);
      expect(await ask(server.port, '/', host), host).toEqual(refused);
    }
    expect(await ask(server.port, '/', 'a.example:8000')).toEqual(valid);
    expect(server.log.text).toBe('');
  });
});
