/**
 * HTTP/2 requests in the Node adapter. `node:http2`'s compatibility API hands the handler an
 * `Http2ServerRequest` and `Http2ServerResponse` that behave like `IncomingMessage` and
 * `ServerResponse` for everything the adapter does, except a few points handled here:
 *
 * - the connection is shared by many streams: an exchange ends its own stream (`RST_STREAM`),
 *   never the socket, and `Connection`-specific fields and reason phrases do not exist
 *   (RFC 9113 §8.2.2, §8.3.2);
 * - a request has a body unless its `HEADERS` frame ended the stream (no `Content-Length` or
 *   `Transfer-Encoding` needed), and a body the app left unread is refused with
 *   `RST_STREAM(NO_ERROR)` once the answer is out (RFC 9113 §8.1);
 * - the response has no `destroyed` flag: its stream has.
 *
 * The adapter's functions keep their `IncomingMessage`/`ServerResponse` types; these helpers
 * look at the object they are given.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Http2Session, type ServerHttp2Stream, constants } from 'node:http2';
import { markDiscarded } from '../../gateway/readable-input.ts';

/** The HTTP/2 stream of a request or response, `undefined` for HTTP/1. */
export function http2Stream(message: IncomingMessage | ServerResponse): ServerHttp2Stream | undefined {
  return (message as { stream?: ServerHttp2Stream }).stream;
}

/**
 * True for a request (or its response) carried by HTTP/2: version 2 and a stream. Node's
 * HTTP/1 parser takes `HTTP/2.0` in a request line too, which is no HTTP/2 (it has no stream):
 * `buildEnviron` answers it 505. The stream is looked for only when the version says 2.
 */
export function isHttp2(req: IncomingMessage): boolean {
  return req.httpVersionMajor === 2 && http2Stream(req) !== undefined;
}

/** True when nothing more can be sent on `res`: its socket (HTTP/1) or stream (HTTP/2) is gone. */
export function responseGone(res: ServerResponse): boolean {
  if (res.destroyed) return true;
  const stream = http2Stream(res);
  return stream !== undefined && stream.destroyed;
}

/**
 * What emits `close` when the exchange of `res` ends, however it ends: on HTTP/2 its stream,
 * on HTTP/1 `res` itself. Node's `Http2ServerResponse` of a `HEAD` request emits neither
 * `close` nor `finish` when its client resets the stream before the answer (Node 24):
 * a listener on the response would wait for ever there. A property read: nothing is allocated.
 */
export function closeEmitter(res: ServerResponse): ServerResponse | ServerHttp2Stream {
  return http2Stream(res) ?? res;
}

/**
 * True when `res` was handed whole to its connection: finished, and on HTTP/2 its stream not
 * reset by the client. Node's `Http2ServerResponse` reads as finished once its stream closed,
 * reset or not; and for a HEAD request, whose stream Node ends at once, it emits no `close` at
 * the client's reset (the stream's `rstCode` tells it).
 */
export function sentWhole(res: ServerResponse): boolean {
  if (!res.writableFinished) return false;
  const code = http2Stream(res)?.rstCode;
  return code === undefined || code === constants.NGHTTP2_NO_ERROR;
}

/**
 * Ends the exchange on `res` abruptly: on HTTP/2 its stream is reset with `code` (default
 * `INTERNAL_ERROR`: a reset with `NO_ERROR` would let a cut body pass for a whole one); on
 * HTTP/1 the connection is destroyed.
 */
export function cutResponse(res: ServerResponse, code: number = constants.NGHTTP2_INTERNAL_ERROR): void {
  const stream = http2Stream(res);
  if (stream === undefined) res.destroy();
  else cutStream(stream, code);
}

/**
 * Resets `stream` with `code`; one closed already and not destroyed is destroyed. Node leaves a
 * stream its client closed with `RST_STREAM(NO_ERROR)` in that state while an answer is
 * still queued on it: no frame can go out any more, and its `close` (the app's body closed,
 * `tsgi.signal` aborted) waits for a `finish` that never comes.
 */
export function cutStream(stream: ServerHttp2Stream, code: number): void {
  if (!stream.closed) stream.close(code);
  else if (!stream.destroyed) stream.destroy();
}

/**
 * `res.writeHead(code, fields)` on an HTTP/2 response, all or nothing. Node's
 * `Http2ServerResponse` stores each field before its stream checks the head as a whole (a
 * field that takes one value given twice, `Content-Type` or `Location`, is refused then): on
 * a throw the fields stored so far stay, and would go out with the next head (the server's
 * 500). They are removed before the error is passed on; but `removeHeader('date')` only stops
 * Node's own `Date` and keeps the app's, so a stored `Date` is replaced by the current time
 * instead (two of them made the 500 throw too: the stream closed without a head).
 *
 * @throws what `writeHead` throws (`ERR_HTTP2_HEADER_SINGLE_VALUE`…), or a `RangeError` for a
 *   head too large to send (see {@link assertHeadFits}); nothing is sent then.
 */
export function writeHttp2Head(res: ServerResponse, code: number, fields: string[]): void {
  assertHeadFits(res, fields);
  try {
    res.writeHead(code, fields);
  } catch (error) {
    for (const name of res.getHeaderNames()) {
      if (name === 'date') res.setHeader(name, new Date().toUTCString());
      else res.removeHeader(name);
    }
    throw error;
  }
}

/** Node's default `maxSendHeaderBlockLength` (nghttp2's): 64 KiB. */
export const DEFAULT_HEADER_BLOCK_LIMIT = 65_536;

/** The `maxSendHeaderBlockLength` of each session, set by `trackSessions`. */
const headerBlockLimits = new WeakMap<Http2Session, number>();

/** Records the largest header block `session` sends (its server's `maxSendHeaderBlockLength`). */
export function setHeaderBlockLimit(session: Http2Session, limit: number): void {
  headerBlockLimits.set(session, limit);
}

/**
 * The size nghttp2 allows for the head of `fields` (names and values alternating) on `res`'s
 * HTTP/2 stream, and its bound, when the bound is past it; else `undefined`. nghttp2 bounds
 * the compressed block before it sends it (12 bytes, 5 for a priority, and per field 12 plus
 * its name and value, as `nghttp2_hd_deflate_bound` counts; `:status` included, and Node's
 * `Date` when `addsDate` and `fields` have none) and refuses one past the session's
 * `maxSendHeaderBlockLength`: Node then resets the stream with `FRAME_SIZE_ERROR` and closes
 * the whole session, while the response (or the 103) looks sent. So heads are checked first.
 */
export function headBlockOverflow(res: ServerResponse, fields: string[], addsDate: boolean): { bound: number; limit: number } | undefined {
  const session = http2Stream(res)?.session;
  const limit = (session && headerBlockLimits.get(session)) ?? DEFAULT_HEADER_BLOCK_LIMIT;
  // 12 + 5, and `:status` (7 + 3) with its 12; Node's `Date` with its 12 at most.
  let chars = 0;
  for (let i = 0; i < fields.length; i++) chars += fields[i]!.length;
  // A UTF-16 unit is at most 3 UTF-8 bytes: most heads are measured by their length alone.
  if (39 + 45 + 12 * (fields.length >> 1) + 3 * chars <= limit) return undefined;
  // UTF-8 lengths: at least what Node encodes (a value's obs-text bytes are one or two).
  let bound = 39;
  let date = !addsDate;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    bound += 12 + Buffer.byteLength(name) + Buffer.byteLength(fields[i + 1]!);
    if (!date && name.length === 4 && name.toLowerCase() === 'date') date = true;
  }
  if (!date) bound += 12 + 4 + 29;
  return bound > limit ? { bound, limit } : undefined;
}

/**
 * Throws for a head nghttp2 would refuse to send (see {@link headBlockOverflow}): the head is
 * an app error then, a logged 500 on that stream alone.
 *
 * @throws RangeError when the head's bound passes the session's limit.
 */
function assertHeadFits(res: ServerResponse, fields: string[]): void {
  const overflow = headBlockOverflow(res, fields, true);
  if (overflow !== undefined) {
    throw new RangeError(
      `response head too large for HTTP/2: ${overflow.bound} bytes in its header block, past ${overflow.limit} (maxSendHeaderBlockLength)`,
    );
  }
}

/**
 * A response field value as HTTP/2 may carry it: without leading or trailing spaces and tabs.
 * RFC 9113 §8.2.1 makes a value with them malformed, and Node's HTTP/2 client (nghttp2) drops
 * such a field without a word; over HTTP/1.1 the client's parser strips them (RFC 9110 §5.5:
 * they are no part of the value), so the app's field arrives trimmed. Only SP and HTAB are
 * removed (not U+00A0, an obs-text byte); a value without them is returned as it is, after two
 * character reads.
 */
export function http2FieldValue(value: string): string {
  const last = value.length - 1;
  if (last < 0 || (!isBlank(value.charCodeAt(0)) && !isBlank(value.charCodeAt(last)))) return value;
  let start = 0;
  let end = last + 1;
  while (start < end && isBlank(value.charCodeAt(start))) start++;
  while (end > start && isBlank(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}

/** SP or HTAB. */
function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}

/** True when an HTTP/2 request has a body: its `HEADERS` frame did not end the stream. */
export function http2HasBody(req: IncomingMessage): boolean {
  const stream = http2Stream(req);
  return stream !== undefined && !stream.endAfterHeaders && !stream.readableEnded;
}

/**
 * After the response on `res` has been sent, refuses the rest of an unread request body with
 * `RST_STREAM(NO_ERROR)`: RFC 9113 §8.1 lets a server that has answered ask the client to stop
 * sending, without closing the connection the other streams share.
 * The request stream is destroyed with it, so an app still reading the body sees a broken-off
 * body, not the clean end Node would give it.
 */
export function refuseRestOfBody(req: IncomingMessage, res: ServerResponse): void {
  const stream = http2Stream(res);
  if (stream === undefined) return;
  // The stream's own `finish` (its END_STREAM is out): the response's waits for the stream to
  // close, which a body still arriving keeps open when the app has read some of it.
  stream.once('finish', () => {
    // `req.complete` turns true when the answer ends; the stream knows whether its body was read.
    if (stream.readableEnded || stream.closed) return;
    stream.close(constants.NGHTTP2_NO_ERROR);
    // Node would then end the request stream as if its body were whole: an app still reading
    // it (one `timeout` answered for) must see it broken off instead, and a read begun after
    // (the work of `res.callOnClose`) that it was discarded, as on HTTP/1.1.
    if (!req.destroyed) {
      markDiscarded(req);
      req.destroy();
    }
  });
}
