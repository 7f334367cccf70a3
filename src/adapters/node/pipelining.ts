/**
 * Requests pipelined on one HTTP/1.1 connection (sent before the answers to those ahead of
 * them), taken one at a time, as nginx, gunicorn and uvicorn take them.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What Node's HTTP server keeps on each connection's socket (lib/_http_server.js): `_paused`,
 * set when the server stops reading a connection whose answers back up, and the connection's
 * `parser`. Node has kept both under these names since its first releases; a socket without
 * `_paused` (Bun's `node:http`, HTTP/2) is not paused here.
 */
interface ServerSocket extends Socket {
  _paused?: boolean;
  parser?: { resume(): void } | null;
}

/**
 * True when `res` answers a request pipelined behind one not yet answered: Node has given it no
 * socket yet, its answer cannot go out before those ahead of it. `take` then runs when its turn
 * comes (Node hands it the connection), and the connection is not read meanwhile, as Node
 * pauses it when answers back up: requests are parsed a read at a time, not for ever.
 *
 * Node would hand the app every request pipelined in a read at once (some 2,400 small GETs in
 * 64 KiB), and read on while those apps work: one connection flooding a slow route ran the app
 * 100,000 times at once, and a flood behind one slow request held every request parsed, without
 * bound. A client gone before a request's turn leaves it unrun (Node drops it, unanswered).
 */
export function waitsForTurn(req: IncomingMessage, res: ServerResponse, take: () => void): boolean {
  if (res.socket !== null) return false;
  const socket = req.socket as ServerSocket | null;
  if (socket === null || typeof socket._paused !== 'boolean') return false;
  if (!socket._paused) {
    // As Node's own pause: its parser stops once the read in hand is parsed.
    socket._paused = true;
    socket.pause();
  }
  res.once('socket', () => {
    resumeReading(socket);
    take();
  });
  return true;
}

/** Reads the connection again, unless Node paused it for a client not reading (its `drain` resumes it). */
function resumeReading(socket: ServerSocket): void {
  if (!socket._paused || socket.writableNeedDrain) return;
  socket._paused = false;
  socket.parser?.resume();
  socket.resume();
}
