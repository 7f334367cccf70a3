/**
 * Telling an error of the TLS layer by its code, for the listeners that hear both it and the
 * HTTP parser's or the socket's (`clientError`, `tlsClientError`).
 *
 * @module
 */

/**
 * True for the code of an error the TLS layer raised: Node's `ERR_TLS_*`
 * (`ERR_TLS_HANDSHAKE_TIMEOUT`) and OpenSSL's `ERR_SSL_*` (`ERR_SSL_HTTP_REQUEST` for plain
 * HTTP on the TLS port, `ERR_SSL_WRONG_VERSION_NUMBER`, an alert the client sent); false for
 * any other code and for none (`undefined`). Never throws.
 */
export function isTlsErrorCode(code: string | undefined): boolean {
  return code !== undefined && (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_'));
}
