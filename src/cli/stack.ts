/**
 * The middleware `tsgi serve` puts around the app its flags ask for, outermost first:
 * the request count of `--limit-max-requests`, `--root-path`, `--proxy-headers` (`proxyFix`
 * for one proxy), then the access log, so that its lines show the client's address, and, with
 * `--trusted-hosts` too, the check of the host the proxy forwarded.
 *
 * @module
 */
import type { App } from '../gateway/types.ts';
import { checkHost } from '../adapters/environ-rules.ts';
import { isHTTPException } from '../exceptions/base.ts';
import { prependScriptName } from '../gateway/script-name.ts';
import { accessLog } from '../middleware/access-log.ts';
import { proxyFix } from '../middleware/proxy-fix.ts';
import type { ServeCommand } from './command.ts';
import type { CliLog } from './log.ts';

/**
 * The hop counts `--proxy-headers` trusts: one proxy (nginx, a load balancer) that sets
 * `X-Forwarded-For`, `-Proto`, `-Host` and `-Prefix`.
 */
export const PROXY_HOPS = { xFor: 1, xProto: 1, xHost: 1, xPrefix: 1 } as const;

/**
 * `app` wrapped as `command` says. `onLimit(served)` is called when the request that reaches
 * this process's limit ({@link requestLimit}) arrives (the request itself is served), and
 * again at every limit more, so a worker whose replacement failed to start asks again.
 * `unixSocket()` answers whether the server listens on a Unix socket (`--uds`, or the socket
 * of `--fd` once listening, which only then is known); until it says so, peers are taken for
 * TCP ones.
 */
export function buildStack(
  app: App,
  command: ServeCommand,
  log: CliLog,
  onLimit: (served: number) => void,
  unixSocket: () => boolean = () => command.uds !== undefined,
): App {
  let stack = app;
  const { trustedHosts } = command;
  if (command.proxyHeaders && trustedHosts !== undefined) stack = forwardedHostChecked(stack, trustedHosts);
  if (command.accessLog && log.enabled('info')) stack = accessLog(stack, { log: log.stdout, format: command.accessLogFormat });
  if (command.proxyHeaders) stack = forwardedFrom(stack, command.forwardedAllowIps, unixSocket);
  if (command.rootPath !== '') stack = withRootPath(stack, command.rootPath);
  const limit = requestLimit(command);
  if (limit !== undefined) stack = counted(stack, limit, onLimit);
  return stack;
}

/**
 * The request limit of this process: `--limit-max-requests` plus a number drawn from 0 to
 * `--limit-max-requests-jitter` (gunicorn's `--max-requests-jitter`), so that workers started
 * together reach their limits apart; `undefined` without a limit.
 */
export function requestLimit(command: ServeCommand): number | undefined {
  const limit = command.limitMaxRequests;
  if (limit === undefined) return undefined;
  return limit + Math.floor(Math.random() * (command.limitMaxRequestsJitter + 1));
}

/**
 * `proxyFix` for one proxy, trusted when the peer is in `allowIps` (`'*'`: any), or the server
 * listens on a Unix socket (`unixSocket()`: `--uds`, or one `--fd` handed over), where whoever
 * can open the socket is the proxy. Not whenever the peer has no address: behind TLS, a TCP
 * client that resets its connection right after sending its request has none either (Node's
 * `remoteAddress` is `undefined` once `getpeername` fails; `serve()` reads a cleartext
 * connection's as it is accepted), and `proxyFix` leaves such a request as it came.
 */
function forwardedFrom(app: App, allowIps: readonly string[], unixSocket: () => boolean): App {
  const anyPeer = proxyFix(app, PROXY_HOPS);
  if (allowIps.includes('*')) return anyPeer;
  const listed = proxyFix(app, { ...PROXY_HOPS, trust: allowIps });
  return (environ, startResponse) => (unixSocket() ? anyPeer : listed)(environ, startResponse);
}

/**
 * Answers `400 Bad Request` (`untrusted Host header`, the server's answer to a `Host` outside
 * `trustedHosts`) to a request whose host `--proxy-headers` took from `X-Forwarded-Host` and
 * is not one of `trustedHosts`: the server checked the `Host` of the connection (the proxy's),
 * before `proxyFix` replaced it. As Werkzeug checks `trusted_hosts` on the host `ProxyFix` set,
 * and Django `ALLOWED_HOSTS` on `X-Forwarded-Host`. Inside the access log, which logs the 400.
 */
function forwardedHostChecked(app: App, trustedHosts: readonly string[]): App {
  return (environ, startResponse) => {
    try {
      checkHost(environ.HTTP_HOST as string | undefined, trustedHosts);
    } catch (error) {
      if (isHTTPException(error)) return error.respond(environ, startResponse);
      throw error;
    }
    return app(environ, startResponse);
  };
}

/**
 * Prepends `rootPath` to `SCRIPT_NAME`: the app builds its URLs with the prefix the proxy
 * stripped. Not for `OPTIONS *`, which names no path (`prependScriptName`).
 */
function withRootPath(app: App, rootPath: string): App {
  return (environ, startResponse) => {
    prependScriptName(environ, rootPath);
    return app(environ, startResponse);
  };
}

/** Calls `onLimit(served)` when the `limit`-th request arrives, and every `limit` requests after. */
function counted(app: App, limit: number, onLimit: (served: number) => void): App {
  let served = 0;
  return (environ, startResponse) => {
    if (++served % limit === 0) onLimit(served);
    return app(environ, startResponse);
  };
}
