/**
 * The client's address of each connection, read as the connection is accepted: the source of
 * `REMOTE_ADDR` and `REMOTE_PORT` for every request on it.
 *
 * @module
 */
import type { Server as NetServer, Socket } from 'node:net';

/** The Node internals read here, each optional: a change in Node only loses the kept address. */
interface PeerInternals {
  /** What `remoteAddress` and `remotePort` answer once the kernel told it (`getpeername`). */
  _peername?: object | undefined;
  /** On a server's TLS socket, the TCP socket it reads from. */
  _parent?: PeerInternals | null | undefined;
}

/**
 * Reads the peer address of each connection `server` accepts as it is accepted, so that Node
 * keeps it on the socket. Node asks the kernel (`getpeername`) the first time
 * `socket.remoteAddress` is read and keeps only an answer: once the client has reset the
 * connection there is none (`ENOTCONN`). A client that sent a request and reset its
 * connection at once would otherwise reach the app with no `REMOTE_ADDR`, passing any limit or
 * block list keyed on the address (only a reset before the event loop got to the accept, on
 * a server too busy for it, still leaves it unknown). A Unix socket has no peer address.
 *
 * Behind TLS (`tls`: a `tls.Server`, whose `connection` is the TCP socket), requests get the
 * TLS socket, which asks the kernel itself, through the TCP socket's handle, and only once
 * read: by then (a client that sends its request with its last handshake message and resets)
 * there may be no answer. The TLS socket is given the address its TCP socket kept at the
 * accept when its handshake is over, before Node's HTTP server takes it.
 */
export function keepPeerAddress(server: NetServer, tls = false): void {
  server.on('connection', readPeer);
  if (tls) server.prependListener('secureConnection', inheritPeer);
}

/** The `connection` listener of {@link keepPeerAddress}: Node keeps what the kernel answers. */
function readPeer(socket: Socket): void {
  void socket.remoteAddress;
}

/** The `secureConnection` listener of {@link keepPeerAddress}: the TLS socket takes its TCP socket's address. */
function inheritPeer(socket: Socket): void {
  const tls = socket as unknown as PeerInternals;
  const kept = tls._parent?._peername;
  if (tls._peername === undefined && kept !== undefined) tls._peername = kept;
}
