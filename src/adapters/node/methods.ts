/**
 * The request methods `serve()` takes: those Node's HTTP/1 parser (llhttp) knows,
 * `http.METHODS` (RFC 9110's, WebDAV's, `PURGE`, `QUERY`…), over HTTP/2 as over HTTP/1.1.
 * RFC 9110 §9.1: a method is a case-sensitive token, and an origin server answers one it does
 * not recognize `501 Not Implemented` (§15.6.2); one that is no token is malformed (`400`
 * over HTTP/1.1; over HTTP/2 nghttp2 resets its stream, RFC 9113 §8.1.1).
 *
 * @module
 */
import { METHODS } from 'node:http';
import { isTchar } from '../../gateway/fields.ts';

/** The methods llhttp parses. */
const KNOWN: ReadonlySet<string> = new Set(METHODS);

/** The reason of the `501` answered to a method the server does not know. */
export const UNKNOWN_METHOD = 'unknown method';

/**
 * True for a method Node's HTTP/1 parser knows (`http.METHODS`, case-sensitive): an HTTP/2
 * request with another (`FOO`, a lower-case `get`) is answered `501`, as over HTTP/1.1.
 */
export function isKnownMethod(method: string | undefined): boolean {
  return method !== undefined && KNOWN.has(method);
}

/**
 * True when llhttp refused a method (`HPE_INVALID_METHOD`) that is a token followed by a space:
 * a method it does not know (`FROB`, `get`, `GETX`), which RFC 9110 §15.6.2 answers `501`, not
 * a malformed one (`G@T`: `400`). `packet` is the read the parser failed in, `at` where (its
 * `bytesParsed`, at or just after the first byte no known method has there); the token is read
 * both ways from it.
 */
export function refusedMethodIsToken(packet: Uint8Array, at: number): boolean {
  let start = Math.min(Math.max(at, 0), packet.length);
  while (start > 0 && isTchar(packet[start - 1]!)) start--;
  let end = start;
  while (end < packet.length && isTchar(packet[end]!)) end++;
  return end > start && packet[end] === 0x20;
}
