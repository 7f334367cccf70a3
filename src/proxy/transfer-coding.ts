/**
 * The transfer codings of an upstream's answer that the HTTP client does not decode (RFC 9112
 * §7): undici takes `chunked` off the body, and nothing else.
 *
 * @module
 */
import type { UpstreamHead } from './upstream-exchange.ts';
import { codingsOf } from '../http/codings.ts';

/**
 * Codings whose body undici hands over as the bytes of the content: `chunked`, which it
 * decodes, and `identity`, an old name for no coding at all (RFC 2616; gone from RFC 9112).
 */
const DECODED: ReadonlySet<string> = new Set(['chunked', 'identity']);

/**
 * The upstream's `Transfer-Encoding` (its fields joined by `, `) when it names a coding undici
 * does not decode (`gzip, chunked`, `gzip`, `deflate`, `compress`; RFC 9112 §7), else undefined.
 * Such a body reaches the proxy still coded, and `Transfer-Encoding`, a hop-by-hop field, is not
 * passed on: the client would take the coded bytes for the content, so the answer is a malformed
 * one, as nginx answers it (`upstream sent unknown "Transfer-Encoding"`, a 502).
 *
 * @param headers - the upstream's fields as undici parses them (lower-case names, a repeated
 *   field as an array).
 */
export function undecodedTransferCoding(headers: UpstreamHead['headers']): string | undefined {
  const field = headers['transfer-encoding'];
  if (field === undefined) return undefined;
  const value = Array.isArray(field) ? field.join(', ') : field;
  for (const coding of codingsOf(value)) {
    // A coding's name, before any parameter (`;q=…`): RFC 9112 §7.
    const name = coding.split(';', 1)[0]!.trimEnd();
    if (name !== '' && !DECODED.has(name)) return value;
  }
  return undefined;
}
