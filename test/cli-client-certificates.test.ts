/**
 * `tsgi serve --ssl-ca-certs <file> --ssl-cert-reqs none|optional|required`: client
 * certificates (mutual TLS) through the real process. Few processes: the flag mistakes exit
 * before any app loads, and one server of each kind serves every case after.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, finish, servingUrl, waitFor } from './cli-helpers.ts';
import { type TestCertificate, h2request, makeCertificate } from './tls-helpers.ts';

let dir: string;
let app: string;
let server: TestCertificate;
let authority: TestCertificate;
let otherAuthority: TestCertificate;
/** Signed by {@link authority}. */
let alice: TestCertificate;
/** Signed by {@link otherAuthority}. */
let bob: TestCertificate;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-cli-mtls-'));
  [server, authority, otherAuthority] = await Promise.all([makeCertificate(), makeCertificate({ ca: true }), makeCertificate({ ca: true, commonName: 'Other CA' })]);
  [alice, bob] = await Promise.all([makeCertificate({ issuer: authority, commonName: 'alice' }), makeCertificate({ issuer: otherAuthority, commonName: 'bob' })]);
  app = join(dir, 'app.mjs');
  writeFileSync(
    app,
    `export const app = (environ, start) => {
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode(\`\${environ.SSL_CLIENT_VERIFY} \${environ.SSL_CLIENT_S_DN ?? '-'}\`)];
};
`,
  );
});
afterAll(() => {
  for (const certificate of [server, authority, otherAuthority, alice, bob]) certificate.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** GET / over HTTPS on a fresh connection, with `client`'s certificate when given: the body, or the error's code. */
function get(url: string, client?: TestCertificate): Promise<string> {
  return new Promise((resolve) => {
    const credentials = client === undefined ? {} : { cert: client.cert, key: client.key };
    https
      .get(url, { ca: server.cert, agent: false, timeout: 5_000, ...credentials }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
      })
      .on('error', (error: NodeJS.ErrnoException) => resolve(`refused (${error.code})`));
  });
}

const serverFlags = () => ['--ssl-certfile', server.certFile, '--ssl-keyfile', server.keyFile];

describe('tsgi serve --ssl-ca-certs --ssl-cert-reqs', () => {
  it('a bad value, a missing companion, an unusable CA file: one line on stderr, exit 2', async () => {
    const notPem = join(dir, 'ca.der');
    writeFileSync(notPem, Buffer.from([0x30, 0x82, 0x01, 0x00]));
    const cases: Array<[string[], string]> = [
      [['--ssl-cert-reqs', 'sometimes'], "invalid --ssl-cert-reqs 'sometimes': expected none, optional, required (or 0, 1, 2)"],
      [['--ssl-cert-reqs', 'required'], '--ssl-cert-reqs required needs --ssl-ca-certs, the CA certificates that sign the client certificates'],
      [['--ssl-ca-certs', authority.certFile], '--ssl-ca-certs needs --ssl-cert-reqs optional or required: without it no client certificate is asked for'],
      [
        ['--ssl-ca-certs', notPem, '--ssl-cert-reqs', 'required'],
        `--ssl-ca-certs '${notPem}' holds no PEM certificate (-----BEGIN CERTIFICATE-----): convert a DER one with openssl x509 -inform der -in '${notPem}' -out ca.pem`,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => finish(['serve', app, '--port', '0', ...serverFlags(), ...args])));
    results.forEach((result, i) => {
      const [args, message] = cases[i]!;
      expect({ code: result.code, stderr: result.stderr }, args.join(' ')).toEqual({ code: 2, stderr: `tsgi: ${message}\n` });
    });
    // Without TLS there is nothing to ask a certificate over.
    const plain = await finish(['serve', app, '--port', '0', '--ssl-cert-reqs', 'required']);
    expect(plain).toMatchObject({ code: 2, stderr: 'tsgi: --ssl-cert-reqs needs --ssl-certfile and --ssl-keyfile (client certificates are asked for over TLS)\n' });
  });

  it('required refuses a client without a certificate the CAs sign, optional lets the app decide, HTTP/2 alike; SIGHUP reads the CA file again', async () => {
    const caFile = join(dir, 'clients-ca.pem');
    copyFileSync(authority.certFile, caFile);
    const required = cli(['serve', app, '--port', '0', ...serverFlags(), '--ssl-ca-certs', caFile, '--ssl-cert-reqs', 'required', '--no-access-log']);
    // uvicorn's and gunicorn's numbers are taken too: 1 is optional.
    const optional = cli(['serve', app, '--port', '0', ...serverFlags(), '--ssl-ca-certs', caFile, '--ssl-cert-reqs', '1', '--http2', '--no-access-log']);
    const [requiredUrl, optionalUrl] = await Promise.all([servingUrl(required), servingUrl(optional)]);

    expect(await get(requiredUrl)).toMatch(/^refused \(/);
    expect(await get(requiredUrl, bob)).toMatch(/^refused \(/);
    expect(await get(requiredUrl, alice)).toBe('SUCCESS CN=alice');
    expect(await get(optionalUrl)).toBe('NONE -');
    expect(await get(optionalUrl, bob)).toBe('FAILED:UNABLE_TO_VERIFY_LEAF_SIGNATURE CN=bob');
    const session = http2.connect(optionalUrl, { ca: server.cert, cert: alice.cert, key: alice.key });
    try {
      expect((await h2request(session, '/')).body.toString('utf8')).toBe('SUCCESS CN=alice');
    } finally {
      session.close();
    }

    // The clients' CA changes: after SIGHUP bob's is the one that passes, and alice's no longer.
    copyFileSync(otherAuthority.certFile, caFile);
    required.child.kill('SIGHUP');
    const renewed = `SIGHUP: read --ssl-certfile '${server.certFile}', --ssl-keyfile '${server.keyFile}' and --ssl-ca-certs '${caFile}' again`;
    await waitFor(() => required.out.stdout.includes(renewed), () => required.out.stdout + required.out.stderr, 5_000);
    expect(await get(requiredUrl, bob)).toBe('SUCCESS CN=bob');
    expect(await get(requiredUrl, alice)).toMatch(/^refused \(/);
    expect(await get(requiredUrl)).toMatch(/^refused \(/);
    expect(required.out.stderr + optional.out.stderr).toBe('');

    // A CA file that cannot serve: the certificate and the clients' CAs in use stay, and the line says both.
    writeFileSync(caFile, 'not a certificate\n');
    required.child.kill('SIGHUP');
    await waitFor(() => required.out.stderr.includes('SIGHUP: kept the certificate and the client CAs in use: '), () => required.out.stderr, 5_000);
    expect(await get(requiredUrl, bob)).toBe('SUCCESS CN=bob');
  });
});
