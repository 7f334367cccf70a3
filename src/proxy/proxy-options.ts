/**
 * The options of `proxy` (src/proxy/proxy.ts), and their checking when a proxy is built.
 *
 * @module
 */
import type { TcpSocketConnectOpts } from 'node:net';
import { type ConnectionOptions, checkServerIdentity, createSecureContext } from 'node:tls';
import type { Dispatcher } from './undici.ts';
import { type HeaderEdits, checkEdits, checkRequestEdits } from './header-edits.ts';
import { type NestedOptions, type OptionNames, booleanOption, checkOptions } from '../gateway/option-names.ts';
import { MAX_DELAY } from '../gateway/max-delay.ts';

/** Options of `proxy`. Times are in milliseconds. */
export interface ProxyOptions {
  /**
   * Send the client's `Host` header upstream (Apache's `ProxyPreserveHost On`); default false:
   * the upstream's own host and port, as in its URL.
   */
  preserveHost?: boolean | undefined;
  /**
   * Leave the mount prefix (`SCRIPT_NAME`) out of the upstream path; default true, as
   * WSGIProxy2's `strip_script_name`: mounted at `/legacy`, `/legacy/a` is asked for as `/a`
   * (below the upstream URL's own path, if it has one). With false it is asked for as
   * `/legacy/a`: the upstream then writes the public paths itself (`Location: /legacy/b`),
   * which `rewriteLocation` and `rewriteHtml`'s `upstream` map without putting the prefix in
   * front again (its base path stands for the public root, not for `/legacy`).
   */
  stripScriptName?: boolean | undefined;
  /**
   * Add `X-Forwarded-For` (appended), `X-Forwarded-Proto`, `X-Forwarded-Host` and
   * `X-Forwarded-Prefix`; default true. Values the client sent for the last three are
   * replaced, never passed on. With false none of the four is sent, the client's own
   * included: an upstream that trusts this proxy would otherwise trust the client's claims
   * (http-proxy's `xfwd: false` passes them on). The client's `Forwarded`, any other
   * `X-Forwarded-*` (`-Port`, `-Ssl`, `-Scheme`…), `Front-End-Https`, `X-Url-Scheme`, and the
   * fields that name a client's address (`X-Real-IP`,
   * `CF-Connecting-IP`, `True-Client-IP`, `X-Client-IP`, `Client-IP`, `Fastly-Client-IP`… see
   * docs/proxy.md), which carry the same claims, and the URL claims `X-Original-URL` and
   * `X-Rewrite-URL`, are never passed on either way.
   */
  xForwarded?: boolean | undefined;
  /**
   * Changes to the request fields sent upstream, applied last (see `HeaderEdits`). A field the
   * HTTP client writes itself (`Transfer-Encoding`, `Keep-Alive`, `Upgrade`, `Expect`, a
   * `Content-Length` that is not digits, a `Connection` that is no list of names, a second
   * `Host` or `Content-Length`: `add` of either) is a `TypeError`: from `proxy` for `set` and
   * `add`, thrown by the request (a 500) for a function. A function must be synchronous: one
   * that answers a promise (`async`) is a `TypeError` thrown by the request (a 500), nothing
   * sent upstream without its edits.
   */
  requestHeaders?: HeaderEdits | undefined;
  /**
   * Changes to the response fields sent to the client, applied last (see `HeaderEdits`). A
   * function that throws, answers a promise (an `async` one: a `TypeError`), or leaves a field
   * that cannot be sent (a value with `€` or a line break), fails the request with that error
   * (a logged 500): it is this gateway's, not the upstream's.
   */
  responseHeaders?: HeaderEdits | undefined;
  /**
   * Time to open a connection to the upstream, ms (for `https:`, its TLS handshake included,
   * as nginx's `proxy_connect_timeout`); default 10 000, at most 2147483647 (about 24.8 days,
   * `setTimeout`'s limit), as for the other two. Past it: 504, to the millisecond (a Node
   * timer, not undici's, which ticks every 499 ms). Not read with `dispatcher`.
   */
  connectTimeout?: number | undefined;
  /**
   * Time the upstream may take to send its response head, ms, counted from when the request
   * starts going out; while the request body streams, only the time spent waiting on the
   * upstream counts (each chunk sent restarts it, a slow client stops it); default 60 000, at
   * most 2147483647 (a longer timer would run out after 1 ms: every request a 504). Past it: 504.
   * A request that waits for a connection of the default pool (all {@link connections} busy,
   * or a new one opening) waits within it too, and starts it afresh once it goes out.
   */
  headersTimeout?: number | undefined;
  /**
   * Longest pause between two chunks of the upstream's body, ms, not counting the time the
   * proxy waits for a slow client; default 60 000, at most 2147483647 (there is no "off": a
   * stream's heartbeats keep it alive). Past it: 504 if nothing of the body came yet, else the
   * client's connection is cut (the head is already sent).
   */
  bodyTimeout?: number | undefined;
  /**
   * Most connections the default pool opens to the upstream at once; default 256, as many as
   * an nginx worker proxies at once with its default `worker_connections 512` (a client's and
   * an upstream's each) and as Node's `http.Agent` keeps idle (`maxFreeSockets`). A request
   * past it waits for a free connection, and that wait counts in `headersTimeout` (past it:
   * 504), so a burst, or an upstream that hangs, neither opens a connection per request
   * (undici's own default: unlimited, until the upstream or this process runs out of them)
   * nor holds clients for ever. Each streamed answer (an event stream) holds one for its
   * whole life: raise it for a gateway of many long streams. A positive whole number, or
   * `Infinity` for no limit; not with `dispatcher` (give yours its own).
   *
   * @throws TypeError (from `proxy`) for another value, or with `dispatcher`.
   */
  connections?: number | undefined;
  /**
   * The undici dispatcher to send requests through (a `Pool`, an `Agent` with your TLS
   * options, a `MockAgent` in tests). Default: a `Pool` of keep-alive connections to the
   * upstream's origin, made for this app and closed by its `close()`. `connectTimeout` and
   * `connections` apply to the default pool only, and so does the reading on past an upload the upstream cut off
   * after answering early (docs/proxy.md, an answer before the upload is done): through your
   * own dispatcher such an answer may be a 502. So does seeing the reset that ends an answer
   * without length (HTTP/1.0, or neither Content-Length nor chunked): through your own
   * dispatcher such an answer, cut by its upstream's failure, is passed on as whole.
   */
  dispatcher?: Dispatcher | undefined;
  /**
   * TLS options for an `https:` upstream's connections, given to the default pool (node:tls
   * `connect` options, nginx's `proxy_ssl_*`): `ca` to trust a private certificate authority
   * (PEM; default Node's bundled roots), `cert` and `key` (and `passphrase`) for a client
   * certificate the upstream asks for (mutual TLS), or `pfx` for the same as one PKCS#12 blob
   * (a `.p12`/`.pfx` file's bytes, its key encrypted with `passphrase`), `servername` for SNI and the name checked
   * against the certificate (default the upstream URL's host), `minVersion`, `ciphers`.
   * Certificates and the name on them are always checked: there is no option to turn that
   * off, and only the keys of {@link ProxyTlsOptions} are read: a `rejectUnauthorized` other
   * than `true` or a `checkServerIdentity` other than Node's own in an untyped object is
   * refused, saying so (`true` and Node's function, which other clients' options hold, pass
   * unread), and so is a key Node's `tls.connect` does not take either, such as a misspelled
   * `rejectUnauthorised`; Node's other keys pass, unread. Not with
   * `dispatcher` (give yours its own TLS options).
   *
   * @throws TypeError (from `proxy`) with `dispatcher` too, for an `http:` upstream, for a
   *   `tls` that is not a plain object or holds a key neither listed here nor taken by Node's
   *   `tls.connect` (`proxy: unknown option "tls.serverName": did you mean "servername"?`), for
   *   `rejectUnauthorized: false` or a `checkServerIdentity` of your own (`proxy:
   *   tls.rejectUnauthorized: false is not read: …`), or for
   *   options Node cannot use (a `key` that is not PEM or does not match `cert`, a `pfx` that
   *   is not PKCS#12 or a wrong `passphrase`, an unknown `minVersion`, `ciphers` that name no
   *   cipher): at once, not a 502 for every request.
   */
  tls?: ProxyTlsOptions | undefined;
}

/** Every option of {@link ProxyOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const PROXY_OPTIONS = { preserveHost: true, stripScriptName: true, xForwarded: true, requestHeaders: true, responseHeaders: true, connectTimeout: true, headersTimeout: true, bodyTimeout: true, connections: true, dispatcher: true, tls: true } as const satisfies OptionNames<ProxyOptions>;

/**
 * The TLS settings of {@link ProxyOptions.tls}: these node:tls `connect` options, typed and
 * documented as Node's (`ca`, `cert`, `key`, `pfx`, `passphrase`, `servername`, `minVersion`,
 * `ciphers`); no other key is read. See {@link ProxyOptions.tls} for their defaults.
 */
export type ProxyTlsOptions = Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'servername' | 'minVersion' | 'ciphers'>;

/** The keys of {@link ProxyTlsOptions}: the only ones taken from a `tls` object. */
const TLS_KEYS: ReadonlyArray<keyof ProxyTlsOptions> = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'servername', 'minVersion', 'ciphers'];

/** {@link TLS_KEYS} as `checkOptions` takes them; `tsc` fails when it and {@link ProxyTlsOptions} differ. */
const TLS_OPTIONS = { ca: true, cert: true, key: true, pfx: true, passphrase: true, servername: true, minVersion: true, ciphers: true } as const satisfies OptionNames<ProxyTlsOptions>;

/**
 * The other keys Node's `tls.connect` takes (its `ConnectionOptions` and `net.connect`'s, as
 * the installed `@types/node` lists them; `tsc` fails when the list and the types differ): a
 * `tls` object holding them (spread from another client's options) is not refused, though
 * they are not read (see {@link ProxyOptions.tls}).
 */
const NODE_CONNECT_OPTIONS = {
  allowPartialTrustChain: true, ALPNCallback: true, ALPNProtocols: true, autoSelectFamily: true, autoSelectFamilyAttemptTimeout: true, ca: true,
  cert: true, certificateCompression: true, checkServerIdentity: true, ciphers: true, clientCertEngine: true, crl: true, dhparam: true,
  ecdhCurve: true, enableTrace: true, family: true, hints: true, honorCipherOrder: true, host: true, key: true, localAddress: true,
  localPort: true, lookup: true, maxVersion: true, minDHSize: true, minVersion: true, passphrase: true, path: true, pfx: true, port: true,
  privateKeyEngine: true, privateKeyIdentifier: true, pskCallback: true, rejectUnauthorized: true, requestCert: true, requestOCSP: true,
  secureContext: true, secureOptions: true, secureProtocol: true, servername: true, session: true, sessionIdContext: true,
  sessionTimeout: true, sigalgs: true, SNICallback: true, socket: true, ticketKeys: true, timeout: true,
} as const satisfies OptionNames<ConnectionOptions & TcpSocketConnectOpts>;

/** Where `tls` is, for `checkOptions`. */
const TLS_NESTED: NestedOptions = { option: 'tls', alsoAccepted: NODE_CONNECT_OPTIONS };

/** The options of `proxy`, checked, with their defaults. */
export interface ProxySettings {
  url: URL;
  connectTimeout: number;
  headersTimeout: number;
  bodyTimeout: number;
  /** The default pool's most connections (undici's `connections`): `null` for no limit. */
  connections: number | null;
  preserveHost: boolean;
  xForwarded: boolean;
  stripScriptName: boolean;
  /**
   * The connect options of the default pool's TLS connections: those of `tls` that
   * {@link ProxyTlsOptions} names, nothing else (`checkServerIdentity`, `rejectUnauthorized`…
   * of an untyped object are left out), with `rejectUnauthorized: true`.
   */
  tls: ConnectionOptions;
}

/**
 * Checks the upstream URL and the options.
 *
 * @throws TypeError for an upstream that is not an http(s) URL, has credentials, a query or a
 *   fragment; a timeout that is not a positive number up to 2147483647 ms; a `connections` that
 *   is no positive whole number or `Infinity`, or one given with `dispatcher`; header edits with an invalid name or
 *   value, or request edits that set a field the HTTP client writes itself (`checkRequestEdits`);
 *   `tls` options Node cannot use; a `preserveHost`, `xForwarded` or `stripScriptName` that is
 *   not a boolean; options that are not a plain object or hold an unknown key
 *   (`checkOptions`).
 */
export function proxySettings(upstream: string | URL, options: ProxyOptions): ProxySettings {
  checkOptions('proxy', options, PROXY_OPTIONS);
  checkOptions('proxy', options.tls, TLS_OPTIONS, TLS_NESTED);
  refuseUnreadChecks(options.tls);
  checkEdits(options.requestHeaders, 'requestHeaders');
  checkRequestEdits(options.requestHeaders);
  checkEdits(options.responseHeaders, 'responseHeaders');
  const url = parseUpstream(upstream);
  if (options.tls !== undefined) {
    if (options.dispatcher !== undefined) throw new TypeError('proxy: tls applies to the default pool: give your dispatcher its own TLS options instead');
    if (url.protocol !== 'https:') throw new TypeError(`proxy: tls needs an https: upstream, not ${url.protocol}`);
  }
  return {
    url,
    connectTimeout: timeout(options.connectTimeout, 10_000, 'connectTimeout'),
    headersTimeout: timeout(options.headersTimeout, 60_000, 'headersTimeout'),
    bodyTimeout: timeout(options.bodyTimeout, 60_000, 'bodyTimeout'),
    connections: connectionLimit(options),
    preserveHost: booleanOption('proxy', 'preserveHost', options.preserveHost),
    xForwarded: booleanOption('proxy', 'xForwarded', options.xForwarded, true),
    stripScriptName: booleanOption('proxy', 'stripScriptName', options.stripScriptName, true),
    tls: tlsOptions(options.tls),
  };
}

/**
 * Refuses, with the reason, the two keys of a `tls` object (checked by `checkOptions`) that
 * would change the checks of the upstream's certificate and are not read: a
 * `rejectUnauthorized` other than `true` (the certificate is always checked: the proxy would
 * answer 502s, the cause unsaid) and a `checkServerIdentity` other than Node's own (a pinning
 * function, ignored, would let any certificate of a trusted authority through). What other
 * clients' options hold by default (`true`, `tls.checkServerIdentity`) passes, as the other
 * keys Node takes.
 *
 * @throws TypeError naming the key and what to write instead.
 */
function refuseUnreadChecks(tls: ProxyTlsOptions | undefined): void {
  if (tls === undefined) return;
  const given = tls as { rejectUnauthorized?: unknown; checkServerIdentity?: unknown };
  if (given.rejectUnauthorized !== undefined && given.rejectUnauthorized !== true) {
    throw new TypeError(`proxy: tls.rejectUnauthorized: ${String(given.rejectUnauthorized)} is not read: the upstream's certificate is always checked; for a private or self-signed one, give its certificate authority as tls.ca`);
  }
  if (given.checkServerIdentity !== undefined && given.checkServerIdentity !== checkServerIdentity) {
    throw new TypeError("proxy: tls.checkServerIdentity is not read: the name on the certificate is always checked against tls.servername (default the upstream's host); to pin, trust only its authority with tls.ca");
  }
}

/**
 * The connect options for `tls`: its {@link ProxyTlsOptions} keys only, so that no object
 * (a JavaScript config, one spread from another client's options) turns off the check of the
 * certificate (`rejectUnauthorized`) or of the name on it (`checkServerIdentity`). They are
 * tried once here (`tls.createSecureContext`), as each connection would use them.
 *
 * @throws TypeError for options Node cannot use (a `cert` or `key` that is not PEM, a `key`
 *   that does not match `cert`, a `pfx` that is not PKCS#12, a wrong `passphrase`, an unknown `minVersion`, `ciphers` that
 *   name no cipher, a `servername` that is not a string), which would otherwise fail every
 *   request with a 502.
 */
function tlsOptions(tls: ProxyTlsOptions | undefined): ConnectionOptions {
  const options: ConnectionOptions = { rejectUnauthorized: true };
  if (tls === undefined) return options;
  for (const key of TLS_KEYS) if (tls[key] !== undefined) (options as Record<string, unknown>)[key] = tls[key];
  if (options.servername !== undefined && typeof options.servername !== 'string') {
    throw new TypeError('proxy: tls: servername must be a host name (a string)');
  }
  try {
    createSecureContext(options);
  } catch (error) {
    throw new TypeError(`proxy: tls: ${(error as Error).message}`, { cause: error });
  }
  return options;
}

function parseUpstream(upstream: string | URL): URL {
  let url: URL;
  try {
    url = new URL(String(upstream));
  } catch {
    throw new TypeError(`proxy: the upstream must be an http(s) URL, not ${JSON.stringify(String(upstream))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`proxy: the upstream must be http: or https:, not ${url.protocol}`);
  if (url.username || url.password || url.search || url.hash) {
    throw new TypeError('proxy: the upstream URL must not have credentials, a query or a fragment (use requestHeaders for Authorization)');
  }
  return url;
}

/** Connections the default pool opens at most, unless `connections` says otherwise (see {@link ProxyOptions.connections}). */
const DEFAULT_CONNECTIONS = 256;

/**
 * The default pool's `connections`: {@link DEFAULT_CONNECTIONS}, the option's whole number, or
 * `null` (undici's "unlimited") for `Infinity`.
 *
 * @throws TypeError for a value that is no positive whole number or `Infinity`, or one given with `dispatcher`.
 */
function connectionLimit(options: ProxyOptions): number | null {
  const value = options.connections;
  if (value === undefined) return DEFAULT_CONNECTIONS;
  if (options.dispatcher !== undefined) throw new TypeError('proxy: connections applies to the default pool: give your dispatcher its own limit instead');
  if (value === Infinity) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`proxy: connections must be a positive whole number (or Infinity), not ${String(value)}`);
  }
  return value;
}

function timeout(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  // A longer delay would make Node run the timer after 1 ms: every request a 504.
  if (typeof value !== 'number' || !(value > 0) || value > MAX_DELAY) {
    throw new TypeError(`proxy: ${name} must be a positive number of milliseconds up to ${MAX_DELAY} (about 24.8 days), not ${String(value)}`);
  }
  return value;
}
