import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { serializeSetCookie } from 'tsgi/http';
import { errors } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { request, start } from './node-helpers.ts';

/** Browsers ignore a `Set-Cookie` whose name and value add up to more than 4096 octets (RFC 6265bis §5.7). */
describe('a cookie browsers would drop for its size', () => {
  const site = Request.application((req) => {
    const size = Number(req.query.get('size'));
    const res = new Response('saved');
    res.setCookie('prefs', 'x'.repeat(size - 'prefs'.length));
    return res;
  });

  it('is refused by res.setCookie, a logged 500 naming the size, rather than sent to be dropped', async () => {
    const server = await start(errors(site));
    const over = await request(`${server.url}/?size=4097`);
    expect(over.status).toBe(500);
    expect(over.headers['set-cookie']).toBeUndefined();
    expect(server.log.text).toMatch(/RangeError: cookie "prefs" is 4097 bytes \(name and value\), over 4096/);

    const limit = await request(`${server.url}/?size=4096`);
    expect(limit.status).toBe(200);
    expect(limit.headers['set-cookie']![0]).toMatch(/^prefs=x{4091}; Path=\/$/);
  });

  it('counts the encoded value in bytes', () => {
    // 'é' is encoded as %C3%A9: 1366 of them are 8196 bytes on the wire.
    expect(() => serializeSetCookie('a', 'é'.repeat(1366))).toThrow(RangeError);
    expect(() => serializeSetCookie('a', 'é'.repeat(681))).not.toThrow(); // 1 + 4086
    expect(() => serializeSetCookie('a', '', { maxAge: 0, path: `/${'p'.repeat(5000)}` })).not.toThrow(); // attributes are not counted
  });

  it('set by hand (a raw Set-Cookie, an upstream behind proxy) is not kept by the TestClient jar, as a browser drops it', async () => {
    const raw = (_environ: unknown, startResponse: (status: string, headers: Array<[string, string]>) => unknown) => {
      startResponse('200 OK', [
        ['Set-Cookie', `big=${'x'.repeat(4097 - 3)}; Path=/`],
        ['Set-Cookie', `edge=${'y'.repeat(4096 - 4)}; Path=/`],
      ]);
      return [new TextEncoder().encode('ok')];
    };
    const client = new TestClient(raw);
    await client.get('/');
    expect(client.cookies.get('big')).toBeUndefined();
    expect(client.cookies.get('edge')).toHaveLength(4092);
    expect(() => client.cookies.set('prefs', 'x'.repeat(5000))).toThrow(RangeError);
  });
});
