/**
 * An API gateway in front of internal services, as nginx, Hono's `proxy()` or
 * http-proxy-middleware would front them (docs/proxy.md, "An API gateway"):
 *
 * - each service is `proxy()`ed under its path prefix with `mount` (`/users/42` → the users
 *   service's `/42`), its redirects and cookie paths mapped back under the prefix
 *   (`rewriteLocation`);
 * - a JWT (HS256, checked with WebCrypto: signature, `alg`, `crit`, `exp` required, `nbf`, and
 *   `aud` and `iss` when `audience` and `issuer` are given) lets a request in
 *   through `bearerAuth`; the service gets the user's id in `X-User-Id`, never the token, and
 *   never an `X-User-Id` the client sent;
 * - requests are limited per caller (the token's subject, never a key the client could make up)
 *   by the token-bucket middleware of examples/rate-limit.ts;
 * - `X-Request-Id` (`requestId`) and `traceparent` go to the services as they came;
 * - CORS preflights are answered here, never forwarded;
 * - WebSocket upgrades are tunnelled to the service under the same prefix by {@link websocketTunnel},
 *   the `upgrade` handler for `serve()` (`proxy` itself answers them `501`): the same token
 *   check, the same `X-User-Id`, a `502`/`504` when the service cannot be reached, the
 *   tunnel ended when the server closes or after 60 s idle both ways, at most 256 open.
 *
 * ```sh
 * node --conditions=tsgi-source examples/gateway.ts   # with the services on 127.0.0.1:9001-9003
 * ```
 *
 * @module
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { HTTPBadGateway, HTTPBadRequest, HTTPGatewayTimeout, HTTPNotFound, HTTPServiceUnavailable, HTTPUnauthorized, HTTPUpgradeRequired, type App, Request, compose, serve } from 'tsgi';
import { authUserKey, bearerAuth, cors, errors, mount, requestId } from 'tsgi/middleware';
import type { UpgradeHandler } from 'tsgi/node';
import { proxy, rewriteLocation } from 'tsgi/proxy';
import { rateLimit } from './rate-limit.ts';

/** The claims the gateway reads from a token. */
export interface User {
  /** `sub`: the user's id, passed on as `X-User-Id`. */
  id: string;
}

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** Path prefix → the service's URL: `{ '/users': 'http://127.0.0.1:9001' }`. */
  services: Record<string, string>;
  /**
   * The HS256 key the tokens are signed with (its bytes, or text taken as UTF-8): at least 32
   * bytes, random (`openssl rand -base64 32`), as RFC 7518 §3.2 asks; a shorter one is a
   * `TypeError`, as a guessable key lets anyone sign tokens.
   */
  secret: string | Uint8Array;
  /** Origins whose pages may call the API (CORS). Default none. */
  origins?: string[] | undefined;
  /** Requests a caller (a token's subject) may make at once, then one a second more. Default 100. */
  burst?: number | undefined;
  /**
   * The largest request body forwarded, in bytes, per prefix (nginx's `client_max_body_size` in
   * a `location`): `{ '/files': 50 * 1024 ** 2 }`. A prefix not listed has the server's
   * `maxBodySize` alone.
   */
  maxBodySize?: Record<string, number> | undefined;
  /**
   * The `aud` a token must name (RFC 7519 §4.1.3: its `aud`, a string or an array of them,
   * holds this one), else `401`. Default none: any `aud` is taken. Set it when the secret is
   * shared with other systems, or a token they issue for themselves gets in here.
   */
  audience?: string | undefined;
  /** The `iss` a token must have (RFC 7519 §4.1.1), else `401`. Default none: any `iss` is taken. */
  issuer?: string | undefined;
  /** The WebSocket tunnels' idle timeout and cap ({@link TunnelOptions}). */
  websocket?: TunnelOptions | undefined;
}

/** Options of {@link websocketTunnel}. */
export interface TunnelOptions {
  /**
   * Milliseconds a tunnel may carry no byte either way before both its connections are ended,
   * as nginx's `proxy_read_timeout` ends one: a peer gone without a word (a laptop closed, a
   * NAT that forgot the connection) holds no socket for ever. Default 60 000 (nginx's 60 s);
   * `0` never; at most 2147483647 (`setTimeout`'s limit). A WebSocket app should ping more often than this.
   */
  idleTimeout?: number | undefined;
  /**
   * Tunnels open at once (handshakes sent to a service counted): one more is answered `503` on
   * the raw socket before any service is asked. Each holds two sockets. Default 256, what an
   * nginx worker with its default `worker_connections 512` holds; a positive integer.
   */
  maxTunnels?: number | undefined;
}

/** What {@link verifyJwt} requires of a token's claims besides its times: each only when given. */
export interface JwtExpectations {
  /** A value the token's `aud` (a string or an array of strings) must hold (RFC 7519 §4.1.3). */
  audience?: string | undefined;
  /** The token's `iss` exactly (RFC 7519 §4.1.1). */
  issuer?: string | undefined;
}

/** The gateway: its app, its WebSocket handler for `serve()`, and `close()` for its pools. */
export interface Gateway {
  app: App;
  upgrade: UpgradeHandler;
  close(): Promise<void>;
}

const utf8 = new TextEncoder();

/** An HMAC key of WebCrypto ({@link hmacKey}). */
export type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** base64url (RFC 7515 §2) to bytes, or null when it is not. */
function base64url(text: string): Uint8Array | null {
  if (!/^[\w-]*$/.test(text)) return null;
  return Uint8Array.from(Buffer.from(text, 'base64url'));
}

/** A JSON object from a base64url segment, or null. */
function segment(text: string): Record<string, unknown> | null {
  const bytes = base64url(text);
  if (bytes === null) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Seconds the issuer's clock and the gateway's may differ by, for `exp` and `nbf` (RFC 7519 §4.1.4: "some small leeway"). */
const CLOCK_SKEW = 30;

/**
 * Checks an HS256 JWT (RFC 7519, as RFC 8725 advises) with `key`: the header must say `HS256`
 * (never `none` or another algorithm the client chose) and mark no extension critical (`crit`,
 * RFC 7515 §4.1.11), the signature must match (WebCrypto compares in constant time), `sub` must
 * be a string or number, `exp` must be given (no token lives for ever) and, with `nbf` if
 * given, be a number that holds at `now` (seconds) give or take 30 s of clock skew; with
 * `expected.audience`, `aud` must be it or an array holding it, and with `expected.issuer`,
 * `iss` must be it (RFC 7519 §4.1.1, §4.1.3). Answers the user, or null.
 */
export async function verifyJwt(token: string, key: HmacKey, now = Date.now() / 1000, expected: JwtExpectations = {}): Promise<User | null> {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [header, payload, signature] = parts as [string, string, string];
  const signatureBytes = base64url(signature);
  const head = segment(header);
  if (head?.alg !== 'HS256' || head.crit !== undefined || signatureBytes === null) return null;
  if (!(await crypto.subtle.verify('HMAC', key, signatureBytes, utf8.encode(`${header}.${payload}`)))) return null;
  const claims = segment(payload);
  if (claims === null || (typeof claims.sub !== 'string' && typeof claims.sub !== 'number')) return null;
  if (typeof claims.exp !== 'number' || now >= claims.exp + CLOCK_SKEW) return null;
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || now < claims.nbf - CLOCK_SKEW)) return null;
  if (expected.issuer !== undefined && claims.iss !== expected.issuer) return null;
  if (expected.audience !== undefined && !(Array.isArray(claims.aud) ? claims.aud.includes(expected.audience) : claims.aud === expected.audience)) return null;
  return { id: String(claims.sub) };
}

/** Signs `claims` as an HS256 JWT with `key` (for tests and tools; the gateway only verifies). */
export async function signJwt(claims: Record<string, unknown>, key: HmacKey): Promise<string> {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8.encode(unsigned)));
  return `${unsigned}.${Buffer.from(signature).toString('base64url')}`;
}

/** The fewest bytes of an HS256 key: the hash's size (RFC 7518 §3.2). */
const MIN_KEY_BYTES = 32;

/**
 * The HMAC key of `secret`, for {@link verifyJwt} and {@link signJwt}; not extractable.
 * Rejects with a `TypeError` for a secret shorter than 32 bytes (RFC 7518 §3.2).
 */
export async function hmacKey(secret: string | Uint8Array): Promise<HmacKey> {
  const bytes: unknown = typeof secret === 'string' ? utf8.encode(secret) : secret;
  // Not bytes at all: `process.env.JWT_SECRET!` with the variable unset.
  const length = bytes instanceof Uint8Array ? bytes.length : 0;
  if (length < MIN_KEY_BYTES) throw new TypeError(`an HS256 key needs at least ${MIN_KEY_BYTES} bytes (RFC 7518 §3.2), not ${length}`);
  return await crypto.subtle.importKey('raw', bytes as Uint8Array, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

/** A service's CORS fields, dropped: the gateway's `cors` decides. */
const CORS_FIELDS = [
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-expose-headers',
  'access-control-max-age',
];

/** The user `bearerAuth` let in (see `authUserKey`). */
const userOf = (environ: Record<string, unknown>) => authUserKey.get(environ as never) as User | undefined;

/** Builds the gateway for `options.services`. */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const key = await hmacKey(options.secret);
  const expected: JwtExpectations = { audience: options.audience, issuer: options.issuer };
  const verify = (token: string) => verifyJwt(token, key, undefined, expected);
  const proxies = Object.entries(options.services).map(([prefix, url]) => {
    const upstream = proxy(url, {
      headersTimeout: 10_000,
      // CORS is the gateway's: a service's own fields would win over `cors` (its answer keeps them).
      responseHeaders: { remove: CORS_FIELDS },
      requestHeaders: (headers, environ) => {
        // The service trusts X-User-Id: only this gateway's word reaches it, and no token.
        headers.delete('authorization');
        headers.delete('x-user-id');
        const user = userOf(environ);
        if (user !== undefined) headers.set('x-user-id', user.id);
      },
    });
    const limit = options.maxBodySize?.[prefix];
    const mapped = rewriteLocation(upstream, { upstream: url });
    return [prefix, upstream, limit === undefined ? mapped : limitBody(mapped, limit)] as const;
  });
  const services = mount(proxies.map(([prefix, , app]) => [prefix, app] as const));
  // Counted per caller once the token is checked: a key the client names unchecked (an
  // X-Api-Key header) would give a fresh bucket for each value it makes up.
  const limited = rateLimit(services, { capacity: options.burst ?? 100, key: (req) => userOf(req.environ)?.id ?? null });
  const app = compose(
    requestId,
    (inner) => cors(inner, { origin: options.origins ?? [], exposeHeaders: ['X-Request-Id'], maxAge: 600 }),
    errors,
  )(bearerAuth(limited, { realm: 'api', verify }));
  const upgrade = websocketTunnel(options.services, verify, options.websocket);
  return { app, upgrade, close: async () => void (await Promise.all(proxies.map(([, upstream]) => upstream.close()))) };
}

/**
 * Limits the request bodies `app` reads to `maxBodySize` bytes: a larger declared
 * `Content-Length` is answered `413` before anything is forwarded (and before `100 Continue`),
 * a chunked body `413` once it passes the limit, which aborts the upstream request.
 */
export function limitBody(app: App, maxBodySize: number): App {
  return (environ, startResponse) => {
    environ['tsgi.input'] = new Request(environ).stream({ maxBodySize });
    return app(environ, startResponse);
  };
}

/**
 * Fields of the client's handshake not sent on: hop-by-hop ones (RFC 9110 §7.6.1; `Connection`
 * and `Upgrade` are set anew; those the client's `Connection` names are dropped too), the token, `Proxy` (httpoxy, as `proxy` drops it), and the claims only this gateway may make: who the
 * user is, and where the request came from (every `X-Forwarded-*`, {@link isForwardedClaim}).
 */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'authorization', 'x-user-id']);

/**
 * The fields a service behind a proxy reads as the proxy's word on the client's address, the
 * scheme, host or port, which `proxy()` does not forward from a client either: `Forwarded`
 * (RFC 7239), `Via`, any `X-Forwarded-*` (`-Port`, `-Ssl` too), the scheme claims
 * `Front-End-Https` and `X-Url-Scheme`, the client-address fields of CDNs and frameworks
 * (`X-Real-IP`, `True-Client-IP`, `CF-Connecting-IP`, …), and the URL claims `X-Original-URL`
 * and `X-Rewrite-URL`.
 */
function isForwardedClaim(name: string): boolean {
  return name.startsWith('x-forwarded') || /^(?:forwarded|via|front-end-https|x-url-scheme|x-real-ip|x-client-ip|client-ip|true-client-ip|cf-connecting-ip(?:v6)?|cf-pseudo-ipv4|fastly-client-ip|x-cluster-client-ip|forwarded-for|x-original-forwarded-for|x-appengine-user-ip|x-original-url|x-rewrite-url)$/.test(name);
}

/** Fields of a service's refusal not passed back: hop-by-hop ones, and the framing, written anew. */
const NOT_PASSED_BACK = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length']);

/**
 * An incoming `X-Request-Id` kept, as `requestId` keeps one: 1 to 200 visible ASCII characters
 * but quotes, `\`, `<` and `>` (no space or control character to split a log line).
 */
const REQUEST_ID_SHAPE = /^[A-Za-z0-9!#$%&()*+,\-./:;=?@[\]^_{|}~]{1,200}$/;

/** `setTimeout`'s longest wait, in ms (about 24.8 days). */
const MAX_DELAY = 2 ** 31 - 1;

/** The most of a refusal's body passed back (a service's error page is small). */
const REFUSAL_BYTES = 64 * 1024;

/**
 * The `upgrade` handler for `serve()` that tunnels a WebSocket to the service under its path
 * prefix, as nginx does with `proxy_set_header Upgrade $http_upgrade`: the handshake is
 * checked here (a service under the path, the longest prefix winning as in `mount`,
 * `Upgrade: websocket`, a token `verify` accepts: else `404`, `426`, `401`), sent on with `X-User-Id`, the forwarded fields and the request id, and
 * the service's `101` passed back; from there bytes flow both ways untouched, until either side
 * closes or the server does (`close()`: both connections are ended, and the client reconnects
 * to an instance still running), or both have been idle for `options.idleTimeout`. A service that
 * refuses the handshake has its answer passed back (`502` when it breaks off before its body
 * ends); one that cannot be reached is answered `502`, one that does not answer in 10 s `504`; past `options.maxTunnels` open, `503`.
 *
 * @throws TypeError (at once) when `options.idleTimeout` is not 0 to 2147483647 ms
 *   (`setTimeout`'s limit), or `options.maxTunnels` not a positive integer.
 */
export function websocketTunnel(services: Record<string, string>, verify: (token: string) => Promise<User | null>, options: TunnelOptions = {}): UpgradeHandler {
  const idleTimeout = options.idleTimeout ?? 60_000;
  const maxTunnels = options.maxTunnels ?? 256;
  // Past setTimeout's limit Node waits 1 ms instead: every tunnel would end at once.
  if (typeof idleTimeout !== 'number' || !(idleTimeout >= 0 && idleTimeout <= MAX_DELAY)) {
    throw new TypeError(`websocketTunnel: idleTimeout must be 0 to ${MAX_DELAY} ms, not ${String(idleTimeout)}`);
  }
  if (!Number.isInteger(maxTunnels) || maxTunnels < 1) throw new TypeError(`websocketTunnel: maxTunnels must be a positive integer, not ${String(maxTunnels)}`);
  let open = 0;
  // The longest prefix first, as `mount` matches: `/api/admin` is not the `/api` service's `/admin`.
  const routes = Object.entries(services)
    .map(([prefix, url]) => [prefix.replace(/\/+$/, ''), new URL(url)] as const)
    .sort(([a], [b]) => b.length - a.length);
  return async (req, socket, head, { shutdown, environ }) => {
    const request = new Request(environ);
    const route = routes.find(([prefix]) => request.path === prefix || request.path.startsWith(`${prefix}/`));
    if (route === undefined) throw new HTTPNotFound();
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') throw new HTTPUpgradeRequired(undefined, { upgrade: 'websocket' });
    // As proxy() does: a dot segment is not resolved out of sight (/users/../orders would reach the users service's /orders).
    if (/(?:^|\/)\.\.?(?:\/|$)/.test(environ.PATH_INFO)) throw new HTTPBadRequest('The path holds a dot segment.');
    // Read as bearerAuth reads it: the scheme in any case, one token68 (RFC 6750 §2.1).
    const credentials = request.authorization;
    const token = credentials?.scheme === 'bearer' ? credentials.token : undefined;
    const user = token === undefined ? null : await verify(token);
    if (user === null) throw new HTTPUnauthorized('A WebSocket needs a valid bearer token.', { wwwAuthenticate: { scheme: 'Bearer', params: { realm: 'api' } } });
    if (shutdown.aborted) throw new HTTPServiceUnavailable('The gateway is shutting down.');
    if (open >= maxTunnels) throw new HTTPServiceUnavailable('The gateway has as many WebSockets open as it may.');
    const [prefix, target] = route;
    const headers: http.OutgoingHttpHeaders = {};
    // Fields the client's Connection names were meant for this hop alone (RFC 9110 §7.6.1), as proxy() drops them.
    const named = new Set(String(req.headers.connection ?? '').split(',').map((name) => name.trim().toLowerCase()));
    for (const [name, value] of Object.entries(req.headers)) {
      if (!NOT_FORWARDED.has(name) && !named.has(name) && !isForwardedClaim(name) && value !== undefined) headers[name] = value;
    }
    Object.assign(headers, {
      connection: 'Upgrade',
      upgrade: 'websocket',
      host: target.host,
      'x-user-id': user.id,
      'x-forwarded-for': request.remoteAddr ?? '',
      'x-forwarded-proto': request.scheme,
      'x-forwarded-host': request.host,
      'x-forwarded-prefix': prefix,
    });
    // requestId runs around the app only: the handshake keeps the client's id when requestId
    // would (a well-formed one: nothing a service's log line could be split or forged on), or gets one.
    const id = headers['x-request-id'];
    if (typeof id !== 'string' || !REQUEST_ID_SHAPE.test(id)) headers['x-request-id'] = crypto.randomUUID();
    const rest = request.pathQs.slice(prefix.length);
    const path = target.pathname.replace(/\/+$/, '') + (rest.startsWith('/') ? rest : `/${rest}`);
    const upstreamRequest = http.request({ host: target.hostname, port: target.port, path, headers, timeout: 10_000 });
    // Counted from the handshake sent, so a burst of them cannot pass the cap; given back when
    // the handshake fails or is refused, or when the tunnel closes.
    open += 1;
    let tunnelled = false;
    await new Promise<void>((resolve, reject) => {
      upstreamRequest.on('timeout', () => upstreamRequest.destroy(new HTTPGatewayTimeout('The upstream server did not answer the handshake in time.')));
      upstreamRequest.on('error', (error) => reject(error instanceof HTTPGatewayTimeout ? error : new HTTPBadGateway('The upstream server could not be reached.', { cause: error })));
      socket.on('close', () => upstreamRequest.destroy());
      // The service refused the handshake (a 403, a 404): its answer goes back, then the connection closes.
      upstreamRequest.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if ((size += chunk.length) <= REFUSAL_BYTES) chunks.push(chunk);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const lines = [`HTTP/1.1 ${res.statusCode} ${res.statusMessage}`];
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            if (!NOT_PASSED_BACK.has(res.rawHeaders[i]!.toLowerCase())) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
          }
          lines.push(`Content-Length: ${body.length}`, 'Connection: close', '', '');
          socket.once('finish', () => socket.destroy());
          socket.end(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]));
          resolve();
        });
        // Cut short (the service gone mid-answer, or the client: its close destroys the request):
        // no 'end' comes, and the handshake would hold its place under maxTunnels for ever.
        res.on('close', () => {
          if (!res.complete) reject(new HTTPBadGateway('The upstream server closed before its answer was complete.'));
        });
      });
      upstreamRequest.on('upgrade', (res, upstream, upstreamHead) => {
        upstreamRequest.setTimeout(0);
        // close() began while the service answered: a listener added to the aborted signal
        // would never run, and the tunnel would wait for close()'s cut. The client retries.
        if (shutdown.aborted) {
          upstream.destroy();
          reject(new HTTPServiceUnavailable('The gateway is shutting down.'));
          return;
        }
        const lines = [`HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}`];
        for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (upstreamHead.length > 0) socket.write(upstreamHead);
        if (head.length > 0) upstream.write(head);
        tunnelled = true;
        tunnel(socket, upstream, shutdown, idleTimeout, () => (open -= 1));
        resolve();
      });
      upstreamRequest.end();
    }).finally(() => {
      if (!tunnelled) open -= 1;
    });
  };
}

/**
 * Pipes `client` and `upstream` into each other until one closes, then calls `onClose` once;
 * `shutdown` ends both, and so does `idleTimeout` ms (`0`: never) without a byte either way.
 */
function tunnel(client: Duplex, upstream: Duplex, shutdown: AbortSignal, idleTimeout: number, onClose: () => void): void {
  const end = () => {
    client.end();
    upstream.end();
  };
  // Ended, then cut once the FIN is written: a peer that never closes its side holds nothing.
  const idleEnd = () => {
    for (const side of [client, upstream]) {
      side.once('finish', () => side.destroy());
      side.end();
    }
  };
  const idle = idleTimeout > 0 ? setTimeout(idleEnd, idleTimeout) : undefined;
  const active = () => idle?.refresh();
  client.on('data', active);
  upstream.on('data', active);
  let open = true;
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
  const closed = () => {
    if (open) {
      open = false;
      clearTimeout(idle);
      onClose();
    }
    shutdown.removeEventListener('abort', end);
    client.destroy();
    upstream.destroy();
  };
  client.on('close', closed);
  upstream.on('close', closed);
  // A side already gone (the client left while the service answered) sends no 'close' now:
  // end the tunnel at once, so its place under the cap comes back.
  if (client.destroyed || upstream.destroyed) {
    closed();
    return;
  }
  upstream.pipe(client);
  client.pipe(upstream);
  shutdown.addEventListener('abort', end, { once: true });
}

const gateway = await createGateway({
  services: {
    '/users': process.env.USERS_URL ?? 'http://127.0.0.1:9001',
    '/orders': process.env.ORDERS_URL ?? 'http://127.0.0.1:9002',
    '/files': process.env.FILES_URL ?? 'http://127.0.0.1:9003',
  },
  // No JWT_SECRET: a random key, so no token is let in, rather than a default anyone could sign with.
  secret: process.env.JWT_SECRET ?? crypto.getRandomValues(new Uint8Array(32)),
  origins: ['http://localhost:5173'],
  // Required of each token when set: a secret shared with other systems lets their tokens in otherwise.
  audience: process.env.JWT_AUDIENCE,
  issuer: process.env.JWT_ISSUER,
});

/** The gateway app, for `tsgi serve examples/gateway.ts:app --upgrade upgrade`. */
export const { app, upgrade } = gateway;

if (import.meta.main) {
  if (process.env.JWT_SECRET === undefined) console.warn('JWT_SECRET is not set: no token will be accepted');
  const server = await serve(app, { port: 8000, upgrade });
  console.log(`gateway at ${server.url}`);
  process.once('SIGTERM', () => void server.close().then(() => gateway.close()));
}
