/**
 * The answer to a request Node's HTTP/1 parser refused (its `clientError` event): the status
 * Node would send, with a one-line reason in the body, as gunicorn and nginx give one.
 *
 * @module
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { discardThenClose, endsAnsweredBody } from './linger.ts';
import { environOfExchange } from './exchange-key.ts';
import { serverStatusKey } from '../../gateway/server-status.ts';
import type { Reporter } from './refused.ts';
import { rawAnswer } from './raw-answer.ts';
import { LineTail, overflowsRequestLine } from './head-overflow.ts';
import { isTlsErrorCode } from './tls-failure.ts';
import { DUPLICATE_CONTENT_LENGTH } from '../../http/singleton-fields.ts';
import { BOTH_FRAMINGS as BOTH_FRAMINGS_DETAIL } from '../../http/request-framing.ts';
import { refusedMethodIsToken } from './refused-method.ts';
import { UNKNOWN_METHOD } from '../../http/methods.ts';

/** What a refused request is answered: status code, reason phrase, and why. */
interface Refusal {
  code: number;
  reason: string;
  detail: string;
}

const badRequest = (detail: string): Refusal => ({ code: 400, reason: 'Bad Request', detail });

/** Why the parser refused a request, by the error's code (llhttp's `HPE_*`, and Node's own). */
const REFUSALS: ReadonlyMap<string, Refusal> = new Map([
  ['HPE_HEADER_OVERFLOW', { code: 431, reason: 'Request Header Fields Too Large', detail: 'the header section has more fields or bytes than the server accepts' }],
  ['HPE_CHUNK_EXTENSIONS_OVERFLOW', { code: 413, reason: 'Content Too Large', detail: 'chunk extensions larger than the server accepts' }],
  ['ERR_HTTP_REQUEST_TIMEOUT', { code: 408, reason: 'Request Timeout', detail: 'the request did not arrive in time' }],
  ['HPE_INVALID_METHOD', badRequest('invalid method')],
  ['HPE_INVALID_URL', badRequest('invalid character in the request target')],
  ['HPE_INVALID_VERSION', badRequest('invalid HTTP version')],
  ['HPE_INVALID_CONSTANT', badRequest('malformed request line')],
  ['HPE_INVALID_HEADER_TOKEN', badRequest('invalid character in a header field')],
  ['HPE_UNEXPECTED_SPACE', badRequest('unexpected whitespace')],
  ['HPE_INVALID_CONTENT_LENGTH', badRequest('invalid Content-Length')],
  ['HPE_UNEXPECTED_CONTENT_LENGTH', badRequest(DUPLICATE_CONTENT_LENGTH)],
  ['HPE_INVALID_TRANSFER_ENCODING', badRequest('invalid Transfer-Encoding')],
  ['HPE_INVALID_CHUNK_SIZE', badRequest('invalid chunk size')],
  ['HPE_CR_EXPECTED', badRequest('malformed line ending')],
  ['HPE_LF_EXPECTED', badRequest('malformed line ending')],
]);

const MALFORMED = badRequest('malformed request');

/** The reason of the `414` to a request target past the server's limit, over HTTP/1.1 and HTTP/2. */
export const TARGET_TOO_LONG = 'the request target is longer than the server accepts';

/**
 * A head past `maxHeaderSize` that overflowed in its request line: a request target too long
 * (RFC 9110 §15.5.15), as nginx answers a request line past its buffer.
 */
const URI_TOO_LONG: Refusal = { code: 414, reason: 'URI Too Long', detail: TARGET_TOO_LONG };

/**
 * Both framing headers at once. llhttp reports it under the code of whichever header came
 * second (`HPE_INVALID_CONTENT_LENGTH` or `HPE_INVALID_TRANSFER_ENCODING`), so it is told by
 * its reason, "… can't be present with …".
 */
const BOTH_FRAMINGS = badRequest(BOTH_FRAMINGS_DETAIL);

/**
 * A request line ended by a bare LF or CR (RFC 9112 §2.2: a recipient may refuse them). llhttp
 * reports it as `HPE_INVALID_VERSION` or `HPE_STRICT`, which would read "invalid HTTP version",
 * so it is told by its reason, "Expected CRLF after version".
 */
const LINE_ENDING = badRequest('malformed line ending');

/**
 * A method llhttp does not know that is a token (`FROB`, a lower-case `get`): RFC 9110 §9.1 and
 * §15.6.2 have an origin server answer `501`; llhttp reports it as it reports a malformed one
 * (`G@T`, still `400 invalid method`).
 */
const NOT_IMPLEMENTED: Refusal = { code: 501, reason: 'Not Implemented', detail: UNKNOWN_METHOD };

/** The refusal of a parser error: by its llhttp `reason` where the code is shared or misleading, else by its code. */
function refusalOf(error: Error & { code?: string; reason?: unknown; bytesParsed?: unknown; rawPacket?: unknown }): Refusal {
  if (error.code === 'HPE_HEADER_OVERFLOW' && overflowsRequestLine(error) === true) return URI_TOO_LONG;
  if (error.code === 'HPE_INVALID_METHOD' && error.rawPacket instanceof Uint8Array && typeof error.bytesParsed === 'number' && refusedMethodIsToken(error.rawPacket, error.bytesParsed)) return NOT_IMPLEMENTED;
  if (typeof error.reason === 'string') {
    if (error.reason.includes("can't be present with")) return BOTH_FRAMINGS;
    if (error.reason.includes('Expected CRLF')) return LINE_ENDING;
  }
  return (error.code !== undefined && REFUSALS.get(error.code)) || MALFORMED;
}

/** Sockets already being refused: the parser repeats its error for every chunk after it. */
const refusing = new WeakSet<Socket>();

/**
 * The `clientError` listener of `serve()`'s HTTP/1 servers (RFC 9112 syntax errors and Node's
 * limits). A request Node's parser refused — a non-ASCII byte in the request target, an
 * invalid field name, `Content-Length` next to `Transfer-Encoding`, a head past Node's
 * `maxHeaderSize` or with more fields than its `maxHeadersCount` (which Node reports alike), a
 * head not in by `headersTimeout` — gets the status Node gives it (400; 431
 * for a head too large, 414 when the request target is what overflowed it, as nginx answers;
 * 408 for a timeout; 413 for chunk extensions too large) with
 * `Content-Type: text/plain; charset=utf-8`, a `Content-Length` and a one-line reason such as
 * `Bad Request: invalid character in the request target` (Node's own answer has no body).
 * The connection then closes: after a timeout at once, else as a lingering close
 * (`discardThenClose`), so a client still sending can read the answer. A head that overflowed
 * in a read lying inside one line (a long line in three reads or more) is answered once the
 * rest of that line told a request target from a field (up to 1 s or 1 MiB more of it; `431`
 * when it did not: see `LineTail`).
 *
 * A malformed request pipelined behind one the app is still answering is refused once that
 * answer has gone out whole. When the request being answered is itself the malformed one (a
 * broken chunked body), the connection is cut, after the refusal if none of the app's answer
 * has gone out yet (as Node does; the refusal's status is then left in `tsgi.server_status`,
 * so the access log shows the 400 the client got, not a 499). When the client is gone (`ECONNRESET`, the socket no
 * longer writable, its FIN in the body of the request being answered (Node's
 * `HPE_INVALID_EOF_STATE`: the client left mid-upload, which is no malformed body; the app's
 * read fails, as after a reset, and the access log says 499), or its FIN in the small body
 * Node drains after the request was answered: that request has its answer and its log line)
 * the socket is destroyed, as it is when the TLS layer failed (a handshake not over by
 * `handshakeTimeout`, a plain-HTTP request on the TLS port: nothing is answered nor reported). The app is not called for a refused request, and
 * nothing is logged as an error (the fault is the client's); a refusal answered is passed to
 * `report` (`serve()`'s `onRefused`).
 */
export function answerClientError(error: Error & { code?: string; reason?: unknown; bytesParsed?: unknown; rawPacket?: unknown }, socket: Socket, report?: Reporter): void {
  if (refusing.has(socket)) return;
  refusing.add(socket);
  // A client gone (a reset; its FIN in the drained body of a request already answered) reads no
  // answer, nor does one whose TLS layer failed (a handshake past `handshakeTimeout`, plain HTTP
  // on the TLS port): no HTTP was spoken, and bytes written now would wait for a handshake.
  if (error.code === 'ECONNRESET' || isTlsErrorCode(error.code) || !socket.writable || endsAnsweredBody(error, socket)) {
    socket.destroy();
    return;
  }
  const answering = answeringOn(socket);
  const midBody = answering !== undefined && answering.req?.complete !== true;
  // The client's FIN in the body of the request being answered: it went away, as with a reset
  // (its read fails; the access log says 499), and sent nothing malformed to answer 400.
  if (midBody && error.code === 'HPE_INVALID_EOF_STATE') {
    socket.destroy();
    return;
  }
  const refusal = refusalOf(error);
  if (midBody) {
    // The request being answered is the malformed one: cut, as Node does.
    if (!answering.headersSent) {
      socket.write(answer(refusal));
      // The client got the refusal, not the app's answer: the access log says so, not 499.
      const environ = environOfExchange(answering);
      if (environ !== undefined) serverStatusKey.set(environ, refusal.code);
    }
    socket.destroy();
    return;
  }
  if (error.code === 'HPE_HEADER_OVERFLOW' && overflowsRequestLine(error) === undefined) {
    // The read inside one line: the rest of the line tells a request target from a field.
    readLineTail(socket, (requestLine) => refuse(socket, requestLine ? URI_TOO_LONG : refusal, report));
    return;
  }
  refuse(socket, refusal, report);
}

/** How long (ms) the rest of a line that overflowed the head is waited for (see {@link readLineTail}). */
const LINE_TAIL_TIME = 1000;
/** How many bytes of the rest of that line are read, at most. */
const LINE_TAIL_BYTES = 1024 * 1024;

/**
 * Reads the rest of the line that overflowed the head from `socket` (the parser refuses the
 * bytes too, repeating its error), and calls `then` once, with whether it proved a request
 * line ({@link LineTail}); with `false` when it did not within {@link LINE_TAIL_TIME} ms or
 * {@link LINE_TAIL_BYTES} bytes, or the client ended or reset the connection (the `431` Node
 * gives). The answer waits meanwhile: a client sends its head whole before it reads.
 */
function readLineTail(socket: Socket, then: (requestLine: boolean) => void): void {
  const tail = new LineTail();
  let left = LINE_TAIL_BYTES;
  const finish = (requestLine: boolean) => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('close', onEnd);
    then(requestLine);
  };
  const onData = (chunk: Buffer) => {
    left -= chunk.byteLength;
    const told = tail.push(chunk);
    if (told !== undefined || left < 0) finish(told === true);
  };
  const onEnd = () => finish(false);
  const timer = setTimeout(onEnd, LINE_TAIL_TIME);
  timer.unref();
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('close', onEnd);
  socket.resume();
}

/** Answers `refusal` on `socket` once the answers before it are out, and closes the connection. */
function refuse(socket: Socket, refusal: Refusal, report: Reporter | undefined): void {
  whenAnswered(socket, () => {
    if (!socket.writable) return;
    socket.end(answer(refusal));
    report?.(refusal.code, refusal.detail, bodyOf(refusal).length, undefined, socket);
    if (refusal.code === 408) socket.once('finish', () => socket.destroy());
    else discardThenClose(socket, () => false);
  });
}

/** The response being sent on `socket` (Node's ServerResponse holds the socket meanwhile). */
function answeringOn(socket: Socket): ServerResponse | undefined {
  return (socket as { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
}

/** Calls `then` once the responses to the requests before the refused one have gone out. */
function whenAnswered(socket: Socket, then: () => void): void {
  const answering = answeringOn(socket);
  if (answering === undefined) then();
  // Node hands the socket to the next pipelined response as the previous one finishes.
  else answering.once('finish', () => whenAnswered(socket, then));
}

/**
 * The 'error' listener of a socket no parser or session listens on yet or any more (one Node
 * handed over, an h2c socket before its protocol is known, an upgraded one): a peer's reset
 * destroys it, which is all; without a listener the error would end the process.
 */
export function ignoreClientGone(): void {}

/**
 * Answers a request whose socket Node has handed over (a CONNECT, which the HTTP/1 parser
 * leaves to the `connect` event) with `code reason` and the one-line `detail`, then closes the
 * connection as a refused request's (`discardThenClose`: what the client sends meanwhile, the
 * start of its tunnel, is read and dropped). Answers the body's size in bytes (0 when the client
 * was gone and nothing was sent).
 */
export function answerOnSocket(socket: Socket, code: number, reason: string, detail: string): number {
  // Node's HTTP server takes its own 'error' listener off a socket it hands over: a client that
  // resets the connection (ECONNRESET while the rest of its tunnel is read and dropped) would
  // end the process with an uncaught error. The socket is destroyed with the error; the client
  // is gone, nothing to say.
  socket.on('error', ignoreClientGone);
  if (!socket.writable) {
    socket.destroy();
    return 0;
  }
  const refusal = { code, reason, detail };
  socket.end(answer(refusal));
  discardThenClose(socket, () => false);
  return bodyOf(refusal).length;
}

/** The body of `refusal`'s answer: one line (ASCII). */
function bodyOf({ reason, detail }: Refusal): string {
  return `${reason}: ${detail}\n`;
}

/** The whole HTTP/1.1 answer of `refusal`. */
function answer(refusal: Refusal): string {
  return rawAnswer(refusal.code, refusal.reason, bodyOf(refusal));
}
