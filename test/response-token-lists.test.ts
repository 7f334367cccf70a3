/**
 * The setters of `Response` fields that are lists of tokens (`vary`, `allow`,
 * `contentLanguage`, `acceptRanges`) refuse a member that is not a token (RFC 9110 §5.6.2),
 * as `addVary` does, instead of sending a field its recipients cannot read (`Vary: Accept
 * Encoding`, `Allow: P OST`; §12.5.5, §10.2.1, §8.5, §14.3).
 */
import { describe, expect, it } from 'vitest';
import { HTTPMethodNotAllowed, Request, Response } from 'tsgi';
import { parseRaw, rawExchange, start } from './node-helpers.ts';

type Setter = (res: Response, value: string[]) => void;

const SETTERS: Record<string, Setter> = {
  vary: (res, value) => (res.vary = value),
  allow: (res, value) => (res.allow = value),
  'content-language': (res, value) => (res.contentLanguage = value),
  'accept-ranges': (res, value) => (res.acceptRanges = value.join(', ')),
};

/** Serves an app that sets the field named by `?field=` to the `?v=` values. */
function app() {
  return Request.application((req) => {
    const res = new Response('x');
    SETTERS[req.query.get('field')!]!(res, req.query.getAll('v'));
    return res;
  });
}

describe('token-list setters over a real socket', () => {
  it('send a list of tokens as set', async () => {
    const server = await start(app());
    const sent = async (field: string, ...values: string[]) => {
      const query = values.map((v) => `&v=${encodeURIComponent(v)}`).join('');
      const res = parseRaw((await rawExchange(server.port, `GET /?field=${field}${query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).raw);
      return { status: res.status, value: res.header(field) };
    };
    expect(await sent('vary', 'Accept-Encoding', 'Cookie')).toEqual({ status: 200, value: 'Accept-Encoding, Cookie' });
    expect(await sent('vary', '*')).toEqual({ status: 200, value: '*' });
    expect(await sent('allow', 'GET', 'HEAD')).toEqual({ status: 200, value: 'GET, HEAD' });
    expect(await sent('content-language', 'de', 'en-GB')).toEqual({ status: 200, value: 'de, en-GB' });
    expect(await sent('accept-ranges', 'bytes')).toEqual({ status: 200, value: 'bytes' });
    expect(server.log.text).toBe('');
  });

  it('never send a member that is not a token: the setter throws, the app answers 500', async () => {
    const server = await start(app());
    const sent = async (field: string, value: string) => {
      const res = parseRaw((await rawExchange(server.port, `GET /?field=${field}&v=${encodeURIComponent(value)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).raw);
      return { status: res.status, value: res.header(field) };
    };
    expect(await sent('vary', 'Accept Encoding')).toEqual({ status: 500, value: undefined });
    expect(await sent('allow', 'P OST')).toEqual({ status: 500, value: undefined });
    expect(await sent('content-language', 'en;q=1')).toEqual({ status: 500, value: undefined });
    expect(await sent('accept-ranges', 'by tes')).toEqual({ status: 500, value: undefined });
    expect(server.log.text).toContain('TypeError: invalid Vary: "Accept Encoding" is not a token');
    expect(server.log.text).toContain('TypeError: invalid Allow: "P OST" is not a token');
  });

  it('never send an empty Accept-Ranges (RFC 9110 §14.3: 1#range-unit): the setter throws, the app answers 500', async () => {
    const server = await start(app());
    for (const target of ['/?field=accept-ranges', '/?field=accept-ranges&v=', '/?field=accept-ranges&v=%20,%20']) {
      const res = parseRaw((await rawExchange(server.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).raw);
      expect({ status: res.status, value: res.header('accept-ranges') }).toEqual({ status: 500, value: undefined });
    }
    expect(server.log.text).toContain('TypeError: invalid Accept-Ranges: no range unit given ("none" when no range is served, RFC 9110 §14.3)');
  });

  it('HTTPMethodNotAllowed refuses a method that is not a token by the same check as res.allow: the app answers 500', async () => {
    const server = await start(Request.application(() => {
      throw new HTTPMethodNotAllowed(['GET', 'P OST']);
    }));
    const res = parseRaw((await rawExchange(server.port, 'DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).raw);
    expect({ status: res.status, allow: res.header('allow') }).toEqual({ status: 500, allow: undefined });
    expect(server.log.text).toContain('TypeError: invalid Allow of HTTPMethodNotAllowed: "P OST" is not a token');
  });
});

describe('token-list setters', () => {
  it('throw a TypeError naming the field and the member, as addVary throws one', () => {
    const res = new Response();
    expect(() => res.addVary('Accept Encoding')).toThrow(TypeError);
    expect(() => (res.vary = ['Accept Encoding'])).toThrow(new TypeError('invalid Vary: "Accept Encoding" is not a token'));
    expect(() => (res.allow = ['GET', 'P OST'])).toThrow(new TypeError('invalid Allow: "P OST" is not a token'));
    expect(() => (res.contentLanguage = ['en', 'fr\r\nX-Evil: 1'])).toThrow(new TypeError('invalid Content-Language: "fr\\r\\nX-Evil: 1" is not a token'));
    expect(() => (res.acceptRanges = 'by tes')).toThrow(new TypeError('invalid Accept-Ranges: "by tes" is not a token'));
    // Accept-Ranges names at least one range unit (RFC 9110 §14.3), `none` for none
    const noUnit = new TypeError('invalid Accept-Ranges: no range unit given ("none" when no range is served, RFC 9110 §14.3)');
    expect(() => (res.acceptRanges = '')).toThrow(noUnit);
    expect(() => (res.acceptRanges = ' , ')).toThrow(noUnit);
    expect(() => (res.acceptRanges = [] as unknown as string)).toThrow(noUnit);
    // a member of a list is one token: a comma in it is refused, as addVary refuses it
    expect(() => (res.vary = ['Accept, Cookie'])).toThrow(TypeError);
    expect(() => (res.allow = ['GET', ''])).toThrow(new TypeError('invalid Allow: "" is not a token'));
    // from plain JavaScript, a member that is no string
    expect(() => (res.allow = [42 as unknown as string])).toThrow(new TypeError('invalid Allow: 42 is not a token'));
    expect(res.headers.has('vary') || res.headers.has('allow') || res.headers.has('content-language') || res.headers.has('accept-ranges')).toBe(false);
  });

  it('take a header value, each comma-separated member a token; a list read once', () => {
    const res = new Response();
    res.vary = 'Accept-Encoding, Cookie';
    expect(res.vary).toEqual(['Accept-Encoding', 'Cookie']);
    expect(() => (res.vary = 'Accept-Encoding, Accept Language')).toThrow(new TypeError('invalid Vary: "Accept Language" is not a token'));
    res.acceptRanges = 'none';
    expect(res.acceptRanges).toBe('none');
    res.allow = (function* () {
      yield 'GET';
      yield 'POST';
    })();
    expect(res.headers.get('allow')).toBe('GET, POST');
    res.allow = [];
    expect(res.headers.get('allow')).toBe('');
    res.vary = [];
    expect(res.headers.has('vary')).toBe(false);
  });
});
