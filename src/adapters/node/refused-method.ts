/**
 * How `serve()` tells a method Node's HTTP/1 parser (llhttp) does not know from a malformed
 * one (the methods it knows: `isKnownMethod`, src/http/methods.ts). RFC 9110 §9.1: a method is
 * a case-sensitive token, and an origin server answers one it does not recognize `501 Not
 * Implemented` (§15.6.2); one that is no token is malformed (`400` over HTTP/1.1; over HTTP/2
 * nghttp2 resets its stream, RFC 9113 §8.1.1).
 *
 * @module
 */
import { isTchar } from '../../gateway/fields.ts';

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
