/**
 * The middleware `tsgi serve` puts around the app its flags ask for, outermost first:
 * the request count of `--limit-max-requests`, `--root-path`, `--proxy-headers` (`proxyFix`
 * for one proxy, with `--forwarded-host` and `--forwarded-prefix`), then the access log, so
 * that its lines show the client's address, and, with `--forwarded-host` and
 * `--trusted-hosts`, the check of the host the proxy forwarded. The same edits of the
 * environ, in the same order, come before the `--upgrade` handler ({@link upgradeStack}), so it
 * sees a request as the app would.
 *
 * @module
 */
import type { App, Environ } from '../gateway/types.ts';
import type { UpgradeHandler } from '../adapters/node/upgrade.ts';
import { checkHost } from '../adapters/environ-rules.ts';
import { trustedHostsKey } from '../http/trusted-hosts.ts';
import { isHTTPException } from '../exceptions/base.ts';
import { prependScriptName } from '../gateway/script-name.ts';
import { accessLog } from '../middleware/access-log.ts';
import { type ProxyFixOptions, proxyFixer } from '../middleware/proxy-fix.ts';
import type { ServeCommand } from './command.ts';
import type { CliLog } from './log.ts';
import { noteClient } from './upgrade-clients.ts';

/**
 * The hop counts `--proxy-headers` trusts: one proxy (nginx, a load balancer) that sets
 * `X-Forwarded-For` and `-Proto` (`xFor: 1, xProto: 1`: Werkzeug's `ProxyFix` defaults, and
 * the headers uvicorn's `--proxy-headers` reads), and `X-Forwarded-Host` with
 * `--forwarded-host`, `X-Forwarded-Prefix` with `--forwarded-prefix` (`xHost: 1`,
 * `xPrefix: 1`). Not those two by default: a proxy that does not set them (nginx's usual
 * `Host $host` lines) passes the client's own on, and a host or prefix the client chose would
 * name the app's URLs (password-reset links, absolute redirects).
 */
export function proxyHops(command: Pick<ServeCommand, 'forwardedHost' | 'forwardedPrefix'>): ProxyFixOptions {
  return { xFor: 1, xProto: 1, xHost: command.forwardedHost ? 1 : 0, xPrefix: command.forwardedPrefix ? 1 : 0 };
}

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
  const { rootPath, forwarded, forwardedHost } = flagEdits(command, unixSocket);
  if (forwardedHost !== undefined) stack = answeringRefusal(stack, forwardedHost);
  if (command.accessLog && log.enabled('info')) stack = accessLog(stack, { log: log.stdout, format: command.accessLogFormat, redactQuery: command.accessLogRedact });
  if (forwarded !== undefined) stack = edited(stack, forwarded);
  if (rootPath !== undefined) stack = edited(stack, rootPath);
  const limit = requestLimit(command);
  if (limit !== undefined) stack = counted(stack, limit, onLimit);
  return stack;
}

/**
 * `handler`, the export of `--upgrade`, with the view of the request the flags give the app:
 * `context.environ` is edited by `--root-path`, then `--proxy-headers` (the client's address
 * and scheme when the peer is trusted; the host with `--forwarded-host`, the prefix with
 * `--forwarded-prefix`), and with `--forwarded-host` and `--trusted-hosts` the forwarded host
 * checked (`400` when not listed: an `HTTPBadRequest`, which `serve()` answers and reports to
 * `onRefused`), before `handler` runs. The client's address it gives is noted for the access
 * log line of a refusal `serve()` answers (src/cli/upgrade-clients.ts). `handler` itself when no flag asks for an edit. The
 * request limit of `--limit-max-requests` does not count upgrades.
 */
export function upgradeStack(handler: UpgradeHandler, command: ServeCommand, unixSocket: () => boolean = () => command.uds !== undefined): UpgradeHandler {
  const { rootPath, forwarded, forwardedHost } = flagEdits(command, unixSocket);
  const edits = [rootPath, forwarded, forwardedHost].filter((edit) => edit !== undefined);
  if (edits.length === 0) return handler;
  return (req, socket, head, context) => {
    try {
      for (const edit of edits) edit(context.environ);
    } finally {
      // For the access log line of a refusal serve() answers (onRefused gives the peer's address).
      noteClient(req, context.environ);
    }
    return handler(req, socket, head, context);
  };
}

/** A change the flags make to a request's environ before the app (or the upgrade handler) reads it; it may throw an `HTTPException`. */
type EnvironEdit = (environ: Environ) => void;

/** The {@link EnvironEdit}s of `command`'s flags, `undefined` for those it does not give. */
function flagEdits(
  command: ServeCommand,
  unixSocket: () => boolean,
): { rootPath: EnvironEdit | undefined; forwarded: EnvironEdit | undefined; forwardedHost: EnvironEdit | undefined } {
  const { rootPath, trustedHosts } = command;
  // Without --forwarded-host the Host stays the one the server checked: nothing more to check.
  const hostChecked = command.proxyHeaders && command.forwardedHost && trustedHosts !== undefined;
  return {
    rootPath: rootPath === '' ? undefined : withRootPath(rootPath),
    forwarded: command.proxyHeaders ? forwardedFrom(proxyHops(command), command.forwardedAllowIps, unixSocket, hostChecked) : undefined,
    forwardedHost: hostChecked ? forwardedHostChecked(trustedHosts) : undefined,
  };
}

/** `app` with `edit` made to each request's environ first. */
function edited(app: App, edit: EnvironEdit): App {
  return (environ, startResponse) => {
    edit(environ);
    return app(environ, startResponse);
  };
}

/** `app` with `check` made first: the `HTTPException` it throws is the answer (inside the access log, which logs it). */
function answeringRefusal(app: App, check: EnvironEdit): App {
  return (environ, startResponse) => {
    try {
      check(environ);
    } catch (error) {
      if (isHTTPException(error)) return error.respond(environ, startResponse);
      throw error;
    }
    return app(environ, startResponse);
  };
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
 * `proxyFix` for one proxy (`hops`, from {@link proxyHops}), trusted when the peer is in `allowIps` (`'*'`: any), or the server
 * listens on a Unix socket (`unixSocket()`: `--uds`, or one `--fd` handed over), where whoever
 * can open the socket is the proxy. Not whenever the peer has no address: behind TLS, a TCP
 * client that resets its connection right after sending its request has none either (Node's
 * `remoteAddress` is `undefined` once `getpeername` fails; `serve()` reads a cleartext
 * connection's as it is accepted), and `proxyFix` leaves such a request as it came.
 */
function forwardedFrom(hops: ProxyFixOptions, allowIps: readonly string[], unixSocket: () => boolean, hostChecked: boolean): EnvironEdit {
  const anyPeer = proxyFixer(hops);
  const listed = allowIps.includes('*') ? anyPeer : proxyFixer({ ...hops, trust: allowIps });
  return (environ) => {
    // The forwarded host is checked inside the access log (forwardedHostChecked), which logs
    // its 400: not by proxyFix, outside it, which checks it against the server's trustedHosts.
    if (hostChecked) environ[trustedHostsKey.name] = undefined;
    (unixSocket() ? anyPeer : listed)(environ);
  };
}

/**
 * Refuses with `400 Bad Request` (`untrusted Host header`, the server's answer to a `Host` outside
 * `trustedHosts`) a request whose host `--forwarded-host` took from `X-Forwarded-Host` and
 * is not one of `trustedHosts`: the server checked the `Host` of the connection (the proxy's),
 * before `proxyFix` replaced it. As Werkzeug checks `trusted_hosts` on the host `ProxyFix` set,
 * and Django `ALLOWED_HOSTS` on `X-Forwarded-Host`. Around the app, inside the access log,
 * which logs the 400; before the upgrade handler, `serve()` answers it (and `onRefused` logs it).
 *
 * @throws HTTPBadRequest for a host not listed.
 */
function forwardedHostChecked(trustedHosts: readonly string[]): EnvironEdit {
  return (environ) => checkHost(environ.HTTP_HOST as string | undefined, trustedHosts);
}

/**
 * Prepends `rootPath` to `SCRIPT_NAME`: the app builds its URLs with the prefix the proxy
 * stripped. Not for `OPTIONS *`, which names no path (`prependScriptName`).
 */
function withRootPath(rootPath: string): EnvironEdit {
  return (environ) => prependScriptName(environ, rootPath);
}

/** Calls `onLimit(served)` when the `limit`-th request arrives, and every `limit` requests after. */
function counted(app: App, limit: number, onLimit: (served: number) => void): App {
  let served = 0;
  return (environ, startResponse) => {
    if (++served % limit === 0) onLimit(served);
    return app(environ, startResponse);
  };
}
