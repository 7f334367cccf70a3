/**
 * Noticing, in the Node adapter, a client that goes away while the app has not answered, for
 * the layers that watch for it (`watchClientGone`: `accessLog` logs its 499 then), through
 * the `close` of the connection (HTTP/1) or of the stream (HTTP/2). Only a request a layer
 * watches is looked after, and without a listener or a closure of its own where the server
 * listens anyway: `serve()` hears every connection's and every stream's `close`.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Environ } from '../../gateway/types.ts';
import { tellClientGone } from '../../gateway/client-gone.ts';
import { environOfExchange } from './exchange-key.ts';
import { http2Stream } from './http2-compat.ts';

/** On a connection: the environ of its request whose app is working and watched, if any. */
const ANSWERING = Symbol('tsgi.answering');
/** On a connection: `true` once {@link connectionClosed} runs at its `close`; `false` while nothing does yet. */
const HEARD = Symbol('tsgi.close_heard');

type HeardSocket = Socket & { [HEARD]?: boolean; [ANSWERING]?: Environ | undefined };

/**
 * Has {@link connectionClosed} run at `socket`'s `close` by a listener the server adds to
 * every connection anyway (`serve()`'s, which keeps it to cut at the shutdown): no watched
 * request on it then adds one. Gives the connection both slots at once (see {@link watchable}).
 */
export function hearsClose(socket: Socket): void {
  (socket as HeardSocket)[HEARD] = true;
  (socket as HeardSocket)[ANSWERING] = undefined;
}

/**
 * Gives a new connection no server listener hears (`serve()`'s over TLS: its `close` listener
 * is on the TCP socket under it) the slots {@link watchClient} fills, empty: a property added
 * to a `Socket` changes its V8 hidden class, so a connection that gets them at its first
 * watched request would no longer share the shape of the others, and Node's socket code would
 * see both. Set in the order `watchClient` sets them, and as {@link hearsClose} does.
 */
export function watchable(socket: Socket): void {
  (socket as HeardSocket)[HEARD] = false;
  (socket as HeardSocket)[ANSWERING] = undefined;
}

/**
 * Called at the `close` of a connection that {@link hearsClose}: tells the layers watching the
 * request whose app is still working there that the client is gone.
 */
export function connectionClosed(socket: Socket): void {
  const environ = (socket as HeardSocket)[ANSWERING];
  if (environ === undefined) return;
  (socket as HeardSocket)[ANSWERING] = undefined;
  tellClientGone(environ);
}

/** The listener of the connections no server listener {@link hearsClose} for: one per connection, shared by all. */
function onConnectionClose(this: Socket): void {
  connectionClosed(this);
}

/** Tells the layers watching the request of the HTTP/2 stream that closed (`this`). */
function onStreamClose(this: object): void {
  tellClientGone(environOfExchange(this));
}

/**
 * Starts noticing the client of `environ` leave while its app works (a layer watches it): on
 * HTTP/1, the connection's `close` (a listener of the server's, else one per connection, shared
 * by its requests); on HTTP/2, the stream's (`streamsHeard`: `serve()` hears every stream's
 * anyway; else a listener on this one). Told at once when it is gone already.
 *
 * @returns the connection to {@link unwatchClient} once the app answered, on HTTP/1.
 */
export function watchClient(req: IncomingMessage, res: ServerResponse, environ: Environ, http2: boolean, streamsHeard: boolean): Socket | undefined {
  if (http2) {
    if (streamsHeard) return undefined;
    const stream = http2Stream(res);
    if (stream === undefined || stream.closed) tellClientGone(environ);
    else stream.once('close', onStreamClose);
    return undefined;
  }
  // `req.socket` is null once an app has destroyed the request stream.
  const socket = req.socket as HeardSocket | null;
  if (socket === null || socket.closed) {
    tellClientGone(environ);
    return undefined;
  }
  if (socket[HEARD] !== true) {
    // Both slots, in that order: the shape `hearsClose` and `watchable` give at the start.
    socket[HEARD] = true;
    socket.once('close', onConnectionClose);
  }
  socket[ANSWERING] = environ;
  return socket;
}

/** Ends {@link watchClient}'s watch of `environ` on `socket`: the app answered. */
export function unwatchClient(socket: Socket, environ: Environ): void {
  if ((socket as HeardSocket)[ANSWERING] === environ) (socket as HeardSocket)[ANSWERING] = undefined;
}
