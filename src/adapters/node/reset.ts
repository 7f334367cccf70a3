/**
 * Cutting a connection so that its client sees an error, not a clean end.
 *
 * @module
 */
import type { Socket } from 'node:net';

/** A socket as Node keeps it: its handle, and a TLS socket's TCP socket under it. */
interface Layered {
  _handle?: { reset?: unknown } | null;
  _parent?: Socket | null;
}

/**
 * The TCP socket carrying `socket`: itself, or the one under a TLS socket (Node keeps it as
 * `_parent`); `undefined` for a Unix socket (a pipe), where no RST exists.
 */
function tcpUnder(socket: Socket): Socket | undefined {
  for (let layer: Socket | null | undefined = socket; layer; layer = (layer as Layered)._parent) {
    if (typeof (layer as Layered)._handle?.reset === 'function') return layer;
  }
  return undefined;
}

/**
 * Sends on what was written to `socket` and is still held: Node's `res.write()` corks the
 * socket until the next tick, so a cut in the same turn (a body that fails right after a
 * chunk, an empty first chunk's head) would drop the head and the chunks before the failure,
 * where the client must get them and then the cut (spec §7.4: WSGI servers transmit each block
 * they took before the next one is asked for).
 */
export function sendHeld(socket: Socket): void {
  while (socket.writableCorked > 0) socket.uncork();
}

/**
 * Ends `socket` abruptly, with a TCP reset (RST) where there is a TCP connection under it, its
 * own or a TLS socket's, so a client reading a close-delimited body (RFC 9112 §6.3, rule 8)
 * sees `ECONNRESET` instead of a clean end it would take for the whole body. Over a Unix socket
 * (no RST there) it is only destroyed. Never throws: Node's `resetAndDestroy` throws
 * `ERR_INVALID_HANDLE_TYPE` for a socket whose handle is not TCP (TLS, a pipe).
 */
export function resetConnection(socket: Socket): void {
  try {
    tcpUnder(socket)?.resetAndDestroy();
  } catch {
    // Not TCP after all: destroyed below, as over a Unix socket.
  }
  socket.destroy();
}
