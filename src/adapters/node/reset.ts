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
