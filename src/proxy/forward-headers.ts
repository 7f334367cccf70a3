/**
 * The header fields a proxy forwards each way (RFC 9110 §7.6): hop-by-hop fields, and those
 * the `Connection` field names, stay behind; `X-Forwarded-*` and `Via` say where the message
 * came through.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { HOP_BY_HOP, isRequiredUpgrade } from '../gateway/fields.ts';
import { hostOf } from '../http/host.ts';
import { quotedScriptName } from '../http/raw-path.ts';

/**
 * The fields that carry a client's address, which upstreams read as the client's, often before
 * `X-Forwarded-For`: nginx's `realip` module as usually set up (`X-Real-IP`), chi's `RealIP`
 * (`True-Client-IP`, `X-Real-IP`), gin, echo, Rails' `ActionDispatch::RemoteIp` and the usual
 * PHP `HTTP_CLIENT_IP` check (`Client-IP`), and the npm `request-ip` package (`X-Client-IP`,
 * `CF-Connecting-IP`, `Fastly-Client-IP`, `True-Client-IP`, `X-Real-IP`, `X-Cluster-Client-IP`,
 * `X-Forwarded`, `Forwarded-For`, `X-AppEngine-User-IP`, `CF-Pseudo-IPv4`); besides Cloudflare's
 * `CF-Connecting-IPv6` and ingress-nginx's `X-Original-Forwarded-For`. A client sends one to
 * choose the address an allow-list, a rate limit or a log sees: the proxy never forwards the
 * client's. Lower-case.
 */
const CLIENT_ADDRESS_FIELDS: ReadonlySet<string> = new Set([
  'x-real-ip',
  'x-client-ip',
  'client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'cf-connecting-ipv6',
  'cf-pseudo-ipv4',
  'fastly-client-ip',
  'x-cluster-client-ip',
  'x-forwarded',
  'forwarded-for',
  'x-original-forwarded-for',
  'x-appengine-user-ip',
]);

/**
 * The fields a front proxy (IIS's URL Rewrite and ARR, ISAPI_Rewrite) writes with the URL the
 * client asked for, which some upstreams route by instead of the request line: Symfony before
 * 3.4.14 (2.7.49, 4.1.3) and Zend Framework took them for the path (CVE-2018-14773), so a
 * client's `X-Original-URL: /admin` on a request for `/public` reached the upstream's `/admin`
 * past every guard above the proxy, which read `PATH_INFO`. Lower-case.
 */
const URL_CLAIM_FIELDS: ReadonlySet<string> = new Set(['x-original-url', 'x-rewrite-url']);

/**
 * The request fields the proxy never forwards as received besides the hop-by-hop ones: those
 * it writes itself (`Host`, `Via`; every `X-Forwarded-*` goes by {@link FORWARDED_PREFIX}),
 * and the client's `Forwarded` (RFC 7239), which an upstream that trusts this proxy would read
 * as the proxy's word on the host, port, scheme and client (Spring's `ForwardedHeaderFilter`
 * prefers it to `X-Forwarded-Host`; `proxyFix` reads it with `forwarded`), for the same reason
 * its {@link CLIENT_ADDRESS_FIELDS}, the scheme claims `Front-End-Https` (IIS, Microsoft's
 * proxies) and `X-Url-Scheme` (Rack), the URL claims {@link URL_CLAIM_FIELDS}, and `Proxy`,
 * which a CGI upstream would take for its outgoing proxy (httpoxy; nginx's published
 * mitigation is `proxy_set_header Proxy "";`).
 */
const NOT_FORWARDED = new Set([
  ...HOP_BY_HOP,
  // httpoxy (CVE-2016-5385): a CGI or FastCGI upstream makes it `HTTP_PROXY`, which HTTP
  // clients take for their outgoing proxy; no HTTP field of that name means anything else.
  'proxy',
  'host',
  'expect',
  'forwarded',
  'via',
  'front-end-https',
  'x-url-scheme',
  ...CLIENT_ADDRESS_FIELDS,
  ...URL_CLAIM_FIELDS,
]);

/**
 * The prefix of the fields a proxy writes about the request it received: a client's own
 * (`X-Forwarded-Ssl: on` and `X-Forwarded-Scheme: https`, which Rack reads as https before
 * `X-Forwarded-Proto`; Traefik's `X-Forwarded-Server`, `-Uri`, `-Tls-Client-Cert`;
 * oauth2-proxy's `X-Forwarded-User`, `-Email`) are never forwarded. Traefik drops its own list
 * of them from an untrusted client; this drops the whole prefix, as no list can know every
 * field an upstream trusts.
 */
const FORWARDED_PREFIX = 'x-forwarded-';

/** The field names listed in a `Connection` value, lower-cased (RFC 9110 §7.6.1). */
export function connectionOptions(value: string | undefined): Set<string> | undefined {
  if (!value) return undefined;
  const names = new Set<string>();
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase();
    if (name) names.add(name);
  }
  return names;
}

/**
 * The upstream's answer fields meant for this gateway alone, besides the hop-by-hop
 * `Proxy-Authenticate`: `Proxy-Authentication-Info`, which answers the gateway's own proxy
 * credentials and applies to the next client on the chain (RFC 9110 §11.7.3). Not in
 * `HOP_BY_HOP`, which the server also applies to an app's answer: an app that is a proxy
 * sends its own to its clients.
 */
const GATEWAY_ONLY_ANSWER_FIELDS: ReadonlySet<string> = new Set(['proxy-authentication-info']);

/** `HTTP_ACCEPT_LANGUAGE` → `accept-language`. */
function fieldName(key: string): string {
  return key.slice(5).toLowerCase().replaceAll('_', '-');
}

/** What {@link forwardRequestHeaders} needs to know besides the environ. */
export interface ForwardSettings {
  /** Send the client's `Host` instead of the upstream's. */
  preserveHost: boolean;
  /** Add `X-Forwarded-For`, `-Proto`, `-Host` and `-Prefix`. */
  xForwarded: boolean;
  /** True when the mount prefix is stripped (it is then sent as `X-Forwarded-Prefix`). */
  stripScriptName: boolean;
}

/**
 * The request fields to send upstream, as `[name, value]` pairs with lower-case names:
 * every `HTTP_*` key of the environ and `CONTENT_TYPE`/`CONTENT_LENGTH`, less the hop-by-hop
 * fields, those named in `Connection`, `Expect` (the server answers `100-continue` itself when
 * the body is first read), `Host` (unless `preserveHost`: the HTTP client sends the
 * upstream's), and the client's `Forwarded`, every `X-Forwarded-*` (`-Port`, `-Ssl`,
 * `-Scheme`…), `Front-End-Https`, `X-Url-Scheme`, {@link CLIENT_ADDRESS_FIELDS} (`X-Real-IP`,
 * `CF-Connecting-IP`, `True-Client-IP`…) and {@link URL_CLAIM_FIELDS} (`X-Original-URL`,
 * `X-Rewrite-URL`): claims about the host, port, scheme, client and URL that the upstream
 * would take for this proxy's.
 * Added: `X-Forwarded-For` (the client's address appended to any value received,
 * never replacing it), `X-Forwarded-Proto` (`tsgi.url_scheme`), `X-Forwarded-Host` (the
 * client's `Host`), `X-Forwarded-Prefix` (the quoted `SCRIPT_NAME`, an escaped slash in it as
 * the client spelt it: `quotedScriptName`; when it is stripped and not empty), and `Via` (RFC 9110 §7.6.3: `1.1 tsgi` appended to any value received). A received
 * `X-Forwarded-For` or `Via` that `Connection` names is not appended to: it is dropped.
 */
export function forwardRequestHeaders(environ: Environ, settings: ForwardSettings): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const dropped = connectionOptions(environ.HTTP_CONNECTION as string | undefined);
  for (const key in environ) {
    if (key.charCodeAt(0) !== 72 /* H */ || !key.startsWith('HTTP_')) continue;
    const value = environ[key];
    if (typeof value !== 'string') continue;
    const name = fieldName(key);
    if (NOT_FORWARDED.has(name) || name.startsWith(FORWARDED_PREFIX) || dropped?.has(name)) continue;
    pairs.push([name, value]);
  }
  if (environ.CONTENT_TYPE !== undefined) pairs.push(['content-type', environ.CONTENT_TYPE]);
  if (environ.CONTENT_LENGTH !== undefined) pairs.push(['content-length', environ.CONTENT_LENGTH]);
  const host = environ.HTTP_HOST as string | undefined;
  if (settings.preserveHost && host) pairs.push(['host', host]);
  if (settings.xForwarded) {
    const previous = received(environ, 'HTTP_X_FORWARDED_FOR', dropped);
    const client = environ.REMOTE_ADDR;
    const forwardedFor = client ? (previous ? `${previous}, ${client}` : client) : previous;
    if (forwardedFor) pairs.push(['x-forwarded-for', forwardedFor]);
    pairs.push(['x-forwarded-proto', environ['tsgi.url_scheme']]);
    pairs.push(['x-forwarded-host', hostOf(environ)]);
    if (settings.stripScriptName && environ.SCRIPT_NAME) pairs.push(['x-forwarded-prefix', quotedScriptName(environ)]);
  }
  pairs.push(['via', appendVia(received(environ, 'HTTP_VIA', dropped), environ.SERVER_PROTOCOL)]);
  return pairs;
}

/**
 * The value received in the environ's `HTTP_*` `key`, unless the client's `Connection` named
 * the field (`dropped`): then it was meant for this hop alone, and is not appended to.
 */
function received(environ: Environ, key: string, dropped: Set<string> | undefined): string | undefined {
  return dropped?.has(fieldName(key)) ? undefined : (environ[key] as string | undefined);
}

/** `Via` with this hop added: `1.1 tsgi`, after any value received (RFC 9110 §7.6.3). */
export function appendVia(previous: string | undefined, protocol: string | undefined): string {
  const version = protocol?.startsWith('HTTP/') ? protocol.slice(5) : '1.1';
  const hop = `${version} tsgi`;
  return previous ? `${previous}, ${hop}` : hop;
}

/**
 * The upstream's response fields to pass to the client, as `[name, value]` pairs: every field
 * of `headers` (as the HTTP client parsed them: lower-case names, repeated fields as arrays)
 * less the hop-by-hop ones, those named in its `Connection` and `Proxy-Authentication-Info`
 * (see {@link GATEWAY_ONLY_ANSWER_FIELDS}), and a 204's `Content-Length`
 * (RFC 9110 §8.6 forbids it; nginx drops it too), with `Via` appended. A 426's
 * `Upgrade` is kept (`code`): the answer must carry it (RFC 9110 §15.5.22), and the server
 * sends it as it sends an app's, on HTTP/1.1 with `Connection: upgrade`.
 */
export function forwardResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
  protocol: string,
  code: number,
): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const connection = headers.connection;
  const dropped = connectionOptions(Array.isArray(connection) ? connection.join(',') : connection);
  let via: string | undefined;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || GATEWAY_ONLY_ANSWER_FIELDS.has(name) || ((HOP_BY_HOP.has(name) || dropped?.has(name)) && !isRequiredUpgrade(name, code))) continue;
    // RFC 9110 §8.6: a 204 carries no Content-Length (Django's sets `0`): the gateway's rule too.
    if (code === 204 && name === 'content-length') continue;
    if (name === 'via') {
      via = Array.isArray(value) ? value.join(', ') : value;
      continue;
    }
    if (typeof value === 'string') pairs.push([name, value]);
    else for (const item of value) pairs.push([name, item]);
  }
  pairs.push(['via', appendVia(via, protocol)]);
  return pairs;
}
