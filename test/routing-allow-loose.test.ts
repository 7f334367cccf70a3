/**
 * tsgi/routing: the `Allow` of a `405` (and of the `OPTIONS` `204`) for a path with a trailing
 * slash lists the methods of the rules for it and those of the rules without strict slashes
 * that answer it too (`/notes/<id>` with `strictSlashes: false` answers `/notes/3/`), as
 * Werkzeug's matcher collects them; it listed the first only, so a method the path answers
 * (`PUT /notes/3/`) was left out of `Allow` (RFC 9110 §15.5.6: the methods the target
 * resource supports). Likewise for a path without the slash that a rule with one answers
 * (`/tags/` without strict slashes answers `GET /tags`), where Werkzeug leaves it out too.
 * Over a socket.
 */
import { describe, expect, it } from 'vitest';
import { RouteMap } from 'tsgi/routing';
import { parseRaw, rawExchange, serveForSuite } from './node-helpers.ts';

const routes = new RouteMap({
  // The page of a note, under its slash; the API answers the note with or without one.
  page: '/notes/<int:id>/',
  api: { path: '/notes/<id>', methods: ['PUT', 'DELETE'], strictSlashes: false },
  // The other way round: a list under its slash that answers without it too.
  create: { path: '/tags', methods: ['POST'] },
  list: { path: '/tags/', strictSlashes: false },
});
const app = routes.app({ page: (req, { id }) => `page ${id}`, api: (req, { id }) => `${req.method} ${id}`, create: () => 'created', list: () => 'list' });
const served = serveForSuite(app);

const ask = async (method: string, target: string) =>
  parseRaw((await rawExchange(served.port, `${method} ${target} HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)).raw);

describe('Allow for a path with a trailing slash', () => {
  it("lists the methods of the slash rule and of the rule without strict slashes that answers it too", async () => {
    const refused = await ask('POST', '/notes/3/');
    expect(refused.status).toBe(405);
    expect(refused.header('allow')).toBe('DELETE, GET, HEAD, OPTIONS, PUT');
    const options = await ask('OPTIONS', '/notes/3/');
    expect(options.status).toBe(204);
    expect(options.header('allow')).toBe('DELETE, GET, HEAD, OPTIONS, PUT');
    expect(routes.bind({ REQUEST_METHOD: 'GET', PATH_INFO: '/notes/3/' } as never).allowedMethods()).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PUT']);
  });

  it('answers each method it lists', async () => {
    for (const [method, body] of [['GET', 'page 3'], ['PUT', 'PUT 3'], ['DELETE', 'DELETE 3']] as const) {
      const answer = await ask(method, '/notes/3/');
      expect(answer.status).toBe(200);
      expect(answer.rest).toContain(body);
    }
    // Without the slash: the API's methods only (GET is redirected to the page, as in Werkzeug).
    const refused = await ask('POST', '/notes/3');
    expect(refused.status).toBe(405);
    expect(refused.header('allow')).toBe('DELETE, OPTIONS, PUT');
    expect((await ask('GET', '/notes/3')).header('location')).toBe('http://example.com/notes/3/');
  });

  it('lists, for a path without the slash, the methods of a rule with one and without strict slashes, which answers it', async () => {
    expect((await ask('GET', '/tags')).rest).toContain('list');
    expect((await ask('POST', '/tags')).rest).toContain('created');
    const refused = await ask('DELETE', '/tags');
    expect(refused.status).toBe(405);
    expect(refused.header('allow')).toBe('GET, HEAD, OPTIONS, POST');
    expect((await ask('OPTIONS', '/tags')).header('allow')).toBe('GET, HEAD, OPTIONS, POST');
    // A strict rule with the slash redirects instead of answering: not listed (/notes/3 above).
  });
});
