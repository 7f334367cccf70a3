/**
 * `mount`: a key holding a percent-encoded escape (`'/my%20shop'`, `'/caf%C3%A9'`, copied
 * from an address bar) is a `TypeError` naming the key to write. Keys are matched against the
 * decoded path (`PATH_INFO`: `/my shop`), so such a key took only a client that encoded the `%`
 * itself (`/my%2520shop`), every other request a silent 404, as a route pattern's escape
 * (test/routing-pattern-escapes.test.ts). A `%` that starts no escape is text. Over a socket.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { mount } from 'tsgi/middleware';
import { parseRaw, rawExchange, serveForSuite } from './node-helpers.ts';

const where = Request.application((req) => new Response(`${req.scriptName} ${req.pathInfo} ${req.applicationUrl}`));

describe('a mount key with a percent-encoded escape', () => {
  it('is a TypeError naming the key to write', () => {
    expect(() => mount({ '/my%20shop': where })).toThrow(
      new TypeError('mount: a key is a decoded path (got "/my%20shop"): "%20" is a percent-encoded escape, matched as literal text (a silent 404): write "/my shop"'),
    );
    expect(() => mount({ 'https://example.com/caf%C3%A9': where })).toThrow(/got "https:\/\/example\.com\/caf%C3%A9"\): "%C3%A9" is .*: write "https:\/\/example\.com\/caf\u00e9"$/);
  });

  it('leaves a % that starts no escape as text', () => {
    expect(() => mount({ '/100%': where, '/a%zz': where })).not.toThrow();
    // Escapes that are no UTF-8 never reach an app (400 before it): such text is a literal %.
    expect(() => mount({ '/10%each': where, '/caf%E9': where })).not.toThrow();
  });
});

describe('over a socket', () => {
  const served = serveForSuite(mount({ '/my shop': where, '/caf\u00e9': where }));
  const get = async (target: string) => parseRaw((await rawExchange(served.port, `GET ${target} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`)).raw);

  it('takes the decoded key at its escapes, and builds them back', async () => {
    const shop = await get('/my%20shop/items');
    expect(shop.status).toBe(200);
    expect(shop.rest).toContain('/my shop /items http://example.com/my%20shop');
    const cafe = await get('/caf%C3%A9/menu');
    expect(cafe.status).toBe(200);
    expect(cafe.rest).toContain('http://example.com/caf%C3%A9');
  });
});
