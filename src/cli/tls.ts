/**
 * The TLS files of `--ssl-certfile`, `--ssl-keyfile` and `--ssl-keyfile-password`: read and
 * checked (a certificate, a key that decrypts and matches it) before anything is served, so a
 * mistake is one line and exit status 2 rather than a failing worker.
 *
 * @module
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type TlsOptions, createSecureContext } from 'node:tls';
import type { SslFiles } from './command.ts';
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
 * `tls.createSecureContext`.
 *
 * @throws UsageError when a file cannot be read, is not PEM, the key is encrypted and no
 *   passphrase was given or it does not decrypt with the one given (the message says which), or
 *   the key does not belong to the certificate (the message gives OpenSSL's reason).
 */
export function loadTls(files: SslFiles): TlsOptions {
  const options: TlsOptions = { cert: read(files.certfile, '--ssl-certfile'), key: read(files.keyfile, '--ssl-keyfile') };
  if (files.password !== undefined) options.passphrase = files.password;
  try {
    createSecureContext(options);
  } catch (error) {
    const encrypted = encryptedKeyProblem(options.key as Buffer, files);
    if (encrypted !== undefined) throw new UsageError(encrypted);
    const reason = error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
    throw new UsageError(`cannot use --ssl-certfile '${files.certfile}' with --ssl-keyfile '${files.keyfile}': ${reason}`);
  }
  return options;
}

/** PEM's encrypted keys: PKCS#8 (`BEGIN ENCRYPTED PRIVATE KEY`) and OpenSSL's older form (`Proc-Type: 4,ENCRYPTED`). */
const ENCRYPTED_PEM = /-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type: 4,ENCRYPTED/m;

/**
 * What is wrong with an encrypted key that failed: no passphrase given, or one it does not
 * decrypt with (OpenSSL says `bad decrypt` for both); `undefined` when the key is not
 * encrypted or opens with the passphrase (the failure is elsewhere: a certificate it does not
 * match).
 */
function encryptedKeyProblem(key: Buffer, files: SslFiles): string | undefined {
  if (!ENCRYPTED_PEM.test(key.toString('latin1'))) return undefined;
  if (files.password === undefined) return `--ssl-keyfile '${files.keyfile}' is encrypted: give its passphrase with --ssl-keyfile-password`;
  try {
    createPrivateKey({ key, format: 'pem', passphrase: files.password });
    return undefined;
  } catch {
    return `--ssl-keyfile '${files.keyfile}' does not decrypt with --ssl-keyfile-password (a wrong passphrase)`;
  }
}
