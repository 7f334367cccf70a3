/**
 * The names of the options `serve` hands to Node whole: its `tls` (Node's `tls.createServer`
 * options) and its `server` (`http.createServer`'s, `https`'s, `http2.createServer`'s and
 * `createSecureServer`'s), as the installed `@types/node` types them. `tsc` fails when a list
 * and the types differ, so an upgrade of `@types/node` brings its new names here.
 *
 * @module
 */
import type http from 'node:http';
import type https from 'node:https';
import type http2 from 'node:http2';
import type { TlsOptions } from 'node:tls';
import type { NestedOptions, OptionNames } from '../../gateway/option-names.ts';

/** Every key of Node's `TlsOptions` (`tls.createServer`), the certificate's first. */
export const NODE_TLS_SERVER_OPTIONS = {
  cert: true, key: true, ca: true, pfx: true, passphrase: true, requestCert: true, rejectUnauthorized: true, minVersion: true, maxVersion: true,
  ciphers: true, ALPNCallback: true, ALPNProtocols: true, SNICallback: true, allowHalfOpen: true, allowPartialTrustChain: true, blockList: true,
  certificateCompression: true, clientCertEngine: true, crl: true, dhparam: true, ecdhCurve: true, enableTrace: true, handshakeTimeout: true,
  highWaterMark: true, honorCipherOrder: true, keepAlive: true, keepAliveInitialDelay: true, noDelay: true, pauseOnConnect: true,
  privateKeyEngine: true, privateKeyIdentifier: true, pskCallback: true, pskIdentityHint: true, requestOCSP: true, secureContext: true,
  secureOptions: true, secureProtocol: true, sessionIdContext: true, sessionTimeout: true, sigalgs: true, ticketKeys: true,
} as const satisfies OptionNames<TlsOptions>;

/** Every key of the options of Node's HTTP, HTTPS and HTTP/2 servers, the HTTP/1 limits first. */
export const NODE_SERVER_OPTIONS = {
  maxHeaderSize: true, requestTimeout: true, headersTimeout: true, keepAliveTimeout: true, keepAliveTimeoutBuffer: true,
  connectionsCheckingInterval: true, insecureHTTPParser: true, joinDuplicateHeaders: true, requireHostHeader: true, uniqueHeaders: true,
  rejectNonStandardBodyWrites: true, optimizeEmptyRequests: true, shouldUpgradeCallback: true, httpValidation: true,
  strictFieldWhitespaceValidation: true, strictSingleValueFields: true, IncomingMessage: true, ServerResponse: true, allowHTTP1: true,
  http1Options: true, Http1IncomingMessage: true, Http1ServerResponse: true, Http2ServerRequest: true, Http2ServerResponse: true,
  maxDeflateDynamicTableSize: true, maxHeaderListPairs: true, maxOriginSetSize: true, maxOutstandingPings: true,
  maxSendHeaderBlockLength: true, maxSessionInvalidFrames: true, maxSessionMemory: true, maxSessionRejectedStreams: true, maxSettings: true,
  origins: true, paddingStrategy: true, peerMaxConcurrentStreams: true, remoteCustomSettings: true, settings: true, streamResetBurst: true,
  streamResetRate: true, unknownProtocolTimeout: true,
  ...NODE_TLS_SERVER_OPTIONS,
} as const satisfies OptionNames<http.ServerOptions & https.ServerOptions & http2.SecureServerOptions & http2.ServerOptions>;

/**
 * `serve`'s `tls`, for `checkOptions`: handed to Node whole, so only a key close to one of
 * Node's names (a misspelling, `requestcert`) is refused; any other may be an option of a
 * Node newer than `@types/node` and goes to it.
 */
export const SERVE_TLS_NESTED: NestedOptions = { option: 'tls', handedToNode: true };

/** `serve`'s `server`, for `checkOptions`, as {@link SERVE_TLS_NESTED}. */
export const SERVE_SERVER_NESTED: NestedOptions = { option: 'server', handedToNode: true };
