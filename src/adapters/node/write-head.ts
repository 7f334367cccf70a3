/**
 * Writing a status line and fields on an HTTP/1 response that code before `toNodeHandler` may
 * have touched: fields it set, and a `writeHead` it replaced to add its own fields when the
 * head goes out (on-headers, which express-session, compression and morgan use).
 *
 * @module
 */
import { ServerResponse } from 'node:http';
import { isBodilessStatus } from '../../gateway/status.ts';

/** Node's own `writeHead`: a response whose `writeHead` is another was wrapped by middleware. */
const NODE_WRITE_HEAD = ServerResponse.prototype.writeHead;

/**
 * `res.writeHead(code, reason, flat)` (`flat`: names and values alternating), all or nothing.
 * On a response nobody touched (as under `serve()`) Node checks the fields before storing any.
 *
 * Otherwise the fields are stored as Node's `writeHead` stores them (the earlier fields of
 * each name given removed, and an earlier `Content-Length` or `Transfer-Encoding`, which framed
 * no body of the app's, then each appended), and `writeHead` is called with the status
 * alone, as Express's `res.send()` does: a `writeHead` that middleware wrapped to add its
 * fields at that moment then finds the app's in place and adds to them (express-session's
 * cookie next to the app's `Set-Cookie`, compression's `Vary: Accept-Encoding` next to its
 * `Vary`) instead of having them replace its own, and on-headers before 1.1, which took a
 * field list for `[name, value]` pairs, never sees one (it sent fields of one letter and the
 * 500 for the app's). A field Node refuses puts the earlier fields back as they were before
 * the error is passed on, so the refused answer's `Set-Cookie` or `Location` never goes out
 * with the next head (the server's 500).
 *
 * @throws what `writeHead` or `appendHeader` throws (`ERR_INVALID_CHAR`…); nothing is sent then.
 */
export function writeHttp1Head(res: ServerResponse, code: number, reason: string, flat: string[]): void {
  // Node's `outgoingMessage.getRawHeaderNames()` (since 15.13): the names as set, not lowercased.
  const names = (res as unknown as { getRawHeaderNames(): string[] }).getRawHeaderNames();
  if (names.length === 0 && res.writeHead === NODE_WRITE_HEAD) {
    res.writeHead(code, reason, flat);
    return;
  }
  const earlier = names.map((name) => [name, res.getHeader(name)!] as const);
  try {
    dropEarlierFraming(res, code, flat);
    for (let i = 0; i < flat.length; i += 2) res.removeHeader(flat[i]!);
    for (let i = 0; i < flat.length; i += 2) res.appendHeader(flat[i]!, flat[i + 1]!);
    res.writeHead(code, reason);
  } catch (error) {
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    for (const [name, value] of earlier) res.setHeader(name, value);
    throw error;
  }
}

/**
 * The framing of the app's answer is the server's (docs/spec.md §4): a `Content-Length` that
 * code before the handler set on `res` measured no body of the app's, and is dropped; its
 * `Transfer-Encoding` too where the answer has a length (`flat`'s) or no content (1xx, 204,
 * 304), which with it would be framed twice or not at all (RFC 9112 §6.1, §6.3; RFC 9110 §8.6).
 * Otherwise a `chunked` one stays: Node would frame a body of unknown length so anyway (removed,
 * Node would take that for a wish to end the body with the connection).
 */
function dropEarlierFraming(res: ServerResponse, code: number, flat: readonly string[]): void {
  if (res.hasHeader('content-length')) res.removeHeader('content-length');
  if (!res.hasHeader('transfer-encoding')) return;
  let length = isBodilessStatus(code);
  for (let i = 0; i < flat.length && !length; i += 2) length = flat[i]!.toLowerCase() === 'content-length';
  if (length) res.removeHeader('transfer-encoding');
}
