/**
 * What became of an upgrade the handler took (`serve()`'s `onUpgradeClosed`): the status of
 * the answer written on the raw connection (`101` for a WebSocket), the bytes sent after it and
 * how long the connection lasted, told once it closed, as nginx logs a WebSocket. tsgi reads
 * the answer's head as the handler writes it, and nothing after it.
 *
 * @module
 */
import type { Socket } from 'node:net';
import type { Environ } from '../../gateway/types.ts';
import { CLIENT_CLOSED } from '../../gateway/status.ts';

/** An upgrade whose connection has closed: what `onUpgradeClosed` gets. */
export interface ClosedUpgrade {
  /**
   * The status of the answer written on the connection: `101` for a WebSocket (what `ws`'s
   * `handleUpgrade` writes), the handler's own refusal (`socket.end('HTTP/1.1 404 …')`), the
   * `500` tsgi answered for a handler that failed; `499` (nginx's "client closed request")
   * when nothing was written (the client left first, the handler dropped the connection, or
   * `close()` cut it while an `async` handler awaited); `0` when what was written starts with
   * no status line.
   */
  readonly status: number;
  /**
   * Bytes written after the answer's head (a WebSocket's frames, a refusal's body), as nginx's
   * `$body_bytes_sent`: what the handler handed the socket, counted when it closed.
   */
  readonly bytes: number;
  /** Milliseconds from the request's head having arrived to the connection's close. */
  readonly duration: number;
  /** When the request's head had arrived. */
  readonly time: Date;
  /**
   * The request's environ, the handler's `context.environ` as the handler (and `tsgi serve`'s
   * `--proxy-headers` and `--root-path`) left it: `REMOTE_ADDR`, `REQUEST_METHOD`,
   * `REQUEST_URI`, `SERVER_PROTOCOL`, `HTTP_USER_AGENT`…
   */
  readonly environ: Environ;
}

/**
 * The `onUpgradeClosed` option of `serve()`. It may be `async` (a log line shipped to a
 * store): the connections go on being served meanwhile, and `close()` waits for the promises
 * still pending, until its `timeout`, as for `tsgi.wait_until`'s work and `onRefused`'s (one
 * still pending then is named in `serve()`'s `log`). An error it throws, or a promise it returns that rejects,
 * is logged to `log`.
 */
export type UpgradeCloseListener = (closed: ClosedUpgrade) => void;

/** The most of an answer's head read for its status (past it, all that was read is the head). */
const HEAD_LIMIT = 16 * 1024;

/** The status code of an answer's head: `HTTP/1.1 101 Switching Protocols`. */
const STATUS_LINE = /^HTTP\/\d(?:\.\d)? (\d{3})[ \r]/;

/** What {@link watchUpgrade} answers: `forget()` when the answer is reported otherwise (`onRefused`). */
export interface UpgradeWatch {
  forget(): void;
}

/**
 * Watches `socket`, handed to the upgrade handler with `before` bytes already written on it
 * (the answers to requests pipelined ahead), for the request whose head arrived at `started`
 * (`performance.now()`): reads the head of the answer written on it (its own `write` and
 * `end`, until the head's blank line), and calls `report` once it closes, unless `forget()`
 * was called first.
 */
export function watchUpgrade(socket: Socket, environ: Environ, started: number, report: (closed: ClosedUpgrade) => void): UpgradeWatch {
  const before = socket.bytesWritten;
  let head = '';
  // Bytes of the answer's head once its end was seen (or HEAD_LIMIT read), else -1.
  let headBytes = -1;
  let forgotten = false;
  const { write, end } = socket;
  let reading = true;
  const read = (chunk: unknown, encoding: unknown) => {
    if (!reading) return;
    if (typeof chunk === 'string') head += Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8').toString('latin1');
    else if (ArrayBuffer.isView(chunk)) head += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    else return;
    const blank = head.indexOf('\r\n\r\n');
    if (blank === -1 && head.length < HEAD_LIMIT) return;
    headBytes = blank === -1 ? head.length : blank + 4;
    stop();
  };
  // Own properties over the prototype's, until the head is read: `ws` writes its 101 with
  // `write`, its refusals with `end`, and `end(chunk)` does not go through `write`.
  const watchedWrite = function (this: Socket, ...args: unknown[]) {
    read(args[0], args[1]);
    return Reflect.apply(write, this, args) as boolean;
  } as Socket['write'];
  const watchedEnd = function (this: Socket, ...args: unknown[]) {
    if (typeof args[0] !== 'function') read(args[0], args[1]);
    return Reflect.apply(end, this, args) as Socket;
  } as Socket['end'];
  // Puts back what the socket had, unless the handler has put its own wrapper over ours (a
  // byte counter): that one stays, and ours, under it, only passes the calls on. Assigned,
  // not deleted: a `delete` turns the socket's properties into a slower dictionary for good.
  const stop = () => {
    reading = false;
    if (socket.write === watchedWrite) socket.write = write;
    if (socket.end === watchedEnd) socket.end = end;
  };
  socket.write = watchedWrite;
  socket.end = watchedEnd;
  socket.once('close', () => {
    stop();
    if (forgotten) return;
    const written = socket.bytesWritten - before;
    const status = head === '' ? CLIENT_CLOSED : Number(STATUS_LINE.exec(head)?.[1] ?? 0);
    report({
      status,
      bytes: Math.max(0, written - (headBytes === -1 ? Buffer.byteLength(head, 'latin1') : headBytes)),
      duration: performance.now() - started,
      time: new Date(performance.timeOrigin + started),
      environ,
    });
  });
  return {
    forget() {
      forgotten = true;
    },
  };
}
