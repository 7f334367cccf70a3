import { describe, expect, it } from 'vitest';
import { type App, type Environ, HTTPFound, HTTPMovedPermanently, Request, Response } from 'tsgi';
import { basicAuth, bearerAuth } from 'tsgi/middleware';
import { basicAuthorization } from 'tsgi/http';
import { request, start } from './node-helpers.ts';

/** A page whose caching fields the request's path names: `/h/<Name>/<value>/…`, pairs of them. */
const site: App = Request.application((req) => {
  const res = new Response(`Hello ${req.remoteUser ?? 'stranger'}`);
  const parts = req.pathInfo.split('/').slice(2).map(decodeURIComponent);
  for (let i = 0; i + 1 < parts.length; i += 2) res.headers.add(parts[i]!, parts[i + 1]!);
  return res;
});

/** The path that makes `site` answer with `fields`. */
const withFields = (fields: ReadonlyArray<readonly [string, string]>) => `/h/${fields.map(([n, v]) => `${n}/${encodeURIComponent(v)}`).join('/')}`;

const layers: ReadonlyArray<readonly [string, App, string]> = [
  ['basicAuth', basicAuth(site, { verify: (user, password) => user === 'alice' && password === 'pw' }), basicAuthorization('alice', 'pw')],
  ['bearerAuth', bearerAuth(site, { verify: (token) => (token === 'tok-alice' ? 'alice' : null) }), 'Bearer tok-alice'],
];

describe('basicAuth and bearerAuth: an authenticated answer and shared caches (RFC 9111 §3.5)', () => {
  it.each(layers)('%s makes an answer the app made cacheable but not shareable private (socket)', async (_, app, authorization) => {
    const server = await start(app);
    try {
      const get = async (fields: ReadonlyArray<readonly [string, string]>) => {
        const res = await request(`${server.url}${withFields(fields)}`, { headers: { authorization } });
        expect(res.body.toString()).toBe('Hello alice');
        return res.headers;
      };
      // nginx's proxy_cache stored this and served alice's page to a client without credentials.
      expect((await get([['Cache-Control', 'max-age=60']]))['cache-control']).toBe('max-age=60, private');
      expect((await get([['Expires', 'Thu, 01 Jan 2099 00:00:00 GMT']]))['cache-control']).toBe('private');
      // A CDN obeys its own field over Cache-Control: one with a lifetime alone is removed.
      const cdn = await get([['Cache-Control', 'max-age=60'], ['CDN-Cache-Control', 'max-age=600'], ['Surrogate-Control', 'max-age=600']]);
      expect([cdn['cache-control'], cdn['cdn-cache-control'], cdn['surrogate-control']]).toEqual(['max-age=60, private', undefined, undefined]);
      // The app said a shared cache may keep it (RFC 9111 §3.5), in Cache-Control or in a CDN's field: as it said.
      for (const value of ['public, max-age=60', 's-maxage=60', 'max-age=60, must-revalidate', 'private, max-age=60', 'no-store']) {
        expect((await get([['Cache-Control', value]]))['cache-control'], value).toBe(value);
      }
      const shared = await get([['Cache-Control', 'max-age=60'], ['CDN-Cache-Control', 'public, max-age=600']]);
      expect([shared['cache-control'], shared['cdn-cache-control']]).toEqual(['max-age=60', 'public, max-age=600']);
      // No caching fields: no shared cache reuses it for another request with Authorization
      // (RFC 9111 §3.5), nor stores it without a lifetime of its own: left as it is.
      expect((await get([]))['cache-control']).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it.each(layers)('%s answers its challenge (401) without caching fields (socket)', async (_, app) => {
    const server = await start(app);
    try {
      const res = await request(`${server.url}/`);
      expect(res.status).toBe(401);
      // 401 is not cacheable by default (RFC 9110 §15.1): no field to make it so.
      for (const name of ['cache-control', 'expires', 'cdn-cache-control', 'surrogate-control']) expect(res.headers[name], name).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});

/**
 * A raw app that throws a redirect (Flask's `abort(redirect(…))`), sync or async as the path's
 * first part says, escaping the auth layer to be answered by `serve()`: `/<how>/301` without
 * caching fields (cacheable by default, RFC 9110 §15.1, for a heuristic time, RFC 9111
 * §4.2.2), `/<how>/301-max-age`, `/<how>/301-cdn` (a CDN's field too), `/<how>/302-public`.
 */
const thrower = (environ: Environ) => {
  const [, how, kind] = environ.PATH_INFO.split('/');
  const redirect = kind === '302-public' ? new HTTPFound('/') : new HTTPMovedPermanently('/');
  if (kind === '301-max-age') redirect.headers.set('Cache-Control', 'max-age=60');
  if (kind === '301-cdn') {
    redirect.headers.set('Cache-Control', 'max-age=60').set('CDN-Cache-Control', 'max-age=600');
  }
  if (kind === '302-public') redirect.headers.set('Cache-Control', 'public, max-age=600');
  if (how === 'async') return Promise.reject(redirect);
  throw redirect;
};

const verify = (token: string) => (token === 'tok-a' ? 'alice' : null);
const throwing: ReadonlyArray<readonly [string, App, Record<string, string>, string]> = [
  [
    'basicAuth',
    basicAuth(thrower, { verify: (user, password) => user === 'alice' && password === 'pw' }),
    { authorization: basicAuthorization('alice', 'pw') },
    '',
  ],
  ['bearerAuth', bearerAuth(thrower, { verify }), { authorization: 'Bearer tok-a' }, ''],
  [
    'bearerAuth (token in the query)',
    bearerAuth(thrower, { verify, allowQuery: true }),
    {},
    '?access_token=tok-a',
  ],
];

describe('basicAuth and bearerAuth: a redirect the app below throws, and shared caches', () => {
  it.each(throwing)('%s: as a returned one, sync or async (socket)', async (name, app, sent, q) => {
    const inUrl = q !== '';
    const server = await start(app);
    try {
      for (const how of ['sync', 'async']) {
        const get = async (kind: string) => {
          const res = await request(`${server.url}/${how}/${kind}${q}`, { headers: sent });
          expect(res.status, `${how} ${kind}`).toBe(Number(kind.slice(0, 3)));
          return res.headers;
        };
        // nginx's proxy_cache stored alice's redirect and served it to clients without credentials.
        expect((await get('301-max-age'))['cache-control'], how).toBe('max-age=60, private');
        const cdn = await get('301-cdn');
        expect([cdn['cache-control'], cdn['cdn-cache-control']], how).toEqual([
          'max-age=60, private',
          undefined,
        ]);
        // The same rule as for a returned answer: no lifetime, or the app's word to share, is
        // left as it is; a token in the URL makes it private whatever it says (RFC 6750 §2.3).
        const what = `${name} ${how}`;
        expect((await get('301'))['cache-control'], what).toBe(inUrl ? 'private' : undefined);
        const shared = inUrl ? 'max-age=600, private' : 'public, max-age=600';
        expect((await get('302-public'))['cache-control'], what).toBe(shared);
      }
    } finally {
      await server.close();
    }
  });
});
