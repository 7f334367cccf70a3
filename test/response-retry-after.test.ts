/**
 * `res.retryAfter` set to a string, as plain JavaScript (or a value read from a query or a
 * config file) gives it: a digit string is a number of seconds, as Werkzeug's `retry_after`
 * setter takes it, not a date in the year 120; an HTTP-date string is a date; any other string
 * is refused (RFC 9110 §10.2.3: `Retry-After = HTTP-date / delay-seconds`).
 */
import { describe, expect, it } from 'vitest';
import { HTTPServiceUnavailable, Request, Response } from 'tsgi';
import { formatRetryAfter } from 'tsgi/http';
import { parseRaw, rawExchange, start } from './node-helpers.ts';

describe('res.retryAfter set to a string, over a real socket', () => {
  it('sends a digit string as delay-seconds and an HTTP-date as one; refuses anything else', async () => {
    const server = await start(
      Request.application((req) => {
        const res = new Response('later', { status: 503 });
        // what plain JavaScript can do: the types take a number or a Date
        res.retryAfter = req.query.get('after') as unknown as number;
        return res;
      }),
    );
    const sent = async (after: string) => {
      const res = parseRaw((await rawExchange(server.port, `GET /?after=${encodeURIComponent(after)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).raw);
      return { status: res.status, retryAfter: res.header('retry-after') };
    };
    expect(await sent('120')).toEqual({ status: 503, retryAfter: '120' });
    expect(await sent(' 0 ')).toEqual({ status: 503, retryAfter: '0' });
    expect(await sent('Wed, 21 Oct 2037 07:28:00 GMT')).toEqual({ status: 503, retryAfter: 'Wed, 21 Oct 2037 07:28:00 GMT' });
    expect(server.log.text).toBe('');
    // not seconds, not an HTTP-date: the setter throws (a logged 500), nothing is sent as a date
    expect(await sent('2037-10-21')).toEqual({ status: 500, retryAfter: undefined });
    expect(await sent('1.5')).toEqual({ status: 500, retryAfter: undefined });
    expect(server.log.text).toContain('TypeError: invalid Retry-After: "2037-10-21" is neither seconds nor an HTTP-date');
  });
});

describe('Retry-After from a string', () => {
  it('the setter, formatRetryAfter and the exceptions option read it alike', () => {
    const res = new Response();
    res.retryAfter = '120';
    expect(res.retryAfter).toEqual({ seconds: 120 });
    res.retryAfter = 'Sun, 06 Nov 1994 08:49:37 GMT';
    expect(res.retryAfter).toEqual({ date: new Date(Date.UTC(1994, 10, 6, 8, 49, 37)) });
    expect(() => (res.retryAfter = 'soon')).toThrow(new TypeError('invalid Retry-After: "soon" is neither seconds nor an HTTP-date'));
    expect(() => (res.retryAfter = '-5')).toThrow(TypeError);
    expect(res.retryAfter).toEqual({ date: new Date(Date.UTC(1994, 10, 6, 8, 49, 37)) });
    expect(formatRetryAfter('0600')).toBe('600');
    expect(new HTTPServiceUnavailable(undefined, { retryAfter: '30' }).headers.get('retry-after')).toBe('30');
  });
});
