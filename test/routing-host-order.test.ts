/**
 * tsgi/routing: among rules with a host at the same path, a host without placeholders is
 * tried before one with them, and a placeholder host with more static text before one with
 * less, whatever the order they are declared in (Werkzeug's host matching: static parts first,
 * as a path's static segment beats a placeholder).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { RouteMap } from 'tsgi/routing';
import { parseRaw, rawExchange, start } from './node-helpers.ts';

const routes = new RouteMap({
  userHome: { path: '/', host: '<user>.example.com' },
  versionHome: { path: '/', host: '<any(v1,v2):version>.api.example.com' },
  apiHome: { path: '/', host: 'api.example.com' },
  userFile: { path: '/files/<path:rest>', host: '<user>.example.com' },
  apiFile: { path: '/files/<path:rest>', host: 'api.example.com' },
  userItem: { path: '/items/<int:id>', host: '<user>.example.com' },
  apiItem: { path: '/items/<int:id>', host: 'api.example.com' },
  anyHost: '/items/<int:id>',
});
const app = routes.app({
  userHome: (_req, { user }) => `user ${user}`,
  versionHome: (_req, { version }) => `version ${version}`,
  apiHome: () => 'api',
  userFile: (_req, { user, rest }) => `user ${user} file ${rest}`,
  apiFile: (_req, { rest }) => `api file ${rest}`,
  userItem: (_req, { user, id }) => `user ${user} item ${id}`,
  apiItem: (_req, { id }) => `api item ${id}`,
  anyHost: (_req, { id }) => `item ${id}`,
});

let server: Awaited<ReturnType<typeof start>>;
// node-helpers closes the servers it started after each test.
beforeEach(async () => {
  server = await start(app);
});
const get = async (host: string, path: string) => parseRaw((await rawExchange(server.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).raw).rest;

describe('rules with hosts at the same path', () => {
  it('try a static host before a placeholder host declared earlier', async () => {
    expect(await get('api.example.com', '/')).toBe('api');
    expect(await get('api.example.com', '/items/3')).toBe('api item 3');
    expect(await get('api.example.com', '/files/a/b')).toBe('api file a/b');
    expect(routes.lookup('GET', '/', 'API.example.com')).toMatchObject({ kind: 'match', rule: { endpoint: 'apiHome' } });
  });

  it('try a placeholder host with more static text first', async () => {
    expect(await get('v1.api.example.com', '/')).toBe('version v1');
    expect(await get('v3.api.example.com', '/')).toBe('user v3.api');
  });

  it('leave the other hosts and the rules without a host as they were', async () => {
    expect(await get('alice.example.com', '/')).toBe('user alice');
    expect(await get('alice.example.com', '/items/3')).toBe('user alice item 3');
    expect(await get('alice.example.com', '/files/x')).toBe('user alice file x');
    expect(await get('example.org', '/items/3')).toBe('item 3');
  });
});

describe('the path before the host (docs/routing.md: what differs from Werkzeug)', () => {
  it('lets a placeholder host with a static path beat a static host with a placeholder path', () => {
    // Werkzeug matches the host first, so apiPage would answer there.
    const paths = new RouteMap({ userAbout: { path: '/about', host: '<user>.example.com' }, apiPage: { path: '/<page>', host: 'api.example.com' } });
    expect(paths.lookup('GET', '/about', 'api.example.com')).toMatchObject({ kind: 'match', rule: { endpoint: 'userAbout' }, values: { user: 'api' } });
    expect(paths.lookup('GET', '/help', 'api.example.com')).toMatchObject({ kind: 'match', rule: { endpoint: 'apiPage' }, values: { page: 'help' } });
  });
});
