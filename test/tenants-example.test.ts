/**
 * examples/tenants.ts, a multi-tenant site behind a load balancer, over a real socket: the
 * tenant found from the forwarded host (subdomain or custom domain, any case, a port or a
 * trailing dot), an unknown host refused before any page names it, the marketing site on its
 * fixed hosts, a session that stays on its tenant's host, and CORS per tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, serve } from 'tsgi';
import { app, tenantFor, tenantSite } from '../examples/tenants.ts';
import { request } from './node-helpers.ts';

let server: ServerHandle;
beforeAll(async () => {
  server = await serve(app, { port: 0 });
});
afterAll(() => server.close());

/** A request as the load balancer forwards it: its own Host, the client's in X-Forwarded-Host, over https. */
function forwarded(host: string, path = '/', options: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return request(new URL(path, server.url).href, {
    ...options,
    headers: { host: 'tenants.internal', 'x-forwarded-host': host, 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9', ...options.headers },
  });
}

describe('examples/tenants.ts', () => {
  it('finds the tenant from the forwarded host: a subdomain or a custom domain, any case, a port, a trailing dot', async () => {
    for (const host of ['acme.example.com', 'ACME.Example.com.', 'acme.example.com:443', 'shop.acme.test']) {
      const res = await forwarded(host);
      expect(res.status, host).toBe(200);
      expect(res.body.toString(), host).toMatch(/^Acme Corp: not logged in \(https:\/\//);
    }
    expect((await forwarded('bob.example.com')).body.toString()).toBe("Bob's Shop: not logged in (https://bob.example.com/)");
    expect(tenantFor('Shop.Acme.Test.')?.id).toBe('acme');
  });

  it('answers 404 to a host that is no tenant: nothing the app builds names it', async () => {
    for (const host of ['evil.com', 'nobody.example.com', 'a.acme.example.com', 'acme.example.com.evil.com', 'tenants.internal']) {
      const res = await forwarded(host, '/');
      expect(res.status, host).toBe(404);
      expect(res.body.toString(), host).not.toContain(host);
    }
    // Without X-Forwarded-Host, the proxy's own Host is no tenant either.
    expect((await request(server.url, { headers: { host: 'tenants.internal' } })).status).toBe(404);
  });

  it('serves the marketing site on www, and sends the bare domain there, keeping the scheme and path', async () => {
    expect((await forwarded('www.example.com')).body.toString()).toContain('you asked for www.example.com');
    const apex = await forwarded('Example.com', '/pricing?plan=pro');
    expect(apex.status).toBe(303);
    expect(apex.headers.location).toBe('https://www.example.com/pricing?plan=pro');
  });

  it("keeps a login on its tenant's host: host-only __Host- cookie, and refused on another tenant's host", async () => {
    const login = await forwarded('acme.example.com', '/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=ann',
    });
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('https://acme.example.com/');
    const setCookie = login.headers['set-cookie']![0]!;
    expect(setCookie).toMatch(/^__Host-session=[^;]+;/);
    expect(setCookie).toMatch(/; Path=\/;.*; HttpOnly; Secure; SameSite=Lax$/);
    expect(setCookie).not.toMatch(/Domain=/i);
    const cookie = setCookie.split(';')[0]!;
    const mine = await forwarded('acme.example.com', '/api/me', { headers: { cookie } });
    expect(JSON.parse(mine.body.toString())).toEqual({ tenant: 'acme', user: 'ann' });
    // The same cookie, copied to another tenant's host, verifies (one key) but is not a login there.
    const copied = await forwarded('bob.example.com', '/api/me', { headers: { cookie } });
    expect(JSON.parse(copied.body.toString())).toEqual({ tenant: 'bob', user: null });
  });

  it("refuses a login posted from another tenant's page, a sibling subdomain the Lax cookie goes to", async () => {
    const post = (origin: string, site: string) =>
      forwarded('acme.example.com', '/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin, 'sec-fetch-site': site },
        body: 'user=mallory',
      });
    const forged = await post('https://bob.example.com', 'same-site');
    expect(forged.status).toBe(403);
    expect(forged.headers['set-cookie']).toBeUndefined();
    // An older browser, judged by Origin alone.
    const older = await forwarded('acme.example.com', '/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://bob.example.com' }, body: 'user=mallory' });
    expect(older.status).toBe(403);
    // The tenant's own pages, and its own front ends (which CORS lets read with cookies), still log in.
    expect((await post('https://acme.example.com', 'same-origin')).status).toBe(303);
    expect((await post('https://app.acme.test', 'cross-site')).status).toBe(303);
    expect((await forwarded('bob.example.com', '/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://app.acme.test', 'sec-fetch-site': 'cross-site' }, body: 'user=x' })).status).toBe(403);
  });

  it('answers 400 to a user name too long for the session cookie, not a 500', async () => {
    const res = await forwarded('acme.example.com', '/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `user=${'a'.repeat(5000)}`,
    });
    expect(res.status).toBe(400);
    expect(res.body.toString()).toContain('The user name is longer than 100 characters.');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('exports tenantSite without proxyFix, for tsgi serve --proxy-headers: it reads the Host as it comes', async () => {
    const direct = await serve(tenantSite, { port: 0 });
    try {
      const res = await request(direct.url, { headers: { host: 'bob.example.com', 'x-forwarded-host': 'acme.example.com' } });
      expect(res.body.toString()).toBe("Bob's Shop: not logged in (http://bob.example.com/)");
    } finally {
      await direct.close();
    }
  });

  it("allows each tenant's own front ends, and no other tenant's", async () => {
    const origin = 'https://app.acme.test';
    const preflight = await forwarded('acme.example.com', '/api/me', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(origin);
    expect(preflight.headers['access-control-allow-credentials']).toBe('true');
    const elsewhere = await forwarded('bob.example.com', '/api/me', { headers: { origin } });
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.headers['access-control-allow-origin']).toBeUndefined();
    expect(elsewhere.headers.vary).toContain('Origin');
  });
});
