/**
 * `connectTimeout` holds to the millisecond, as nginx's `proxy_connect_timeout` and Envoy's
 * `connect_timeout` do: undici's own connect timer runs on its coarse clock (a tick every
 * 499 ms), so `connectTimeout: 200` answered its 504 after about 1 s, and any value below a
 * second was off by up to a second. Over real sockets on 127.0.0.1: an `https:` upstream that
 * takes the TCP connection and never answers the TLS handshake (the connect timeout covers the
 * handshake, as nginx's does), through serve().
 */
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyApp, proxy } from 'tsgi/proxy';
import { request, start, until } from './node-helpers.ts';
import { type TestCertificate, makeCertificate } from './tls-helpers.ts';

let silent: net.Server;
let certificate: TestCertificate;
const held = new Set<net.Socket>();
let closedByGateway = 0;
const proxies: ProxyApp[] = [];

beforeAll(async () => {
  certificate = await makeCertificate();
  // Takes the connection, reads the ClientHello, answers nothing.
  silent = net.createServer((socket) => {
    held.add(socket);
    socket.resume();
    socket.on('error', () => undefined);
    socket.on('close', () => {
      held.delete(socket);
      closedByGateway++;
    });
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  for (const socket of held) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  certificate.remove();
});

describe('proxy: connectTimeout', () => {
  it('answers 504 once connectTimeout has passed, not on undici’s coarse clock, and closes the attempt', async () => {
    const app = proxy(`https://127.0.0.1:${(silent.address() as AddressInfo).port}`, { connectTimeout: 200, tls: { ca: certificate.cert } });
    proxies.push(app);
    const gw = await start(app);
    try {
      // The first request also pays for the TLS context and the modules it loads: timed on the second.
      expect((await request(`${gw.url}/warm`)).status).toBe(504);
      const started = performance.now();
      const res = await request(`${gw.url}/x`);
      const elapsed = performance.now() - started;
      expect(res.status).toBe(504);
      expect(res.body.toString()).toContain('did not accept the connection in time');
      expect(elapsed).toBeGreaterThanOrEqual(190);
      expect(elapsed).toBeLessThan(700);
      expect(gw.log.text).toMatch(/504: upstream https:\/\/127\.0\.0\.1:\d+: connect timeout \(UND_ERR_CONNECT_TIMEOUT: .*timeout: 200ms/);
      // The attempt is given up: its socket closed, not left to the upstream.
      await until(() => closedByGateway === 2);
    } finally {
      await gw.close();
    }
  });
});
