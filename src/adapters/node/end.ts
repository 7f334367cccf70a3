/**
 * Ending a response with its whole body in one chunk, on the cheapest path Node offers; the
 * short plain-text answers the server makes itself.
 *
 * @module
 */
import type { ServerResponse } from 'node:http';
import { isHttp2 } from './http2-compat.ts';
import { writeHttp1Head } from './write-head.ts';

/**
 * Largest body (bytes) sent as a latin1 string by {@link endWith}. Measured with the project's
 * benchmark on Node 24: below about 4 KiB one string write beats a two-buffer `writev`; from
 * 16 KiB up the extra copy costs more than it saves.
 */
export const STRING_WRITE_LIMIT = 4096;

/**
 * Ends `res` with `chunk` as its whole body, right after `writeHead`.
 *
 * Node joins the head and the first body chunk into one socket write only when the chunk is a
 * string; a `Uint8Array` goes out through a two-part `writev`, which costs several
 * microseconds per response. A small chunk is therefore handed over as a latin1 string: latin1
 * maps every byte to one character and back, so the bytes on the wire are exactly the chunk's,
 * and the head's field values (latin1 too, spec §5) keep their bytes U+0080–U+00FF.
 */
export function endWith(res: ServerResponse, chunk: Uint8Array): void {
  if (chunk.byteLength > STRING_WRITE_LIMIT) {
    res.end(chunk);
    return;
  }
  // Always latin1, even for ASCII: Node prepends the head (a latin1 string) to this string and
  // writes both in the body's encoding, so UTF-8 would double-encode a field value's U+0080–U+00FF.
  res.end(latin1(chunk), 'latin1');
}

/**
 * Node's `Buffer.prototype.latin1Slice` (what `buffer.toString('latin1')` calls) works on any
 * `Uint8Array` and saves wrapping the chunk in a `Buffer` first; it is not documented, so the
 * documented path stays as the fallback.
 */
const latin1Slice = (Buffer.prototype as { latin1Slice?: (this: Uint8Array, start: number, end: number) => string })
  .latin1Slice;

/** The chunk's bytes as a latin1 string (one character per byte). */
function latin1(chunk: Uint8Array): string {
  if (latin1Slice !== undefined) return latin1Slice.call(chunk, 0, chunk.byteLength);
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
}

/**
 * Sends a short answer the server makes itself (a 400 before the app, a 500 for an app error):
 * `text/plain; charset=utf-8` with its `Content-Length`, plus `Connection: close` when `close`
 * is set, then the `kept` fields of a head it replaces (`heldFields`, which has none of
 * these). On HTTP/2 neither the reason nor `Connection` exist: the stream alone ends. The
 * caller deals with an unread request body first (see `prepareUnreadBody`).
 *
 * @throws whatever `writeHead` throws (nothing has been written then).
 */
export function endPlain(
  res: ServerResponse,
  code: number,
  reason: string,
  body: Uint8Array,
  close: boolean,
  kept?: ReadonlyArray<[string, string]>,
): void {
  const headers = ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(body.byteLength)];
  if (kept !== undefined) for (const [name, value] of kept) headers.push(name, value);
  if (res.req !== undefined && isHttp2(res.req)) res.writeHead(code, headers);
  else {
    if (close) headers.push('Connection', 'close');
    // Under toNodeHandler, fields middleware set before, or a writeHead it wrapped (see there).
    writeHttp1Head(res, code, reason, headers);
  }
  endWith(res, body);
}
