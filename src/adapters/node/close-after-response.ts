/**
 * Closing an HTTP/1 connection once the response on it is sent: what the graceful shutdown
 * does after an event stream it ended (docs/response.md, "Server-sent events").
 *
 * @module
 */
import type { ServerResponse } from 'node:http';
import { http2Stream } from './http2-compat.ts';

/**
 * Closes the HTTP/1.1 connection of `res` once `res` is sent (its last bytes handed to the
 * socket, then a FIN: RFC 9112 §9.6, a server closes after a complete response), whatever the
 * keep-alive state of the connection. Over HTTP/2 it does nothing: the shutdown's `GOAWAY`
 * already keeps the client from opening another stream on the session.
 *
 * An event stream the shutdown ended went out with `Connection: keep-alive` (its head left long
 * before), so without this its client (`EventSource` after `retry`, with its `Last-Event-ID`)
 * would reconnect on the same connection, to the stopping server, under `close({ idle:
 * 'expire' })`: answered an empty stream there, it would wait `retry` once more before it
 * reaches a server still running.
 *
 * Called before `res` has finished: once it has, Node has detached the socket (`res.socket` is
 * `null`) and kept the connection for the next request, and this does nothing.
 */
export function closeAfterResponse(res: ServerResponse): void {
  if (http2Stream(res) !== undefined) return;
  const socket = res.socket;
  if (socket === null || socket.destroyed) return;
  if (res.writableFinished) socket.destroySoon();
  else res.once('finish', () => socket.destroySoon());
}
