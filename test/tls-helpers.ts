/**
 * A throwaway TLS certificate for tests, made per run with `selfsigned` (pure JS, no `openssl`
 * binary needed): a self-signed P-256 certificate for `localhost` and 127.0.0.1, valid for a
 * day, written to a temporary folder. Nothing private is committed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

/** PEM files of a test certificate and their contents. */
export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
  /** Removes the files. */
  remove(): void;
}

/** What {@link makeCertificate} makes, when not the default. */
export interface CertificateOptions {
  notBefore?: Date;
  notAfter?: Date;
  keyType?: 'ec' | 'rsa';
  /** A certificate authority (`{ ca: true }`'s certificate) to sign it with, instead of itself. */
  issuer?: TestCertificate;
  /** A certificate authority named `Test CA` (basic constraints `cA`), not a server's. */
  ca?: boolean;
  /** The subject's common name (a client certificate's user); default `localhost` (`Test CA` with `ca`). */
  commonName?: string;
  /** The subject's organization (`O`), before the common name; default none. */
  organization?: string;
}

/**
 * Makes a certificate for `localhost`/127.0.0.1 in a temporary folder, self-signed unless
 * signed by `issuer`, valid from now for a day unless `options` says otherwise (an expired one,
 * one not valid yet), with a P-256 key unless `keyType` is `'rsa'` (2048 bits).
 */
export async function makeCertificate(options: CertificateOptions = {}): Promise<TestCertificate> {
  // selfsigned joins the attributes into one `O=…, CN=…` string: a value's specials are escaped (RFC 4514).
  const escape = (value: string) => value.replace(/[,+"\\<>;=]/g, '\\$&');
  const subject = [
    ...(options.organization === undefined ? [] : [{ name: 'organizationName', value: escape(options.organization) }]),
    { name: 'commonName', value: escape(options.commonName ?? (options.ca ? 'Test CA' : 'localhost')) },
  ];
  const pems = await generate(subject, {
    keyType: options.keyType ?? 'ec',
    ...(options.keyType === 'rsa' ? { keySize: 2048 } : {}),
    algorithm: 'sha256',
    ...(options.notBefore === undefined ? {} : { notBeforeDate: options.notBefore }),
    notAfterDate: options.notAfter ?? new Date(Date.now() + 24 * 3600 * 1000),
    ...(options.issuer === undefined ? {} : { ca: { key: options.issuer.key, cert: options.issuer.cert } }),
    extensions: options.ca
      ? [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
        ]
      : [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  writeFileSync(certFile, pems.cert);
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  return {
    certFile,
    keyFile,
    cert: pems.cert,
    key: pems.private,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** An HTTP/2 answer. */
export interface H2Response {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}

/** One request on an HTTP/2 session; rejects on a stream error (a reset). */
export function h2request(
  session: http2.ClientHttp2Session,
  path: string,
  { method = 'GET', headers = {}, body }: { method?: string; headers?: http2.OutgoingHttpHeaders; body?: string | Uint8Array } = {},
): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ':method': method, ...headers });
    let status = 0;
    let responseHeaders: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      status = Number(h[':status']);
      responseHeaders = h;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    stream.on('close', () => {
      if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
        reject(new Error(`stream reset with code ${stream.rstCode}`));
      }
    });
    stream.end(body);
  });
}
