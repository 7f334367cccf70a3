/**
 * The TLS files of `--ssl-certfile`, `--ssl-keyfile` and `--ssl-keyfile-password`: read and
 * checked (a certificate, a key that decrypts and matches it) before anything is served, so a
 * mistake is one line and exit status 2 rather than a failing worker.
 *
 * @module
 */
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
 * @throws UsageError when a file cannot be read, is not PEM, the key cannot be decrypted or
 *   does not belong to the certificate (the message gives OpenSSL's reason).
 */
export function loadTls(files: SslFiles): TlsOptions {
  const options: TlsOptions = { cert: read(files.certfile, '--ssl-certfile'), key: read(files.keyfile, '--ssl-keyfile') };
  if (files.password !== undefined) options.passphrase = files.password;
  try {
    createSecureContext(options);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
    throw new UsageError(`cannot use --ssl-certfile '${files.certfile}' with --ssl-keyfile '${files.keyfile}': ${reason}`);
  }
  return options;
}
