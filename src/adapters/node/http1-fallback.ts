/**
 * The HTTP/1 options of an `Http2SecureServer`'s HTTP/1.1 fallback (`allowHTTP1`), which
 * Node 22 leaves unapplied.
 *
 * @module
 */
import http from 'node:http';
import type { Http2SecureServer } from 'node:http2';

/**
 * The options Node's HTTP/1 server keeps as properties of the server and reads for each
 * connection (its parser's size limit and leniency, its timeouts, its checks of the head).
 */
const HTTP1_PROPERTIES = [
  'maxHeaderSize',
  'insecureHTTPParser',
  'requestTimeout',
  'headersTimeout',
  'keepAliveTimeout',
  'keepAliveTimeoutBuffer',
  'connectionsCheckingInterval',
  'requireHostHeader',
  'joinDuplicateHeaders',
  'rejectNonStandardBodyWrites',
] as const;

type Http1Properties = Partial<Record<(typeof HTTP1_PROPERTIES)[number], unknown>>;

/**
 * Gives `server`'s HTTP/1.1 fallback the HTTP/1 options of `options` (the options it was
 * created with: `maxHeaderSize`, `insecureHTTPParser`, `headersTimeout`, `requestTimeout`,
 * `keepAliveTimeout`, `connectionsCheckingInterval`, `requireHostHeader`,
 * `joinDuplicateHeaders`, `rejectNonStandardBodyWrites`; those of `options.http1Options` win),
 * as Node 24 does itself: Node 22's `http2.createSecureServer({ allowHTTP1: true })` drops them,
 * so an HTTP/1.1 request over it had a 16 KiB head, a 60 s `headersTimeout` checked every 30 s
 * and no keep-alive timeout, whatever was asked. Node's own `http.Server` constructor reads
 * them (its defaults, its checks), and what it kept is copied onto `server`; nothing is done
 * when Node stored them already (it then always has a `keepAliveTimeout`). Call it before the
 * server listens (`connectionsCheckingInterval` is read then).
 *
 * @throws what `http.createServer` throws for the same options: `RangeError`
 *   (`ERR_OUT_OF_RANGE`: a `headersTimeout` past `requestTimeout`, a negative size), `TypeError`
 *   (`ERR_INVALID_ARG_TYPE`: a value of the wrong type).
 */
export function applyHttp1Options(server: Http2SecureServer, options: object): void {
  const target = server as unknown as Http1Properties;
  if (target.keepAliveTimeout !== undefined) return;
  const given = { ...options, ...(options as { http1Options?: object }).http1Options } as Http1Properties;
  const picked: Http1Properties = {};
  for (const key of HTTP1_PROPERTIES) if (given[key] !== undefined) picked[key] = given[key];
  const reference = new http.Server(picked as http.ServerOptions) as unknown as Http1Properties;
  for (const key of HTTP1_PROPERTIES) if (reference[key] !== undefined) target[key] = reference[key];
}
