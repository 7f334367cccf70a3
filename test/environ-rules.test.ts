/**
 * The Node adapter and the fetch adapter share their environ rules (src/adapters/environ-rules.ts):
 * the same requests, over real sockets, to serve() and to toFetchHandler on @hono/node-server,
 * give the same CGI keys and the same refusals.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve as honoServe } from '@hono/node-server';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, type ServerHandle, serve } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { toNodeHandler } from 'tsgi/node';
import { parseRaw, rawExchange } from './node-helpers.ts';

const KEYS = ['REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'REQUEST_URI', 'SERVER_PROTOCOL', 'HTTP_HOST', 'HTTP_ACCEPT', 'HTTP_X_TWO', 'REMOTE_ADDR'];

const dump: App = (environ, start) => {
  start('200 OK', [['Content-Type', 'application/json']]);
  const shown = Object.fromEntries(KEYS.map((key) => [key, environ[key] ?? null]));
  return [new TextEncoder().encode(JSON.stringify(shown))];
};

function get(port: number, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

describe('one set of environ rules for the Node and fetch adapters', () => {
  let node: ServerHandle;
  let fetchServer: http.Server;
  let fetchPort: number;
  beforeAll(async () => {
    node = await serve(dump, { port: 0, scriptName: '/app' });
    fetchServer = await new Promise<http.Server>((resolve) => {
      const server = honoServe({ fetch: toFetchHandler(dump, { scriptName: '/app' }), hostname: '127.0.0.1', port: 0 }, () => resolve(server as http.Server));
    });
    fetchPort = (fetchServer.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await node.close();
    await new Promise((resolve) => fetchServer.close(resolve));
  });

  const paths = ['/app/', '/app', '/app/caf%C3%A9?x=%20y&z', '/app/a%2Fb/c%20d', '/app/%7Euser/%F0%9F%98%80', '/app/a;b=c?'];
  it.each(paths)('%s gives the same environ', async (path) => {
    const headers = { Host: 'example.com:8080', Accept: 'text/html', 'X-Two': ['1', '2'] };
    const [a, b] = await Promise.all([get(node.port, path, headers), get(fetchPort, path, headers)]);
    expect(a.status).toBe(200);
    expect(JSON.parse(b.body)).toEqual(JSON.parse(a.body));
  });

  const refused: Array<[string, number]> = [['/app/%zz', 400], ['/app/%C3', 400], ['/app/%C0%AF', 400], ['/other', 404], ['/application', 404]];
  it.each(refused)('%s is refused with %i by both', async (path, status) => {
    const [a, b] = await Promise.all([get(node.port, path), get(fetchPort, path)]);
    expect([a.status, b.status]).toEqual([status, status]);
    expect(b.body).toBe(a.body);
  });

  it('refuses an invalid Host with 400 in both', async () => {
    const [a, b] = await Promise.all([get(node.port, '/app/', { Host: 'a b' }), get(fetchPort, '/app/', { Host: 'a b' })]);
    expect([a.status, b.status]).toEqual([400, 400]);
  });

  it.each([
    ['example.com:65536', 400],
    ['[::1]:99999', 400],
    ['example.com:123456', 400],
    ['example.com:65535', 200],
    ['example.com:08080', 200],
  ])('answers Host %s with %i in both (a port above 65535 is refused)', async (host, status) => {
    const [a, b] = await Promise.all([get(node.port, '/app/', { Host: host }), get(fetchPort, '/app/', { Host: host })]);
    expect([a.status, b.status]).toEqual([status, status]);
  });

  it('applies no scriptName to OPTIONS *, which names the server, not a path (RFC 9112 §3.2.4)', async () => {
    const res = parseRaw((await rawExchange(node.port, 'OPTIONS * HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n')).raw);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.rest)).toMatchObject({ REQUEST_METHOD: 'OPTIONS', SCRIPT_NAME: '', PATH_INFO: '*', REQUEST_URI: '*' });
  });

  it('puts Express’s mount path in front of scriptName', async () => {
    const web = express();
    web.use('/mnt', toNodeHandler(dump, { scriptName: '/app' }));
    const server = await new Promise<http.Server>((resolve) => {
      const s: http.Server = web.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const port = (server.address() as AddressInfo).port;
      const inside = JSON.parse((await get(port, '/mnt/app/x?y')).body) as Record<string, unknown>;
      expect(inside).toMatchObject({ SCRIPT_NAME: '/mnt/app', PATH_INFO: '/x', QUERY_STRING: 'y', REQUEST_URI: '/mnt/app/x?y' });
      expect((await get(port, '/mnt/other')).status).toBe(404);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
