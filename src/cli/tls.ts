/**
 * The TLS files of `--ssl-certfile`, `--ssl-keyfile` and `--ssl-keyfile-password`, and the
 * client certificates' CAs of `--ssl-ca-certs`: read and checked (a certificate, a key that
 * decrypts and matches it, CA certificates that parse) before anything is served, so a
 * mistake is one line and exit status 2 rather than a failing worker.
 *
 * @module
 */
import { type KeyObject, type X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type TlsOptions, createSecureContext } from 'node:tls';
import type { SslFiles } from './command.ts';
import { certificateBlocks, certificateOf } from './certificates.ts';
import { UsageError } from './values.ts';

/** Reads one file of `flag`. */
function read(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unreadable';
    throw new UsageError(`cannot read ${flag} '${file}' (${code})`);
  }
}

/**
 * The `tls` option of `serve()` for `files`: `{ cert, key, passphrase }`, checked with
 * `tls.createSecureContext`; with `--ssl-cert-reqs optional` or `required`, also
 * `{ ca, requestCert: true, rejectUnauthorized }` (`false` for `optional`: the app decides).
 *
 * @throws UsageError when a file cannot be read, or they cannot serve, with the mistake named
 *   where it is a common one: the two files swapped, a certificate in DER rather than PEM, an
 *   encrypted key without its passphrase or with a wrong one, two files joined without a
 *   newline between them, a chain whose first certificate is not the key's (the intermediates
 *   first), a key of no certificate in the file (or of another type); else OpenSSL's reason.
 *   For `--ssl-ca-certs`: a file that cannot be read, holds no PEM certificate (a DER one
 *   named), or one that does not parse, or OpenSSL's reason.
 */
export function loadTls(files: SslFiles): TlsOptions {
  const options: TlsOptions = { cert: read(files.certfile, '--ssl-certfile'), key: read(files.keyfile, '--ssl-keyfile') };
  if (files.password !== undefined) options.passphrase = files.password;
  try {
    createSecureContext(options);
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split('\n', 1)[0] ?? '') : String(error);
    throw new UsageError(mistakeOf(options.cert as Buffer, options.key as Buffer, files, reason));
  }
  // OpenSSL checks the key against the certificate of its own type alone: an EC key next to an
  // RSA certificate (or a chain whose first certificate is an RSA intermediate) makes a context
  // in which no handshake succeeds (no_suitable_signature_algorithm, closed without a log line).
  const mismatch = keyMismatch((options.cert as Buffer).toString('latin1'), privateKey(options.key as Buffer, files.password), files);
  if (mismatch !== undefined) throw new UsageError(mismatch);
  if (files.certReqs !== 'none' && files.caCerts !== undefined) {
    options.ca = loadCaCerts(files.caCerts);
    options.requestCert = true;
    options.rejectUnauthorized = files.certReqs === 'required';
  }
  return options;
}

/**
 * The CA certificates of `--ssl-ca-certs` (`file`): a PEM bundle of one or more, checked with
 * `tls.createSecureContext`.
 *
 * @throws UsageError as {@link loadTls} says.
 */
function loadCaCerts(file: string): Buffer {
  const ca = read(file, '--ssl-ca-certs');
  const blocks = certificateBlocks(ca.toString('latin1'));
  if (blocks.length === 0) {
    const what = `--ssl-ca-certs '${file}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)`;
    throw new UsageError(ca[0] === 0x30 ? `${what}: convert a DER one with openssl x509 -inform der -in '${file}' -out ca.pem` : what);
  }
  const broken = blocks.findIndex((block) => certificateOf(block) === undefined);
  if (broken !== -1) throw new UsageError(`--ssl-ca-certs '${file}': its certificate ${broken + 1} does not parse`);
  try {
    createSecureContext({ ca });
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split('\n', 1)[0] ?? '') : String(error);
    throw new UsageError(`cannot use --ssl-ca-certs '${file}': ${reason}`);
  }
  return ca;
}

const CERTIFICATE_PEM = /-----BEGIN CERTIFICATE-----/;
/** A PEM private key: PKCS#8 (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`), SEC 1 (`EC PRIVATE KEY`). */
const KEY_PEM = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;
/** PEM's encrypted keys: PKCS#8 (`BEGIN ENCRYPTED PRIVATE KEY`) and OpenSSL's older form (`Proc-Type: 4,ENCRYPTED`). */
const ENCRYPTED_PEM = /-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type: 4,ENCRYPTED/m;
/** Two PEM blocks on one line (OpenSSL: `bad end line`): `cat a.pem b.pem` of an `a.pem` without a final newline. */
const JOINED_PEM = /-----END ([A-Z0-9 ]+)-----[ \t]*-----BEGIN /;

/** The message for files `createSecureContext` refused with `reason`. */
function mistakeOf(cert: Buffer, key: Buffer, files: SslFiles, reason: string): string {
  const certText = cert.toString('latin1');
  const keyText = key.toString('latin1');
  const swapped = 'are --ssl-certfile and --ssl-keyfile swapped?';
  if (!CERTIFICATE_PEM.test(certText)) {
    const what = `--ssl-certfile '${files.certfile}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)`;
    if (KEY_PEM.test(certText)) return `${what} but a private key: ${swapped}`;
    // DER starts with a SEQUENCE (0x30); PEM is text.
    if (cert[0] === 0x30) return `${what}: convert a DER one with openssl x509 -inform der -in '${files.certfile}' -out cert.pem`;
    return what;
  }
  if (!KEY_PEM.test(keyText)) {
    const what = `--ssl-keyfile '${files.keyfile}' holds no PEM private key (-----BEGIN PRIVATE KEY-----)`;
    return CERTIFICATE_PEM.test(keyText) ? `${what} but a certificate: ${swapped}` : what;
  }
  for (const [flag, file, text] of [['--ssl-certfile', files.certfile, certText], ['--ssl-keyfile', files.keyfile, keyText]] as const) {
    const joined = JOINED_PEM.exec(text);
    if (joined !== null) {
      return `${flag} '${file}' has an -----END ${joined[1]}----- line that runs into the next -----BEGIN (files joined by cat, one without a newline at its end): put a line break between them`;
    }
  }
  if (ENCRYPTED_PEM.test(keyText)) {
    if (files.password === undefined) return `--ssl-keyfile '${files.keyfile}' is encrypted: give its passphrase with --ssl-keyfile-password, or $TSGI_SSL_KEYFILE_PASSWORD out of the command line`;
    if (privateKey(key, files.password) === undefined) {
      return `--ssl-keyfile '${files.keyfile}' does not decrypt with ${files.passwordFrom} (a wrong passphrase)`;
    }
  }
  if (reason.includes('key values mismatch')) {
    const mismatch = keyMismatch(certText, privateKey(key, files.password), files);
    if (mismatch !== undefined) return mismatch;
  }
  return `cannot use --ssl-certfile '${files.certfile}' with --ssl-keyfile '${files.keyfile}': ${reason}`;
}

/**
 * What is wrong when `key` is not the key of the first certificate of the PEM `certText`: the
 * key's certificate comes later in the file (the intermediates first), or is in it nowhere.
 * `undefined` when it is that certificate's key, and when either does not parse here (OpenSSL
 * took them: nothing is refused on a doubt).
 */
function keyMismatch(certText: string, key: KeyObject | undefined, files: SslFiles): string | undefined {
  const blocks = certificateBlocks(certText);
  const first = certificateOf(blocks[0]);
  if (key === undefined || first === undefined || matches(first, key)) return undefined;
  const position = blocks.findIndex((block) => {
    const certificate = certificateOf(block);
    return certificate !== undefined && matches(certificate, key);
  }) + 1;
  if (position > 1) {
    return `--ssl-certfile '${files.certfile}': the certificate of --ssl-keyfile is its certificate ${position}, and must come first (the server's certificate, then the intermediates)`;
  }
  const keyType = key.asymmetricKeyType;
  const certificateType = first.publicKey.asymmetricKeyType;
  const why = keyType === certificateType ? 'OpenSSL: key values mismatch' : `an ${typeName(keyType)} key, for an ${typeName(certificateType)} certificate`;
  return `--ssl-keyfile '${files.keyfile}' is not the key of any certificate in --ssl-certfile '${files.certfile}' (${why})`;
}

/** A key type as written: `EC`, `RSA`, `ED25519`. */
const typeName = (type: string | undefined): string => (type ?? 'unknown').toUpperCase();

/** Whether `key` is the private key of `certificate` (false when the check itself fails). */
function matches(certificate: X509Certificate, key: KeyObject): boolean {
  try {
    return certificate.checkPrivateKey(key);
  } catch {
    return false;
  }
}

/** The private key of `key` (PEM), decrypted with `passphrase`; `undefined` when it does not open. */
function privateKey(key: Buffer, passphrase: string | undefined): KeyObject | undefined {
  try {
    return createPrivateKey({ key, format: 'pem', ...(passphrase === undefined ? {} : { passphrase }) });
  } catch {
    return undefined;
  }
}
