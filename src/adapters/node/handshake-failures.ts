/**
 * TLS handshakes that failed on the server's side: an error from the app's own TLS callbacks
 * (`SNICallback` looking up a certificate, `ALPNCallback`, `pskCallback`), which every client
 * would meet, logged where the failures of clients (a scanner, an old TLS version, a
 * certificate the client refused, a timeout) are not.
 *
 * @module
 */
import type { Server as TlsServer } from 'node:tls';
import type { LogStream } from '../../gateway/types.ts';
import { escapeUnsafeText, stderrLog } from '../../gateway/log.ts';
import { NOTICE_INTERVAL, throttledNotice } from './throttled-notice.ts';
import { isTlsErrorCode } from './tls-failure.ts';

/**
 * The codes of a client's failure in a handshake: the TLS layer's ({@link isTlsErrorCode})
 * and the connection's own end (a reset, a broken pipe).
 */
function isClientFailure(code: string | undefined): boolean {
  return isTlsErrorCode(code) || (code !== undefined && CONNECTION_ENDS.has(code));
}

const CONNECTION_ENDS: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

/**
 * Writes to `log` (standard error by default) the handshakes of `server` that failed for a
 * reason other than the client's ({@link isClientFailure}): `tsgi: a TLS handshake failed on
 * the server's side (tls options' SNICallback, ALPNCallback or pskCallback): <the error's first
 * line>` at once, then at most every 10 s with the count, as the connection limit's notice; the
 * line's control characters are escaped as `formatError` escapes them (`escapeUnsafeText`). The
 * connection is closed as any failed handshake is (the `clientError` listener); nothing is
 * reported to `onRefused`. One listener on the server, none per connection.
 */
export function logServerHandshakeFailures(server: TlsServer, log: LogStream = stderrLog): void {
  const notice = throttledNotice(
    log,
    (why) => `a TLS handshake failed on the server's side (tls options' SNICallback, ALPNCallback or pskCallback): ${why}`,
    (count) => `${count} more TLS handshake${count === 1 ? '' : 's'} failed on the server's side in the last ${NOTICE_INTERVAL / 1000} s`,
  );
  server.on('tlsClientError', (error: unknown) => {
    const failure = serverSideFailure(error);
    if (failure !== undefined) notice(failure);
  });
}

/**
 * The first line of `error`'s message, its unsafe characters escaped (the message of an
 * `SNICallback`'s error may quote the server name the client sent, any byte but NUL), when it
 * is no client failure ({@link isClientFailure}); else `undefined`. Never throws (a callback
 * that failed with a string, or with an object whose `code` or `message` getter throws).
 */
function serverSideFailure(error: unknown): string | undefined {
  try {
    const { code, message } = (typeof error === 'object' && error !== null ? error : { message: error }) as { code?: unknown; message?: unknown };
    if (isClientFailure(typeof code === 'string' ? code : undefined)) return undefined;
    return escapeUnsafeText(String(message).split('\n', 1)[0] ?? '');
  } catch {
    return '[unprintable error]';
  }
}
