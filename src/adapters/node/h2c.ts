/**
 * HTTP/2 over cleartext TCP ("h2c", RFC 9113 §3.3: prior knowledge) next to HTTP/1.1 on the
 * same port. A client that knows the server speaks HTTP/2 (a load balancer, gRPC, `curl
 * --http2-prior-knowledge`) opens with the fixed connection preface
 * `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`; anything else is HTTP/1. The first bytes of each
 * connection decide which server gets it, as Go's `h2c` handler does. (The `Upgrade: h2c`
 * dance of RFC 7540 is not offered: RFC 9113 deprecated it.)
 *
 * @module
 */
import type { Server as HttpServer } from 'node:http';
import type { Http2Server } from 'node:http2';
import type { Socket } from 'node:net';
import { ignoreClientGone } from './client-error.ts';

/** The client connection preface (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Makes the listening HTTP/1 `server` hand every connection that starts with the HTTP/2
 * preface to `h2` (calling `onHttp2(socket)` first), and the others to its own connection
 * handler, unchanged. The bytes read to decide are put back into the socket: the HTTP/1 parser
 * and the HTTP/2 session read them as if nothing had happened. An HTTP/2 connection is closed
 * when the client's side ends, as on `http2.createServer()`.
 */
export function acceptH2c(server: HttpServer, h2: Http2Server, onHttp2: (socket: Socket) => void): void {
  const http1 = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    let head: Buffer = Buffer.alloc(0);
    // Until the socket is handed to the HTTP/1 parser or the HTTP/2 session, which listen for
    // its errors, nothing else does: a client that resets it now (ECONNRESET) is only gone,
    // where an 'error' without a listener would end the process.
    socket.on('error', ignoreClientGone);
    // A client that hangs up now (a load balancer's TCP check, or a FIN inside the preface) is
    // owed nothing: the HTTP/1 server ends such a connection at once, and nothing else here
    // looks at the FIN, so the socket would stay half-open until firstByteTimeout.
    socket.once('end', hungUp);
    const onData = (chunk: Buffer) => {
      head = head.byteLength === 0 ? chunk : Buffer.concat([head, chunk]);
      const n = Math.min(head.byteLength, PREFACE.byteLength);
      const http2 = head.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (http2 && head.byteLength < PREFACE.byteLength) return; // a prefix of the preface so far
      socket.off('data', onData);
      socket.off('error', ignoreClientGone);
      socket.off('end', hungUp);
      socket.pause();
      socket.unshift(head);
      if (http2) {
        // The HTTP/1 server accepts half-open connections (its parser ends them itself); an
        // HTTP/2 session does not look at a FIN, so a client gone mid-upload would leave its
        // streams waiting. As `http2.createServer`'s own sockets do, end our side on the FIN.
        socket.allowHalfOpen = false;
        onHttp2(socket);
        // The session reads what is buffered in the paused socket, then takes it over.
        h2.emit('connection', socket);
      } else {
        for (const listener of http1) listener.call(server, socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
  });
}

/** The 'end' listener of a socket whose protocol is not known yet: the client hung up first. */
function hungUp(this: Socket): void {
  this.destroy();
}
