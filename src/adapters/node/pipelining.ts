/**
 * Requests pipelined on one HTTP/1.1 connection (sent before the answers to those ahead of
 * them), taken one at a time, as nginx, gunicorn and uvicorn take them, and at most
 * {@link MAX_WAITING} of them waiting.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * How many requests of one connection may wait for their turn: one more closes the connection.
 * Pipelining clients keep a few in flight (a load generator's `-p 10`); browsers none.
 */
export const MAX_WAITING = 100;

/** How many requests of each connection wait for their turn. */
const waiting = new WeakMap<Socket, number>();

/**
 * True when `res` answers a request pipelined behind one not yet answered (Node has given it no
 * socket yet: its answer cannot go out before those ahead of it), which the caller then leaves
 * to `take`: it runs when the request's turn comes, once the answer before it has closed (so
 * that one no longer counts as in flight for `maxConcurrentRequests`, and its access log line
 * is written first). Past {@link MAX_WAITING} waiting requests the connection is destroyed,
 * those requests unanswered.
 *
 * Node hands over every request of a read at once (some 2,400 small GETs in 64 KiB) and reads
 * on while their apps work, so one connection flooding a slow route ran the app 100,000 times
 * at once; and, once requests wait instead, Node never pauses the connection (it pauses when
 * waiting answers back up, and there are none), so a flood behind one slow request was parsed
 * without bound. A client gone before a request's turn leaves it unrun (Node drops it).
 */
export function waitsForTurn(req: IncomingMessage, res: ServerResponse, take: () => void): boolean {
  if (res.socket !== null) return false;
  const socket = req.socket;
  const count = waiting.get(socket) ?? 0;
  if (count >= MAX_WAITING) {
    socket.destroy();
    return true;
  }
  waiting.set(socket, count + 1);
  res.once('socket', () => {
    waiting.set(socket, waiting.get(socket)! - 1);
    // Node emits the `close` of the answer before on the next tick.
    process.nextTick(take);
  });
  return true;
}
