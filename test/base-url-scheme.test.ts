/**
 * A made-up request's URL is an absolute `http:` or `https:` URL, the only schemes
 * `tsgi.url_scheme` may hold (docs/spec.md §2), and another is refused when given, named:
 * - `new TestClient(app, { baseUrl })`: `'ftp://host/'` and `'ws://host'` were taken, and every
 *   call after failed (`GET /x: the test client sends http(s) URLs only`, naming the path the
 *   test wrote); `'localhost:8000/app'` (no scheme) was a bare `Invalid URL`;
 * - `Request.blank(url, { baseUrl })`: `'ws://host/x'` made an environ with `tsgi.url_scheme`
 *   `ws`, and a `baseUrl` of `'localhost:8000'` one with the scheme `localhost`, no
 *   `SERVER_NAME` and `SERVER_PORT` `808000` (`req.url` `localhost://:808000/x`).
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { TestClient } from 'tsgi/testing';

const app = Request.application((req) => new Response(`${req.url} ${req.scriptName}`));

const OTHER_SCHEMES = ['ftp://host/', 'ws://host.test', 'file:///tmp/app', 'mailto:ada@example.com', 'localhost:8000/app'];

describe('TestClient baseUrl', () => {
  it.each([...OTHER_SCHEMES, '/app', ''])('refuses %j at construction, naming baseUrl', (baseUrl) => {
    expect(() => new TestClient(app, { baseUrl })).toThrow(TypeError);
    expect(() => new TestClient(app, { baseUrl })).toThrow(/^new TestClient: baseUrl must be an absolute http: or https: URL \('http:\/\/localhost\/app'\), got ".*" \(a string\)$/);
  });

  it('still refuses one with credentials, saying how to send them', () => {
    expect(() => new TestClient(app, { baseUrl: 'http://ada:pw@localhost' })).toThrow(/^new TestClient: baseUrl: a URL with credentials is refused/);
  });

  it.each([
    ['http://localhost', 'http://localhost/x '],
    ['https://h.test:8443/app/', 'https://h.test:8443/app/x /app'],
    ['HTTP://H.TEST/app', 'http://h.test/app/x /app'],
  ])('takes %j', async (baseUrl, text) => {
    expect((await new TestClient(app, { baseUrl }).get('/x')).textBody).toBe(text);
  });
});

describe('Request.blank', () => {
  it.each(OTHER_SCHEMES)('refuses the baseUrl %j, naming it', (baseUrl) => {
    expect(() => Request.blank('/x', { baseUrl })).toThrow(TypeError);
    expect(() => Request.blank('/x', { baseUrl })).toThrow(/^Request\.blank: baseUrl must be an absolute http: or https: URL/);
  });

  it.each(['ws://host.test/x', 'ftp://host/x', 'wss://host.test/x?a=1'])('refuses the absolute URL %j, naming it', (url) => {
    expect(() => Request.blank(url)).toThrow(TypeError);
    expect(() => Request.blank(url)).toThrow(/^Request\.blank: the URL must be an absolute http: or https: URL/);
  });

  it('takes http(s) URLs, in any case, as before', () => {
    const req = Request.blank('HTTPS://H.test:8443/x?a=1');
    expect([req.url, req.environ['tsgi.url_scheme'], req.environ.SERVER_PORT]).toEqual(['https://h.test:8443/x?a=1', 'https', '8443']);
    const based = Request.blank('/x', { baseUrl: 'Https://h.test/app/' });
    expect([based.url, based.scriptName, based.pathInfo]).toEqual(['https://h.test/app/x', '/app', '/x']);
  });

  it('takes a path that reads like a scheme as a path, as before (no `//`)', () => {
    expect(Request.blank('mailto:ada@example.com').pathInfo).toBe('/mailto:ada@example.com');
  });
});
