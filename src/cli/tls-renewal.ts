/**
 * SIGHUP in one process serving TLS (no `--workers`): the certificate and key files (and the
 * client certificates' CAs, `--ssl-ca-certs`) read again and put in the running server, as
 * nginx re-reads them on `nginx -s reload`. The app's code
 * stays the one loaded at start.
 *
 * @module
 */
import { X509Certificate } from 'node:crypto';
import type { Server as TlsServer } from 'node:tls';
import type { SslFiles } from './command.ts';
import type { CliLog } from './log.ts';
import { isoSecond, subjectLine } from './certificates.ts';
import { loadTls } from './tls.ts';
import { warnOfValidity } from './tls-validity.ts';
import { UsageError } from './values.ts';

/**
 * Reads `files` again, checks them as `tsgi serve` does at start ({@link loadTls}: the same
 * one-line diagnoses) and swaps them into `server` with Node's `setSecureContext`, so that the
 * handshakes after it get the new certificate; connections already open keep the one they
 * shook hands with. Logged at info with the new certificate's subject and end of validity,
 * followed by the warnings of an expired or not-yet-valid certificate ({@link warnOfValidity}).
 * Files that cannot serve leave the certificate in use, and with `--ssl-ca-certs` the client
 * CAs, logged as an error (`SIGHUP: kept the certificate in use: <why>`, `SIGHUP: kept the
 * certificate and the client CAs in use: <why>`); nothing is thrown.
 *
 * `server` is `serve()`'s TLS server (`https.Server`, or `Http2SecureServer` with `--http2`:
 * both are `tls.Server`s, their ALPN and options untouched). Only `cert`, `key` and `passphrase`
 * are set, and with `--ssl-cert-reqs` `ca`: it belongs to the secure context, and a context
 * without it would verify client certificates against Node's public root CAs from then on
 * (`requestCert` and `rejectUnauthorized` stay the server's: `setSecureContext` ignores them).
 */
export function renewTls(server: TlsServer, files: SslFiles, log: CliLog): void {
  let options: ReturnType<typeof loadTls>;
  try {
    options = loadTls(files);
    server.setSecureContext(options);
  } catch (error) {
    const why = error instanceof UsageError ? error.message : error instanceof Error ? (error.message.split('\n', 1)[0] ?? '') : String(error);
    // With --ssl-ca-certs the clients' CAs stay too: the context is swapped whole or not at all.
    log.error(`SIGHUP: kept the certificate${files.caCerts === undefined ? '' : ' and the client CAs'} in use: ${why}`);
    return;
  }
  const certificate = describe(options.cert as Buffer);
  const read =
    files.caCerts === undefined
      ? `--ssl-certfile '${files.certfile}' and --ssl-keyfile '${files.keyfile}'`
      : `--ssl-certfile '${files.certfile}', --ssl-keyfile '${files.keyfile}' and --ssl-ca-certs '${files.caCerts}'`;
  log.info(
    `SIGHUP: read ${read} again: new connections get its certificate${certificate};` +
      " the app's code is not reloaded (--workers 1 reloads both)",
  );
  warnOfValidity(log, files.certfile, options.cert as Buffer);
}

/** ` (CN=example.com, valid until 2027-03-01T00:00:00Z)` for the first certificate of `pem`; empty when it does not parse here. */
function describe(pem: Buffer): string {
  try {
    const certificate = new X509Certificate(pem);
    return ` (${subjectLine(certificate)}, valid until ${isoSecond(Date.parse(certificate.validTo))})`;
  } catch {
    return '';
  }
}
