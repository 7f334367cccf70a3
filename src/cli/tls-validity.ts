/**
 * Warnings for the certificates of `--ssl-certfile` that are not valid now (expired, or not
 * valid yet), said at start and at each SIGHUP: the server still serves them.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { certificateBlocks, certificateOf, isoSecond, subjectLine } from './certificates.ts';
import type { CliLog } from './log.ts';

/**
 * The warnings for the certificates of `certfile` not valid at `now` (ms since the epoch),
 * one line each: the first of the file (the server's) expired or not valid yet (a clock
 * behind, or a certificate dated ahead), which clients refuse; an intermediate after it
 * expired or not valid yet, which clients that build the chain through it may refuse (RFC 5280
 * §6.1.3: every certificate of the path must be valid). It is served all the same, as nginx,
 * uvicorn and gunicorn serve one, so that a renewal late by an hour does not stop the site.
 * Empty while all are valid, and when the file holds no PEM certificate (`loadTls` says
 * why). The file is read (at start and at each SIGHUP only) unless its content is given as `pem`.
 */
export function validityWarnings(certfile: string, now = Date.now(), pem?: Buffer): string[] {
  let text: string;
  try {
    text = (pem ?? readFileSync(certfile)).toString('latin1');
  } catch {
    return [];
  }
  const warnings: string[] = [];
  certificateBlocks(text).forEach((block, index) => {
    const certificate = certificateOf(block);
    if (certificate === undefined) return;
    // X.509's times are UTC (`Jan  2 00:00:00 2020 GMT`), to the second; notAfter is its last.
    const from = Date.parse(certificate.validFrom);
    const to = Date.parse(certificate.validTo);
    const server = index === 0;
    const what = server ? `the certificate of --ssl-certfile '${certfile}'` : `certificate ${index + 1} of --ssl-certfile '${certfile}' (${subjectLine(certificate)})`;
    const refused = server ? 'clients refuse it' : 'clients that build the chain through it may refuse it';
    if (now > to) warnings.push(`${what} expired on ${isoSecond(to)}: ${refused}`);
    else if (now < from) warnings.push(`${what} is valid from ${isoSecond(from)} only: ${refused}${server ? ' until then' : ''} (is this machine's clock right?)`);
  });
  return warnings;
}

/**
 * Writes each of {@link validityWarnings} for `certfile` (now; its content `pem` when given,
 * else the file read) to `log` at warning level; nothing while all are valid.
 */
export function warnOfValidity(log: CliLog, certfile: string, pem?: Buffer): void {
  for (const warning of validityWarnings(certfile, Date.now(), pem)) log.warning(warning);
}
