/**
 * The connections of the proxy's own pool: an upload the upstream stopped taking does not
 * throw away the answer it sent before it closed, and a reset that ends an answer without a
 * length is seen (see {@link endingReset}).
 *
 * @module
 */
import type { Socket } from 'node:net';
import { type buildConnector, undici } from './undici.ts';

/**
 * Write errors that say the upstream's side of the connection is gone: reset (`ECONNRESET`), or
 * closed and then reset (`EPIPE`). The read side then holds what the upstream sent before, and
 * ends: the kernel answers it, then end of file.
 */
const LOST: ReadonlySet<string> = new Set(['EPIPE', 'ECONNRESET']);

type WriteCallback = (error?: Error | null) => void;

/**
 * The error of the upstream socket whose `error` event is being emitted, while it is (see
 * {@link endingReset}); else undefined.
 */
let emitting: Error | undefined;

/**
 * undici's connector (`buildConnector(options)`) whose sockets keep reading after a write to a
 * lost connection (see {@link readPastLostWrites}) and tell a reset to the answer it ends (see
 * {@link endingReset}), and whose connect timeout is a Node timer: undici's runs on its coarse
 * clock (a tick every 499 ms), so a `timeout` of 200 ms fired after about a second, where
 * nginx's `proxy_connect_timeout` and Envoy's `connect_timeout` hold to the millisecond. For
 * the default pool of `proxy()`.
 *
 * @param options - undici's connect options (`timeout` in ms until the connection, and for
 *   TLS its handshake, is up, `0` for none; TLS options…), as `Pool` takes them.
 */
export function upstreamConnector(options: buildConnector.BuildOptions): buildConnector.connector {
  const { timeout, ...rest } = options;
  const connect = undici().buildConnector({ ...rest, timeout: 0 }) as unknown as (target: buildConnector.Options, callback: buildConnector.Callback) => Socket;
  return (target, callback) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const socket = connect(target, (error, socket) => {
      clearTimeout(timer);
      if (socket) {
        // (undefined with an error)
        readPastLostWrites(socket);
        markResets(socket);
      }
      (callback as (error: Error | null, socket: Socket | null) => void)(error, socket);
    });
    if (timeout) timer = setTimeout(() => socket.destroy(connectTimeoutError(socket, target, timeout)), timeout);
  };
}

/** undici's `ConnectTimeoutError`, with its message, for an attempt given up after `timeout` ms. */
function connectTimeoutError(socket: Socket, target: buildConnector.Options, timeout: number): Error {
  const attempted = socket.autoSelectFamilyAttemptedAddresses;
  const where = Array.isArray(attempted) && attempted.length > 0 ? `addresses: ${attempted.join(', ')}` : `address: ${target.hostname}:${target.port}`;
  return new (undici().errors.ConnectTimeoutError)(`Connect Timeout Error (attempted ${where}, timeout: ${timeout}ms)`);
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

/**
 * The reset (`ECONNRESET`) of the connection that undici is reading an answer from, when it
 * ends that answer: called by a dispatch handler in its `onResponseEnd`, which undici then
 * calls from within the socket's `error` event. Else undefined: the answer ended on its own
 * terms (its length, its last chunk, the upstream's clean close), or the connection is not one
 * of {@link upstreamConnector}'s.
 *
 * An answer without Content-Length or chunking ends where the connection does (RFC 9112 §6.3
 * ¶8); undici (7.x) also takes a reset of that connection for that end (a workaround for
 * macOS, which resets some connections after a whole answer) and ends the answer cleanly, with
 * nothing for the handler to tell it from a close: an upstream whose app failed in the middle
 * of the body, and reset the connection, looked like a whole answer. undici's dispatch API has
 * no hook for it (`onResponseEnd` carries no error, and a handler never sees its socket), so
 * the socket's own `error` event says it. While undici handles that event, the answer it ends
 * is the one running on that socket: the reset is that answer's, never a later one's over the
 * same pooled connection.
 */
export function endingReset(): Error | undefined {
  return emitting;
}

/**
 * Makes `socket` say, while undici handles its `error` event, that the error is a reset (see
 * {@link endingReset}), and records what it had read when destroyed with an error (see
 * {@link bytesReadBeforeLoss}). Costs one closure per connection, called when it is destroyed;
 * the `error` event of a reset connection only is wrapped.
 */
function markResets(socket: Socket): void {
  const destroy = socket._destroy;
  socket._destroy = function (this: Socket, error: Error | null, done: (error?: Error | null) => void): void {
    if (error != null) {
      readBefore.set(error, this.bytesRead);
      if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') markErrorEvent(this);
    }
    destroy.call(this, error, done);
  };
}

/** The bytes a connection of {@link upstreamConnector} had read when it was destroyed with an error, by that error. */
const readBefore = new WeakMap<Error, number>();

/**
 * The bytes the upstream connection had read when it was lost with `error`, or undefined when
 * not known: from the connection's own record (a reset of one of {@link upstreamConnector}'s),
 * or from undici's (`other side closed` carries its socket's `bytesRead`). `0` says the
 * connection was lost before it carried any answer: a fresh one, not a kept-alive one the
 * upstream closed as the request went out.
 */
export function bytesReadBeforeLoss(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const recorded = readBefore.get(error as Error);
  if (recorded !== undefined) return recorded;
  const read = (error as { socket?: { bytesRead?: unknown } }).socket?.bytesRead;
  return typeof read === 'number' ? read : undefined;
}

/** Wraps `socket`'s `emit` so that {@link endingReset} answers the error while its `error` event runs. */
function markErrorEvent(socket: Socket): void {
  const emit = socket.emit as (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;
  socket.emit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'error') return emit.call(this, event, ...args);
    const outer = emitting;
    emitting = args[0] as Error;
    try {
      return emit.call(this, event, ...args);
    } finally {
      emitting = outer;
    }
  };
}

function isLost(error: Error | null | undefined): boolean {
  return error != null && LOST.has((error as NodeJS.ErrnoException).code ?? '');
}
