/**
 * What the server keeps from one request to the next to answer the next one faster (the last
 * Host found valid, the last status line parsed) must never carry an answer over to a request
 * that differs: over a real socket, valid and invalid Hosts, statuses and `Content-Length`
 * values alternate on one server, each answered as it would be alone. And `new Response(text)`
 * (built without its fields being looked up) has the fields the general path gives.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
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

  it('statuses and Content-Length values alternate: each is sent, or refused with a 500, as given', async () => {
    // The status line and Content-Length come from the query: `?<status>|<length>`.
    const app: App = (environ, startResponse) => {
      const [status, length] = decodeURIComponent(environ.QUERY_STRING).split('|');
      startResponse(status!, length === undefined ? [] : [['Content-Length', length]]);
      return [new TextEncoder().encode('hello')];
    };
    const server = await start(app);
    const sent = (line: string) => ({ line: `HTTP/1.1 ${line}`, length: '5', body: 'hello' });
    const failed = { line: 'HTTP/1.1 500 Internal Server Error', length: '22', body: 'Internal Server Error\n' };
    const cases: Array<[string, object]> = [
      ['200 OK', sent('200 OK')],
      ['201 Created', sent('201 Created')],
      ['200 OK', sent('200 OK')],
      ['200 Fine', sent('200 Fine')],
      ['199 Early', failed],
      ['200 OK', sent('200 OK')],
      ['200 OK|5', sent('200 OK')],
      ['200 OK|4', failed],
      ['200 OK|5', sent('200 OK')],
      ['200 OK|5a', failed],
      ['200 OK|', failed],
      ['200 OK|+5', failed],
      ['200 OK|05', { ...sent('200 OK'), length: '05' }],
    ];
    for (const [query, expected] of cases) {
      expect(await ask(server.port, `/?${encodeURIComponent(query)}`, '127.0.0.1'), query).toEqual(expected);
    }
    // One log line per 500 (the app's bad status or length).
    expect(server.log.text.match(/TypeError/g)).toHaveLength(5);
  });
});

describe('new Response(text)', () => {
  it('has the general path’s fields and bytes, which later changes edit as usual', () => {
    const res = new Response('héllo');
    expect(res.headers.list).toEqual([
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', '6'],
    ]);
    expect(res.headers.list).toEqual(new Response('héllo', {}).headers.list);
    expect(res.body).toEqual(new TextEncoder().encode('héllo'));
    expect(res.charset).toBe('utf-8');
    expect(res.conditionalResponse).toBe(false);
    res.headers.set('X-Mw-1', '1');
    res.body = 'hi';
    expect(res.headers.list).toEqual([
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', '2'],
      ['X-Mw-1', '1'],
    ]);
    expect(new Response('').headers.get('content-length')).toBe('0');
  });
});

describe('new Response(text) of a subclass', () => {
  it('still goes through the subclass’s body setter and charset', () => {
    class Latin1Response extends Response {
      override get charset(): string | null {
        return 'iso-8859-1';
      }
    }
    const res = new Latin1Response('é');
    expect([...(res.body as Uint8Array)]).toEqual([0xe9]);
    expect(res.headers.get('content-length')).toBe('1');
  });
});
