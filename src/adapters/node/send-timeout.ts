/**
 * The send timeout: a response the client stops reading is cut (nginx's `send_timeout`).
 *
 * A client that reads one byte now and then would otherwise hold its socket, the app's body
 * iterator and whatever that holds (an open file) for ever: Node's own timeouts cover the
 * request, not the response. The timeout runs only while the socket's buffer is full, waiting
 * for the client; each `drain` ends it, so a slow but steady client is not cut, nor is a long
 * poll that sends nothing for a while.
 *
 * @module
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { constants } from 'node:http2';
import { cutStream, http2Stream } from './http2-compat.ts';
import { MAX_DELAY } from '../../gateway/max-delay.ts';
import { shownValue } from '../../gateway/shown.ts';

/** The default send timeout: 60 s without the client taking a buffered write (nginx's default). */
export const DEFAULT_SEND_TIMEOUT = 60_000;

/**
 * The milliseconds of a handler's `sendTimeout` option (`undefined` for the default,
 * {@link DEFAULT_SEND_TIMEOUT}; 0 turns it off), checked once per handler: Node runs a timer
 * whose delay is past {@link MAX_DELAY}, or no number, after 1 ms, which would cut every
 * response whose write waits for the client (a large download paused for a moment).
 *
 * @throws TypeError for a value that is not a number of milliseconds from 0 to {@link MAX_DELAY}.
 */
export function sendTimeoutOf(sendTimeout: number | undefined): number {
  const ms = sendTimeout ?? DEFAULT_SEND_TIMEOUT;
  if (typeof ms !== 'number' || !(ms >= 0 && ms <= MAX_DELAY)) {
    throw new TypeError(`sendTimeout must be a non-negative number of milliseconds, at most ${MAX_DELAY} (0 turns it off), got ${shownValue(ms)}`);
  }
  return ms;
}

/**
 * True when an HTTP/2 stream was ended (`end()`) with more than its buffer's worth still
 * queued: Node's `writableNeedDrain` is false once a stream is ending, and no `drain` comes
 * after `end()`; its `finish` says the client took the rest.
 */
function endedFull(stream: Duplex | undefined): boolean {
  return stream !== undefined && stream.writableEnded && !stream.writableFinished && stream.writableLength > stream.writableHighWaterMark;
}

/**
 * Watches the socket of `res` (on HTTP/2, its stream) while its write buffer is full: when
 * `timeout` milliseconds pass without a `drain` (on an HTTP/2 stream ended with a large body
 * queued, without its `finish`), the socket (or stream) is destroyed (its `close` then closes
 * the app's body). Does nothing when the buffer is not full, or `timeout` is 0 (off). Call it
 * after a write that returned `false`, or after `end()` with a large body.
 */
export function guardSend(res: ServerResponse, timeout: number): void {
  const stream = http2Stream(res);
  const socket: Duplex | null = stream ?? res.socket;
  if (timeout <= 0 || socket === null || socket.destroyed) return;
  if (!(socket.writableNeedDrain || res.writableNeedDrain || endedFull(stream))) return;
  armSendTimer(res, socket, stream, timeout);
}

/**
 * {@link guardSend}'s timer, for an answer left waiting for the client. A function of its own:
 * V8 allocates the context its closures capture as a function starts, and most answers are out
 * at once.
 */
function armSendTimer(res: ServerResponse, socket: Duplex, stream: ReturnType<typeof http2Stream>, timeout: number): void {
  const cut = () => {
    stop();
    if (stream === undefined) socket.destroy();
    // A stream its client closed with NO_ERROR is closed, not gone: destroyed (`cutStream`).
    else cutStream(stream, constants.NGHTTP2_CANCEL);
  };
  const timer = setTimeout(cut, timeout);
  timer.unref();
  function stop() {
    clearTimeout(timer);
    res.off('drain', stop);
    socket.off('drain', stop);
    socket.off('finish', stop);
    socket.off('close', stop);
  }
  // The response's own `drain` (after a write that returned false) or the socket's (after
  // `end()` left data buffered): either means the client took what was waiting.
  res.once('drain', stop);
  socket.once('drain', stop);
  if (stream !== undefined) stream.once('finish', stop);
  socket.once('close', stop);
}
