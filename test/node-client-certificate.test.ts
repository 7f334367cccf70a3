/**
 * Client certificates (mutual TLS) under `serve()`: Node's `ca`, `requestCert` and
 * `rejectUnauthorized` passed through `tls`, and the `SSL_CLIENT_*` keys of the environ
 * (mod_ssl's names) over real TLS sockets, HTTP/1.1 and HTTP/2; none of them, and no look at
 * the peer's certificate, when the server asks for none.
 */
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type App, type Environ, type ServerHandle, serve } from 'tsgi';
import { toNodeHandler } from 'tsgi/node';
import { bytes } from './node-helpers.ts';
import { type TestCertificate, h2request, makeCertificate } from './tls-helpers.ts';

let server: TestCertificate;
let authority: TestCertificate;
/** Signed by {@link authority}: `CN=alice, O=Example, Inc.` */
let alice: TestCertificate;
/** Self-signed: signed by no CA the server trusts. */
let mallory: TestCertificate;

beforeAll(async () => {
  [server, authority, mallory] = await Promise.all([makeCertificate(), makeCertificate({ ca: true }), makeCertificate({ commonName: 'mallory' })]);
  alice = await makeCertificate({ issuer: authority, commonName: 'alice', organization: 'Example, Inc.' });
});
afterAll(() => {
  for (const certificate of [server, authority, alice, mallory]) certificate.remove();
});

const handles: ServerHandle[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(handles.splice(0).map((handle) => handle.close({ timeout: 0 })));
});

/** Every `SSL_*` key of the environ, as the app got it. */
const sslKeys = (environ: Environ): Record<string, unknown> => Object.fromEntries(Object.entries(environ).filter(([key]) => key.startsWith('SSL_')));

/** Answers its `SSL_*` keys as JSON: 403 unless `SSL_CLIENT_VERIFY` is `SUCCESS` or `NONE` (the app decides). */
const reportApp: App = (environ, startResponse) => {
  const verify = environ.SSL_CLIENT_VERIFY as string | undefined;
  startResponse(verify?.startsWith('FAILED:') ? '403 Forbidden' : '200 OK', [['Content-Type', 'application/json']]);
  return [bytes(JSON.stringify(sslKeys(environ)))];
};

/** Starts `reportApp` (or `app`) over TLS with `tls` added to the server's certificate; answers its port. */
async function start(tls: Record<string, unknown>, extra: { http2?: boolean; app?: App } = {}): Promise<number> {
  const handle = await serve(extra.app ?? reportApp, { port: 0, tls: { cert: server.cert, key: server.key, ...tls }, http2: extra.http2 ?? false, log: { write: () => {} } });
  handles.push(handle);
  return Number(new URL(handle.url).port);
}

/** `mTLS required`: the CA that signs the clients, a certificate asked for, and refused without one. */
const required = () => ({ ca: authority.cert, requestCert: true, rejectUnauthorized: true });
/** `mTLS optional`: asked for; a missing or untrusted one is the app's to judge. */
const optional = () => ({ ca: authority.cert, requestCert: true, rejectUnauthorized: false });

/** GET over HTTPS (HTTP/1.1) on a fresh connection, with `client`'s certificate when given. */
function get(port: number, client?: TestCertificate, path = '/'): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const credentials = client === undefined ? {} : { cert: client.cert, key: client.key };
    https
      .get({ host: '127.0.0.1', port, path, ca: server.cert, agent: false, ...credentials }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, unknown> }));
      })
      .on('error', reject)
      .setTimeout(5_000, function (this: http.ClientRequest) {
        this.destroy(new Error('no answer in 5 s'));
      });
  });
}

/** What `alice`'s certificate gives, mod_ssl's way. */
function aliceKeys(): Record<string, unknown> {
  const certificate = new X509Certificate(alice.cert);
  return {
    SSL_CLIENT_VERIFY: 'SUCCESS',
    SSL_CLIENT_S_DN: 'CN=alice,O=Example\\, Inc.',
    SSL_CLIENT_I_DN: 'CN=Test CA',
    SSL_CLIENT_M_SERIAL: certificate.serialNumber,
    SSL_CLIENT_V_START: certificate.validFrom,
    SSL_CLIENT_V_END: certificate.validTo,
    SSL_CLIENT_CERT: certificate.toString(),
  };
}

describe('client certificates under serve()', () => {
  it('required: a client without a certificate is refused in the handshake, and the app is not called', async () => {
    const app = vi.fn(reportApp);
    const port = await start(required(), { app });
    const error = await get(port).then(
      () => undefined,
      (reason: unknown) => reason as NodeJS.ErrnoException,
    );
    expect(error?.code).toMatch(/^(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ECONNRESET)$/);
    await expect(get(port, mallory)).rejects.toThrow();
    expect(app).not.toHaveBeenCalled();
  });

  it('required: a certificate signed by the CA reaches the app as SUCCESS, with its DNs, serial, dates and PEM', async () => {
    const port = await start(required());
    const answer = await get(port, alice);
    expect(answer).toEqual({ status: 200, body: aliceKeys() });
    expect(new X509Certificate(answer.body.SSL_CLIENT_CERT as string).fingerprint256).toBe(new X509Certificate(alice.cert).fingerprint256);
  });

  it('optional: no certificate is NONE and no other key; an untrusted one is FAILED:<reason>, which the app refuses itself', async () => {
    const port = await start(optional());
    expect(await get(port)).toEqual({ status: 200, body: { SSL_CLIENT_VERIFY: 'NONE' } });
    const untrusted = await get(port, mallory);
    expect(untrusted.status).toBe(403);
    expect(untrusted.body).toMatchObject({ SSL_CLIENT_VERIFY: 'FAILED:DEPTH_ZERO_SELF_SIGNED_CERT', SSL_CLIENT_S_DN: 'CN=mallory', SSL_CLIENT_I_DN: 'CN=mallory' });
    expect(await get(port, alice)).toEqual({ status: 200, body: aliceKeys() });
  });

  it('HTTP/2: the same keys on every stream of a session', async () => {
    const port = await start(optional(), { http2: true });
    const session = (client?: TestCertificate) =>
      http2.connect(`https://127.0.0.1:${port}`, { ca: server.cert, ...(client === undefined ? {} : { cert: client.cert, key: client.key }) });
    const sessions = [session(alice), session(mallory), session()];
    try {
      const answers = await Promise.all(sessions.map(async (s) => [await h2request(s, '/a'), await h2request(s, '/b')]));
      const bodies = answers.map((pair) => pair.map((answer) => [answer.status, JSON.parse(answer.body.toString('utf8'))]));
      expect(bodies[0]).toEqual([[200, aliceKeys()], [200, aliceKeys()]]);
      expect(bodies[1]!.map(([status, body]) => [status, (body as Record<string, unknown>).SSL_CLIENT_VERIFY])).toEqual([
        [403, 'FAILED:DEPTH_ZERO_SELF_SIGNED_CERT'],
        [403, 'FAILED:DEPTH_ZERO_SELF_SIGNED_CERT'],
      ]);
      expect(bodies[2]).toEqual([[200, { SSL_CLIENT_VERIFY: 'NONE' }], [200, { SSL_CLIENT_VERIFY: 'NONE' }]]);
    } finally {
      for (const s of sessions) s.close();
    }
  });

  it('HTTP/2, required: a client without a certificate gets no session', async () => {
    const port = await start(required(), { http2: true });
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca: server.cert });
    session.on('error', () => {});
    try {
      await expect(h2request(session, '/')).rejects.toThrow();
    } finally {
      session.destroy();
    }
  });

  it("the peer's certificate is read once per connection, not per request", async () => {
    const read = vi.spyOn(TLSSocket.prototype, 'getPeerX509Certificate');
    const port = await start(optional());
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: server.cert, cert: alice.cert, key: alice.key });
    try {
      const once = (path: string) =>
        new Promise<string>((resolve, reject) => {
          https
            .get({ host: '127.0.0.1', port, path, agent }, (res) => {
              let text = '';
              res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
              res.on('end', () => resolve(text));
            })
            .on('error', reject);
        });
      const bodies = [await once('/1'), await once('/2'), await once('/3')];
      expect(bodies.map((body) => JSON.parse(body).SSL_CLIENT_VERIFY)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
      // The client reads the server's certificate too: the server's side is the one on its port.
      expect(read.mock.contexts.filter((socket) => (socket as TLSSocket).localPort === port)).toHaveLength(1);
    } finally {
      agent.destroy();
    }
  });

  it('no SSL_* key, and no look at the peer, on TLS that asks no certificate and on plain HTTP', async () => {
    const read = vi.spyOn(TLSSocket.prototype, 'getPeerX509Certificate');
    const legacy = vi.spyOn(TLSSocket.prototype, 'getPeerCertificate');
    const port = await start({});
    expect(await get(port, alice)).toEqual({ status: 200, body: {} });
    const plain = await serve(reportApp, { port: 0 });
    handles.push(plain);
    const body = await new Promise<string>((resolve, reject) => {
      http.get(plain.url, { agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(JSON.parse(body)).toEqual({});
    const served = (socket: unknown) => (socket as TLSSocket).localPort === port;
    expect(read.mock.contexts.filter(served).length + legacy.mock.contexts.filter(served).length).toBe(0);
    // (The spies see the server's sockets: the client's look at the server's certificate is counted.)
    expect(legacy.mock.contexts.length).toBeGreaterThan(0);
  });

  it('clientCertificate: false leaves the keys out though a certificate is asked for; toNodeHandler sets them when told', async () => {
    const port = await start(optional(), {});
    const off = await serve(reportApp, { port: 0, tls: { cert: server.cert, key: server.key, ...optional() }, clientCertificate: false });
    handles.push(off);
    expect(await get(Number(new URL(off.url).port), alice)).toEqual({ status: 200, body: {} });
    expect((await get(port, alice)).body.SSL_CLIENT_VERIFY).toBe('SUCCESS');
    const own = https.createServer({ cert: server.cert, key: server.key, ...optional() }, toNodeHandler(reportApp, { clientCertificate: true }));
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
    try {
      expect(await get((own.address() as { port: number }).port, alice)).toEqual({ status: 200, body: aliceKeys() });
    } finally {
      own.closeAllConnections();
      await new Promise((resolve) => own.close(resolve));
    }
  });
});
