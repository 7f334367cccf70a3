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

/**
 * Makes a self-signed certificate for `localhost`/127.0.0.1 in a temporary folder, valid from
 * now for a day unless `validity` says otherwise (an expired one, one not valid yet), with a
 * P-256 key unless `keyType` is `'rsa'` (2048 bits).
 */
export async function makeCertificate(validity: { notBefore?: Date; notAfter?: Date; keyType?: 'ec' | 'rsa' } = {}): Promise<TestCertificate> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: validity.keyType ?? 'ec',
    ...(validity.keyType === 'rsa' ? { keySize: 2048 } : {}),
    algorithm: 'sha256',
    ...(validity.notBefore === undefined ? {} : { notBeforeDate: validity.notBefore }),
    notAfterDate: validity.notAfter ?? new Date(Date.now() + 24 * 3600 * 1000),
    extensions: [
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
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
