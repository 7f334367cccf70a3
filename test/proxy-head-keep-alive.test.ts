/**
 * A `HEAD` goes upstream on a kept-alive connection and leaves it open for the next request,
 * as nginx (`proxy_http_version 1.1` with `keepalive`) and Envoy keep it: undici by default
 * sends `Connection: close` with each HEAD and closes the connection after it, so a gateway
 * answering health checks or link checkers opened one upstream connection per HEAD. Counted on
 * real upstreams' `connection` events, through serve() on 127.0.0.1: a node:http one (which
 * says `Connection: keep-alive`) and a raw one that, like Go's net/http, says nothing.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyApp, proxy } from 'tsgi/proxy';
import { request, start } from './node-helpers.ts';

let nodeUpstream: http.Server;
let rawUpstream: net.Server;
let nodeConnections = 0;
let rawConnections = 0;
/** When true, the raw upstream wrongly sends a HEAD's body too. */
let bodyOnHead = false;
/** The `Connection` field of each request the node:http upstream got. */
const seenConnection: (string | undefined)[] = [];
const proxies: ProxyApp[] = [];

beforeAll(async () => {
  nodeUpstream = http.createServer((req, res) => {
    seenConnection.push(req.headers.connection);
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' });
    res.end(req.method === 'HEAD' ? undefined : 'hello');
  });
  nodeUpstream.on('connection', () => nodeConnections++);
  // An HTTP/1.1 answer with its length and no Connection field; a HEAD's has no body.
  rawUpstream = net.createServer((socket) => {
    rawConnections++;
    let buffered = '';
    socket.on('data', (data) => {
      buffered += data.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) !== -1) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        const isHead = head.startsWith('HEAD ');
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n${isHead && !bodyOnHead ? '' : 'hello'}`);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => nodeUpstream.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => rawUpstream.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  nodeUpstream.closeAllConnections();
  await new Promise<void>((resolve) => nodeUpstream.close(() => resolve()));
  await new Promise<void>((resolve) => rawUpstream.close(() => resolve()));
});

async function gateway(server: net.Server) {
  const app = proxy(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  proxies.push(app);
  return start(app);
}

/** Asks `methods` of the gateway at `url` in turn: each a 200, a HEAD's body empty, a GET's `hello`. */
async function askInTurn(url: string, methods: readonly string[], length?: string): Promise<void> {
  for (const method of methods) {
    const res = await request(`${url}/x`, { method });
    expect(res.status).toBe(200);
    if (length !== undefined) expect(res.headers['content-length']).toBe(length);
    expect(res.body.toString()).toBe(method === 'HEAD' ? '' : 'hello');
  }
}

describe('proxy: HEAD keeps the upstream connection', () => {
  it('sends HEAD with keep-alive and reuses the connection for the next requests (node:http upstream)', async () => {
    const gw = await gateway(nodeUpstream);
    try {
      await askInTurn(gw.url, ['HEAD', 'HEAD', 'GET', 'HEAD'], '5');
      expect(seenConnection).toEqual(['keep-alive', 'keep-alive', 'keep-alive', 'keep-alive']);
      expect(nodeConnections).toBe(1);
    } finally {
      await gw.close();
    }
  });

  it('reuses it when the upstream answers HEAD without a Connection field (HTTP/1.1 keeps alive by default)', async () => {
    const gw = await gateway(rawUpstream);
    try {
      await askInTurn(gw.url, ['HEAD', 'GET', 'HEAD', 'GET']);
      expect(rawConnections).toBe(1);
    } finally {
      await gw.close();
    }
  });

  it('an upstream that wrongly sends a body after a HEAD costs that connection, never the next answer', async () => {
    bodyOnHead = true;
    rawConnections = 0;
    const gw = await gateway(rawUpstream);
    try {
      await askInTurn(gw.url, ['HEAD', 'GET', 'HEAD', 'GET']);
      expect(rawConnections).toBeGreaterThan(1);
    } finally {
      bodyOnHead = false;
      await gw.close();
    }
  });
});
