/**
 * The connections of the proxy's own pool: an upload the upstream stopped taking does not
 * throw away the answer it sent before it closed.
 *
 * @module
 */
import type { Socket } from 'node:net';
import { buildConnector } from './undici.ts';

/**
 * Write errors that say the upstream's side of the connection is gone: reset (`ECONNRESET`), or
 * closed and then reset (`EPIPE`). The read side then holds what the upstream sent before, and
 * ends: the kernel answers it, then end of file.
 */
const LOST: ReadonlySet<string> = new Set(['EPIPE', 'ECONNRESET']);

type WriteCallback = (error?: Error | null) => void;

/**
 * undici's connector (`buildConnector(options)`) whose sockets keep reading after a write to a
 * lost connection (see {@link readPastLostWrites}). For the default pool of `proxy()`.
 *
 * @param options - undici's connect options (`timeout`, TLS options…), as `Pool` takes them.
 */
export function upstreamConnector(options: buildConnector.BuildOptions): buildConnector.connector {
  const connect = buildConnector(options);
  return (target, callback) =>
    connect(target, (error, socket) => {
      if (socket) readPastLostWrites(socket); // undefined with an error
      (callback as (error: Error | null, socket: Socket | null) => void)(error, socket);
    });
}

/**
 * Makes a write that fails because the upstream closed or reset the connection (`EPIPE`,
 * `ECONNRESET`) hang instead of destroying `socket`, so that the answer the upstream sent
 * before closing is still read.
 *
 * An upstream may answer before it has read the whole request body (RFC 9112 §9.5: a `413`, a
 * `401`) and then close. The request body is still being written: the next write fails, and
 * Node destroys the socket at once, throwing away the answer waiting to be read, which undici
 * then never sees (it reports `write ECONNRESET` or `write EPIPE` instead, measured with undici
 * 7.30 on Linux: always, when the upstream closes as soon as it has answered). With the
 * failed write never completing, the socket's buffer stays full, so undici pauses the request
 * body (nothing more is read from the client), and reads on: the answer, then the end of the
 * connection, which ends a close-delimited answer or fails an incomplete one. A connection lost
 * without an answer fails as before, at that end (`other side closed`, or the reset).
 *
 * Costs one closure per write.
 */
function readPastLostWrites(socket: Socket): void {
  const write = socket._write;
  const writev = socket._writev;
  socket._write = function (this: Socket, chunk: unknown, encoding: BufferEncoding, done: WriteCallback): void {
    write.call(this, chunk, encoding, (error) => {
      if (!isLost(error)) done(error);
    });
  };
  if (writev !== undefined) {
    socket._writev = function (this: Socket, chunks: Array<{ chunk: unknown; encoding: BufferEncoding }>, done: WriteCallback): void {
      writev.call(this, chunks, (error) => {
        if (!isLost(error)) done(error);
      });
    };
  }
}

function isLost(error: Error | null | undefined): boolean {
  return error != null && LOST.has((error as NodeJS.ErrnoException).code ?? '');
}
