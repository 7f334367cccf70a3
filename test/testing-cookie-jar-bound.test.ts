/**
 * The TestClient's cookie jar stays bounded over a long run, as a browser's does: an app that
 * sets a cookie of a new name per request (a per-form token) had the jar keep, and send, every
 * one ever set. Past 180 cookies for a site (Chrome's and Firefox's limit), the least
 * recently used go; expired ones go first.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { TestClient } from 'tsgi/testing';

/** Sets `form<n>` (`?n=`; for the path `/forms/<n>` with `&path`) and answers the number of cookies it was sent. */
const app = Request.application((req) => {
  const sent = req.headers.get('Cookie');
  const res = new Response(String(sent === null ? 0 : sent.split('; ').length));
  const n = req.query.get('n');
  if (n !== undefined) res.setCookie(`form${n}`, 'token', { maxAge: 3600, ...(req.query.has('path') ? { path: `/forms/${n}` } : {}) });
  return res;
});

describe("the TestClient's cookie jar", () => {
  it('keeps at most 180 cookies for a site, dropping the least recently used', async () => {
    const client = new TestClient(app);
    for (let n = 0; n < 400; n++) await client.get(`/?n=${n}`);
    expect(client.cookies.all()).toHaveLength(180);
    expect(await (await client.get('/')).text()).toBe('180');
    // The newest 180 are kept: the first 220 went.
    expect(client.cookies.get('form219')).toBeUndefined();
    expect(client.cookies.get('form220')).toBe('token');
    expect(client.cookies.get('form399')).toBe('token');
  });

  it('keeps a cookie it goes on sending over newer ones it never sent', async () => {
    const client = new TestClient(app);
    client.cookies.set('sid', 'kept');
    // Each `form<n>` is set for its own path, never asked again; `sid` goes with every request.
    for (let n = 0; n < 250; n++) await client.get(`/?n=${n}&path=1`);
    expect(client.cookies.get('sid')).toBe('kept');
    expect(client.cookies.all()).toHaveLength(180);
  });

  it('counts by site: a subdomain counts with its site, another site apart', async () => {
    const client = new TestClient(app, { baseUrl: 'http://shop.example.com/' });
    for (let n = 0; n < 100; n++) client.cookies.set(`other${n}`, 'v', { domain: 'other.example' });
    for (let n = 0; n < 100; n++) client.cookies.set(`site${n}`, 'v', { domain: 'example.com' });
    for (let n = 0; n < 150; n++) await client.get(`/?n=${n}`);
    const domains = client.cookies.all().map((c) => c.domain);
    expect(domains.filter((d) => d === 'other.example')).toHaveLength(100);
    expect(domains.filter((d) => d.endsWith('example.com'))).toHaveLength(180);
  });

  it('keeps localhost and its subdomains apart: app.localhost is a site of its own, as in browsers', async () => {
    const client = new TestClient(app);
    for (let n = 0; n < 100; n++) await client.get(`http://app.localhost/?n=${n}`);
    for (let n = 100; n < 250; n++) await client.get(`/?n=${n}`);
    const domains = client.cookies.all().map((c) => c.domain);
    expect(domains.filter((d) => d === 'app.localhost')).toHaveLength(100);
    expect(domains.filter((d) => d === 'localhost')).toHaveLength(150);
  });
});
