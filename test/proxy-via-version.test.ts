/**
 * The `Via` of an HTTP/1.0 upstream's answer (docs/proxy.md, "Via"): RFC 9110 §7.6.3 asks for
 * the protocol version received, but undici, the proxy's client, does not tell which version
 * answered, so the proxy says `1.1 tsgi`. The `responseHeaders` edit the page gives for an
 * upstream known to speak HTTP/1.0 says `1.0 tsgi`, after the upstream's own `Via`. Over real
 * sockets: a raw HTTP/1.0 upstream on 127.0.0.1, the proxy under `serve()`.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ProxyOptions, proxy } from 'tsgi/proxy';
import { request, start } from './node-helpers.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A raw upstream that answers every request in HTTP/1.0, with its own `Via`, and closes. */
async function http10Upstream(): Promise<string> {
  const upstream = net.createServer((socket) => {
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) socket.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nVia: 1.0 inner\r\n\r\nok');
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => upstream.close(resolve)));
  return `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
}

/** The `Via` of the answer the proxy to `url` (with `options`) gives a client. */
async function viaThrough(url: string, options: ProxyOptions = {}): Promise<string | undefined> {
  const app = proxy(url, options);
  cleanups.push(() => app.close());
  const server = await start(app);
  const res = await request(`${server.url}/`);
  expect([res.status, res.body.toString()]).toEqual([200, 'ok']);
  return res.headers.via;
}

describe("Via on an HTTP/1.0 upstream's answer", () => {
  it('says 1.1 tsgi: undici does not tell the version that answered (documented)', async () => {
    expect(await viaThrough(await http10Upstream())).toBe('1.0 inner, 1.1 tsgi');
  });

  it("says 1.0 tsgi with the page's responseHeaders edit, the upstream's own Via kept", async () => {
    const via = await viaThrough(await http10Upstream(), {
      responseHeaders: (headers) => void headers.set('via', headers.get('via')!.replace(/1\.1 tsgi$/, '1.0 tsgi')),
    });
    expect(via).toBe('1.0 inner, 1.0 tsgi');
  });
});
