/**
 * The client's address of each connection, read as the connection is accepted: the source of
 * `REMOTE_ADDR` and `REMOTE_PORT` for every request on it.
 *
 * @module
 */
import type { Server as NetServer, Socket } from 'node:net';

/**
 * Reads the peer address of each connection `server` accepts in cleartext (HTTP/1.1, h2c) as
 * it is accepted, so that Node keeps it on the socket. Node asks the kernel (`getpeername`) the
 * first time `socket.remoteAddress` is read and keeps only an answer: once the client has
 * reset the connection there is none (`ENOTCONN`). A client that sent a request and reset its
 * connection at once would otherwise reach the app with no `REMOTE_ADDR`, passing any limit or
 * block list keyed on the address (only a reset before the event loop got to the accept, on
 * a server too busy for it, still leaves it unknown). A Unix socket has no peer address.
 *
 * Not behind TLS: requests get the TLS socket, which asks the kernel itself and keeps its own
 * answer, and which a listener gets only once the handshake is over (`secureConnection`), by
 * when a client that sends its request with its last handshake message and resets has reset.
 */
export function keepPeerAddress(server: NetServer): void {
  server.on('connection', (socket: Socket) => {
    void socket.remoteAddress;
  });
}
