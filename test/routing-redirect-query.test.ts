/**
 * tsgi/routing: the 308 a route map answers (a trailing slash, merged slashes) keeps the
 * request's query, written as a valid URI reference (RFC 9110 §10.2.2, RFC 3986 §3.4): the
 * characters a client may send raw but a URI may not hold (`"`, `<`, `>`, `` ` ``, `{`, `|`,
 * `}`, `^`, `\`) are percent-encoded, escapes already there are kept as they are.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { RouteMap } from 'tsgi/routing';
import { HTTPFound } from 'tsgi';
import { parseRaw, rawExchange, start } from './node-helpers.ts';

const routes = new RouteMap({ settings: '/settings/', item: '/items/<int:id>', user: '/<username>', away: '/away' });
const app = routes.app({
  settings: () => 'settings',
  item: (_req, { id }) => `item ${id}`,
  user: (_req, { username }) => `user ${username}`,
  // A redirect of the app's own, its query built from the request's raw one.
  away: (req) => new HTTPFound(`/next?${req.queryString}#top`),
});

let port: number;
// node-helpers closes the servers it started after each test.
beforeEach(async () => {
  port = (await start(app)).port;
});
const get = async (target: string) => parseRaw((await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`)).raw);
/** RFC 3986 URI-reference characters: unreserved, reserved, and `%` of an escape. */
const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;

describe("a route map's redirect keeps the query as a valid URI", () => {
  it('percent-encodes " < > and the like in the query of a trailing-slash redirect', async () => {
    const moved = await get('/settings?q="<script>"&x={a|b}^`\\');
    expect(moved.status).toBe(308);
    const location = moved.header('location')!;
    expect(location).toBe('http://example.com/settings/?q=%22%3Cscript%3E%22&x=%7Ba%7Cb%7D%5E%60%5C');
    expect(location).toMatch(URI_CHARS);
    // The same query once decoded: nothing lost, nothing doubled.
    expect(new URL(location).searchParams.get('q')).toBe('"<script>"');
  });

  it('keeps escapes and sub-delimiters as they came, encodes brackets and a % that starts no escape', async () => {
    const moved = await get("/settings?next=%2Fa%20b&t=a+b:@/?&k=(x)*!$'[0]&bad=%zz%");
    expect(moved.header('location')).toBe("http://example.com/settings/?next=%2Fa%20b&t=a+b:@/?&k=(x)*!$'%5B0%5D&bad=%25zz%25");
  });

  it('percent-encodes them in the query of a merged-slashes redirect too', async () => {
    const moved = await get('/items//3?a=<b>');
    expect(moved.status).toBe(308);
    expect(moved.header('location')).toBe('http://example.com/items/3?a=%3Cb%3E');
  });

  it("percent-encodes them in an app's own redirect, relative or absolute, and leaves the fragment", async () => {
    const moved = await get('/away?x={a|b}^"');
    expect(moved.status).toBe(302);
    expect(moved.header('location')).toBe('http://example.com/next?x=%7Ba%7Cb%7D%5E%22#top');
  });
});
