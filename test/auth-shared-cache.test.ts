import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
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
