/**
 * tsgi/routing: a pattern or a `redirectTo` template holding a percent-encoded escape
 * (`'/caf%C3%A9'`, `'/docs/my%20page'`, copied from a browser's address bar) is a `TypeError`
 * from `new RouteMap` naming the text to write. Rules match the decoded path (`PATH_INFO`,
 * `/café`), so such a rule matched only a client that encoded the `%` itself
 * (`/caf%25C3%25A9`), a silent 404, and `build` wrote that double encoding; a template
 * redirected there. Werkzeug takes such a rule without a word. A `%` that starts no escape
 * (`'/100%'`) is text, as before. Over a socket.
 */
import { describe, expect, it } from 'vitest';
import { RouteMap } from 'tsgi/routing';
import { parseRaw, rawExchange, serveForSuite } from './node-helpers.ts';

describe('a percent-encoded escape in a pattern', () => {
  it('is a TypeError naming the decoded text to write', () => {
    expect(() => new RouteMap({ cafe: '/caf%C3%A9' })).toThrow(
      new TypeError('cafe (/caf%C3%A9): "%C3%A9" is a percent-encoded escape, matched here as literal text (a silent 404: rules match the decoded path): write "/caf\u00e9"'),
    );
    expect(() => new RouteMap({ page: '/docs/my%20page/<int:n>' })).toThrow(/page \(\/docs\/my%20page\/<int:n>\): "%20" is a percent-encoded escape.*: write "\/docs\/my page\/<int:n>"$/);
    expect(() => new RouteMap({ cafe: { path: '/c', redirectTo: '/caf%c3%a9/<n>' } as never })).toThrow(/"%c3%a9" is a percent-encoded escape/);
  });

  it('is refused in a redirectTo template, which redirected to the double encoding', () => {
    expect(() => new RouteMap({ old: { path: '/old/<int:n>', redirectTo: '/new%20page/<n>' } })).toThrow(
      new TypeError('/old/<int:n> (old): redirectTo: "%20" is a percent-encoded escape, matched here as literal text (a silent 404: rules match the decoded path): write "/new page/<n>"'),
    );
  });

  it('leaves a % that starts no escape, and a converter argument, as they are', () => {
    expect(() => new RouteMap({ sale: '/100%', odd: '/a%zz', word: "/w/<any('%41', b):w>" })).not.toThrow();
  });

  it('leaves a % before hex digits that decode to no UTF-8 as text (/10%each, /100%Cafe): no request path holds such an escape', () => {
    // A path whose escapes are no UTF-8 is answered 400 before the map, so the only request such
    // text can match is the one holding it literally (/10%25each): refusing it left no way to write it.
    expect(() => new RouteMap({ each: '/10%each', cafe: '/100%Cafe', latin: '/caf%E9' })).not.toThrow();
  });
});

describe('over a socket', () => {
  const routes = new RouteMap({ cafe: '/caf\u00e9/<int:n>', sale: '/100%', each: '/10%each', old: { path: '/old/<int:n>', redirectTo: '/caf\u00e9/<n>' } });
  const served = serveForSuite(routes.app({ cafe: (req, { n }) => `caf\u00e9 ${n}`, sale: () => 'sale', each: () => 'each' }));
  const get = async (target: string) => parseRaw((await rawExchange(served.port, `GET ${target} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`)).raw);

  it('answers the written text at its escapes, and builds and redirects to them', async () => {
    const cafe = await get('/caf%C3%A9/3');
    expect(cafe.status).toBe(200);
    expect(Buffer.from(cafe.rest, 'latin1').toString('utf8')).toContain('caf\u00e9 3');
    expect(routes.build('cafe', { n: 3 })).toBe('/caf%C3%A9/3');
    expect((await get('/old/3')).header('location')).toBe('http://example.com/caf%C3%A9/3');
    const sale = await get('/100%25');
    expect(sale.status).toBe(200);
    expect(sale.rest).toContain('sale');
    expect(routes.build('each')).toBe('/10%25each');
    const each = await get(routes.build('each'));
    expect([each.status, each.rest.includes('each')]).toEqual([200, true]);
  });
});
