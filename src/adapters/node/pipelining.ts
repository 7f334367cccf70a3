/**
 * Requests pipelined on one HTTP/1.1 connection (sent before the answers to those ahead of
 * them), taken one at a time, as nginx, gunicorn and uvicorn take them, and at most
 * {@link MAX_WAITING} of them waiting; and the connection of an `Upgrade` request, which
 * Node parses no further in that read, closed after its answer.
 *
 * @module
 */
import { AsyncResource } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Environ } from '../../gateway/types.ts';
import { hasConnectionOption } from './head.ts';

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
 * to `take`: it runs with `req` and `res` when the request's turn comes, once the answer before it has closed (so
 * that one no longer counts as in flight for `maxConcurrentRequests`, and its access log line
 * is written first). Past {@link MAX_WAITING} waiting requests the connection is destroyed,
 * those requests unanswered.
 *
 * Node hands over every request of a read at once (some 2,400 small GETs in 64 KiB) and reads
 * on while their apps work, so one connection flooding a slow route ran the app 100,000 times
 * at once; and, once requests wait instead, Node never pauses the connection (it pauses when
 * waiting answers back up, and there are none), so a flood behind one slow request was parsed
 * without bound. A client gone before a request's turn leaves it unrun (Node drops it).
 *
 * `take` runs in the async context of the request's own `request` event (`AsyncResource.bind`),
 * not in that of the answer before it: an `AsyncLocalStorage` store set around the event (the
 * span of OpenTelemetry's http instrumentation) is the request's own, not the previous one's.
 * (`take` is the handler itself, not a closure over `req` and `res`, and the waiting is set up
 * in a function of its own, whose closures' context V8 allocates as it starts: a request that
 * need not wait, nearly all, allocates nothing here.)
 */
export function waitsForTurn(req: IncomingMessage, res: ServerResponse, take: (req: IncomingMessage, res: ServerResponse) => void): boolean {
  if (res.socket !== null) return false;
  waitForTurn(req, res, take);
  return true;
}

/** {@link waitsForTurn} for a request that waits: `take` runs at its turn, or the connection is destroyed past {@link MAX_WAITING}. */
function waitForTurn(req: IncomingMessage, res: ServerResponse, take: (req: IncomingMessage, res: ServerResponse) => void): void {
  const socket = req.socket;
  const count = waiting.get(socket) ?? 0;
  if (count >= MAX_WAITING) {
    socket.destroy();
    return;
  }
  waiting.set(socket, count + 1);
  const takeInContext = AsyncResource.bind(() => take(req, res));
  res.once('socket', () => {
    waiting.set(socket, waiting.get(socket)! - 1);
    // Node emits the `close` of the answer before on the next tick.
    process.nextTick(takeInContext);
  });
}

/**
 * True when `res` answers an HTTP/1 request that came on a connection this side has already
 * ended: the answer before it closed the connection (`Connection: close`, a lingering close of
 * a body the app left unread) while Node's parser went on through the rest of the read that
 * carried it. Such a request is dropped unrun, as Node drops one still waiting behind a closing
 * answer: its answer could not go out, and a client that sees the connection close after the
 * answer before sends it again (RFC 9112 §9.3.2), so running the app would run a POST twice.
 */
export function behindClosingAnswer(req: IncomingMessage, res: ServerResponse): boolean {
  return req.httpVersionMajor === 1 && res.socket !== null && res.socket.writableEnded;
}

/**
 * Has the answer to an HTTP/1.1 upgrade request (`Upgrade`, with `upgrade` listed in
 * `Connection`; RFC 9110 §7.8) close the connection (`Connection: close`), whatever it is:
 * the app cannot switch protocols (a `101` is no final status), so it answers in HTTP/1.1,
 * a `426` or anything else. Node's parser stops at such a request's end and never parses the
 * rest of the bytes it read with it, so a request pipelined behind it would wait unanswered
 * until the keep-alive timeout; closed at once instead, the connection tells the client to send
 * it again on a new one (RFC 9112 §9.3.2). The price: a client that offers an upgrade with
 * every request (`curl --http2` over cleartext offers `h2c`) gets no keep-alive. A request
 * that names `Upgrade` without `Connection: upgrade` is parsed on, and keeps its connection.
 * Costs the ordinary request one property read (`HTTP_UPGRADE`). (Handing the unparsed bytes
 * back to Node's parser would need its internals.)
 */
export function closeAfterUpgradeRequest(environ: Environ, res: ServerResponse): void {
  if (environ.HTTP_UPGRADE === undefined) return;
  const connection = environ.HTTP_CONNECTION as string | undefined;
  if (connection !== undefined && res.req?.httpVersionMajor === 1 && hasConnectionOption(connection, 'upgrade')) res.shouldKeepAlive = false;
}
