/**
 * Reading the certificates of a PEM file for `tsgi serve`'s own messages: its
 * `-----BEGIN CERTIFICATE-----` blocks, each parsed, and how a certificate's subject and times
 * are written in a log line. What serves is OpenSSL's reading of the same file.
 *
 * @module
 */
import { X509Certificate } from 'node:crypto';

const CERTIFICATE_BLOCKS = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The `-----BEGIN CERTIFICATE-----` … `-----END CERTIFICATE-----` blocks of `text`, in order; empty when none. */
export function certificateBlocks(text: string): string[] {
  return text.match(CERTIFICATE_BLOCKS) ?? [];
}

/** The certificate of one PEM block; `undefined` when none, or it does not parse. Never throws. */
export function certificateOf(block: string | undefined): X509Certificate | undefined {
  if (block === undefined) return undefined;
  try {
    return new X509Certificate(block);
  } catch {
    return undefined;
  }
}

/** A certificate's subject on one line, its attributes joined by `, `: `CN=example.com, O=Example`. */
export function subjectLine(certificate: X509Certificate): string {
  return certificate.subject.split('\n').join(', ');
}

/** An instant (ms since the epoch) as ISO 8601 in UTC, to the second: `2020-01-02T00:00:00Z`. */
export function isoSecond(time: number): string {
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
