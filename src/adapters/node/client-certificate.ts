/**
 * The client certificate of a TLS connection as environ keys, named and written as Apache
 * mod_ssl names them (`SSL_CLIENT_VERIFY`, `SSL_CLIENT_S_DN`…, which mod_wsgi passes to WSGI
 * apps, and nginx as `$ssl_client_verify`, `$ssl_client_s_dn`…): read once per connection.
 *
 * @module
 */
import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { Environ } from '../../gateway/types.ts';
import { isHttp2 } from './http2-compat.ts';

/** The keys of one connection's client certificate, made once and shared by its requests. */
interface ClientCertificateKeys {
  readonly verify: string;
  /** The rest: absent when the client sent no certificate. */
  readonly certificate:
    | {
        readonly subject: string;
        readonly issuer: string;
        readonly serial: string;
        readonly validFrom: string;
        readonly validTo: string;
        readonly pem: string;
      }
    | undefined;
}

/**
 * The keys of each connection (an HTTP/1 TLS socket, an HTTP/2 session: the streams of one
 * session see a new socket proxy each), kept while it lives.
 */
const byConnection = new WeakMap<object, ClientCertificateKeys>();

/**
 * Sets on `environ` the keys of the client certificate of `req`'s TLS connection (nothing on a
 * connection without TLS), as mod_ssl sets them with `SSLOptions +StdEnvVars +ExportCertData`:
 *
 * - `SSL_CLIENT_VERIFY`: `SUCCESS` (a certificate that the server's `ca` verifies), `NONE`
 *   (the client sent none), or `FAILED:<reason>` (it sent one that did not verify; the reason is
 *   OpenSSL's code as Node's `authorizationError` gives it: `DEPTH_ZERO_SELF_SIGNED_CERT`,
 *   `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `CERT_HAS_EXPIRED`). Under `rejectUnauthorized: true`
 *   (Node's default) a connection reaches the app with `SUCCESS` only.
 * - With a certificate, whether verified or not: `SSL_CLIENT_S_DN` and `SSL_CLIENT_I_DN`, its
 *   subject and issuer as RFC 4514 strings (the most specific first, `CN=alice,O=Example\, Inc.`,
 *   as mod_ssl 2.4 and nginx ≥ 1.11.6 write them), `SSL_CLIENT_M_SERIAL` (the serial number in
 *   upper-case hexadecimal), `SSL_CLIENT_V_START` and `SSL_CLIENT_V_END` (its validity, as
 *   OpenSSL prints it: `Dec  6 18:46:21 2026 GMT`), and `SSL_CLIENT_CERT` (the certificate,
 *   PEM, as Werkzeug's development server also sets it).
 *
 * The certificate is read once per connection (`getPeerX509Certificate`) and its keys kept
 * for its next requests; a request costs a lookup and these assignments. Only called when the
 * server asks clients for a certificate (`requestCert`): see `clientCertificate`.
 */
export function setClientCertificateKeys(environ: Environ, req: IncomingMessage): void {
  const connection = isHttp2(req) ? (req as unknown as Http2ServerRequest).stream.session : req.socket;
  if (connection == null) return;
  let keys = byConnection.get(connection);
  if (keys === undefined) {
    const socket = req.socket as TLSSocket;
    if (socket.encrypted !== true) return;
    keys = readKeys(socket);
    byConnection.set(connection, keys);
  }
  environ.SSL_CLIENT_VERIFY = keys.verify;
  const certificate = keys.certificate;
  if (certificate === undefined) return;
  environ.SSL_CLIENT_S_DN = certificate.subject;
  environ.SSL_CLIENT_I_DN = certificate.issuer;
  environ.SSL_CLIENT_M_SERIAL = certificate.serial;
  environ.SSL_CLIENT_V_START = certificate.validFrom;
  environ.SSL_CLIENT_V_END = certificate.validTo;
  environ.SSL_CLIENT_CERT = certificate.pem;
}

/** The keys of `socket`'s peer certificate. */
function readKeys(socket: TLSSocket): ClientCertificateKeys {
  const certificate = socket.getPeerX509Certificate();
  if (certificate === undefined) return { verify: 'NONE', certificate: undefined };
  return {
    verify: socket.authorized ? 'SUCCESS' : `FAILED:${String(socket.authorizationError ?? 'unverified')}`,
    certificate: {
      subject: distinguishedName(certificate.subject),
      issuer: distinguishedName(certificate.issuer),
      serial: certificate.serialNumber,
      validFrom: certificate.validFrom,
      validTo: certificate.validTo,
      pem: certificate.toString(),
    },
  };
}

/**
 * A name as Node writes it (`X509Certificate.subject`: one RDN a line, the most general first,
 * values escaped as RFC 2253 says, a multi-valued RDN's parts joined by ` + `) as an RFC 4514
 * string: the RDNs the other way round, joined by `,`, a multi-valued one's parts by `+` (also
 * reversed, as OpenSSL's `XN_FLAG_RFC2253` prints them). An escaped `+` (`\+`) is in a value.
 */
function distinguishedName(name: X509Certificate['subject']): string {
  if (name === '') return '';
  return name
    .split('\n')
    .reverse()
    .map((rdn) => rdn.split(' + ').reverse().join('+'))
    .join(',');
}
