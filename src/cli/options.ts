/**
 * The `serve()` options of a `tsgi serve` command line: seconds become milliseconds, and
 * each flag lands on the option it names.
 *
 * | Flag | `serve()` option |
 * | --- | --- |
 * | `--host`, `--port`, `--uds`, `--uds-mode`, `--fd` | `host`, `port`, `path`, `pathMode`, `fd` (a worker of `--workers 1`, the child of `--reload`: `fd`, the socket its manager holds) |
 * | `--ssl-certfile`, `--ssl-keyfile`, `--ssl-keyfile-password` | `tls: { cert, key, passphrase }` |
 * | `--ssl-ca-certs`, `--ssl-cert-reqs optional`/`required` | `tls: { ca, requestCert: true, rejectUnauthorized: false`/`true }` (the `SSL_CLIENT_*` keys follow) |
 * | `--http2`, `--h2c` | `http2: true`, `http2: 'h2c'` |
 * | `--timeout-keep-alive`, `--timeout-headers`, `--timeout-request` | `keepAliveTimeout`, `headersTimeout`, `requestTimeout` |
 * | `--timeout-body` | `bodyTimeout` (0 turns it off) |
 * | `--timeout-graceful-shutdown` | `close({ timeout })` |
 * | `--limit-concurrency` | `maxConcurrentRequests` |
 * | `--max-body-size` | `maxBodySize` |
 * | `--trusted-hosts` | `trustedHosts` |
 * | `--upgrade <export>` | `upgrade` (the export, loaded in src/cli/serve.ts) |
 * | `--access-log` | `onRefused`, and `onUpgradeClosed` with `--upgrade` (the app's lines: src/cli/stack.ts) |
 * | `--access-log-redact` | `redactQuery` (the error log's request lines), and the lines of `onRefused` and `onUpgradeClosed` |
 *
 * @module
 */
import cluster from 'node:cluster';
import type { TlsOptions } from 'node:tls';
import type { ServeOptions } from '../adapters/node/serve.ts';
import type { ServeCommand } from './command.ts';
import type { CliLog } from './log.ts';
import { RELOAD_SOCKET_ENV, WORKER_SOCKET_ENV, isOwnWorker } from './messages.ts';
import { refusedLogger } from './refused-log.ts';
import { upgradeLogger } from './upgrade-log.ts';
import { RELOAD_SOCKET_FD } from './reload-socket.ts';
import { WORKER_SOCKET_FD } from './socket-activation.ts';
import { ownDescriptor } from '../adapters/node/listen.ts';

/**
 * The options for `serve()`. `port` overrides the command's (a port the primary picked for
 * `--port 0`); `tls` is what `loadTls` read.
 */
export function serveOptions(command: ServeCommand, log: CliLog, tls: TlsOptions | undefined, port = command.port): ServeOptions {
  const options: ServeOptions = {
    log: log.appErrors,
    keepAliveTimeout: command.timeoutKeepAlive,
    // Node requires the head's time to fit in the whole request's.
    headersTimeout: Math.min(command.timeoutHeaders, command.timeoutRequest),
    requestTimeout: command.timeoutRequest,
    bodyTimeout: command.timeoutBody,
    http2: command.http2,
  };
  // The child of --reload serves on its supervisor's socket, and the worker of --workers 1 on its primary's
  // (src/cli/worker-socket.ts), named as it would name its own.
  const inherited = process.env[RELOAD_SOCKET_ENV] === '1' && !cluster.isWorker ? RELOAD_SOCKET_FD : isOwnWorker() && process.env[WORKER_SOCKET_ENV] === '1' ? ownDescriptor(WORKER_SOCKET_FD) : undefined;
  if (inherited !== undefined) {
    options.fd = inherited;
    options.serverName = command.uds !== undefined ? 'localhost' : command.host;
    if (command.uds !== undefined) options.serverPort = tls === undefined ? 80 : 443;
  } else if (command.uds !== undefined) {
    options.path = command.uds;
    if (command.udsMode !== undefined) options.pathMode = command.udsMode;
  }
  // A worker inherits the socket on a descriptor of its own (shareActivatedSocket).
  else if (command.fd !== undefined) options.fd = isOwnWorker() ? ownDescriptor(WORKER_SOCKET_FD) : command.fd;
  else {
    options.host = command.host;
    options.port = port;
  }
  if (tls !== undefined) options.tls = tls;
  if (command.limitConcurrency !== undefined) options.maxConcurrentRequests = command.limitConcurrency;
  if (command.maxBodySize > 0) options.maxBodySize = command.maxBodySize;
  if (command.trustedHosts !== undefined) options.trustedHosts = command.trustedHosts;
  // The request lines of the error log (the server's and the app's layers'), through tsgi.redact_query.
  if (command.accessLogRedact.length > 0) options.redactQuery = command.accessLogRedact;
  // The requests the server answers itself go to the access log too (the app's: src/cli/stack.ts),
  // and the upgrades, once their connections close.
  if (command.accessLog && log.enabled('info')) {
    options.onRefused = refusedLogger(log.stdout, command.accessLogFormat, command.accessLogRedact);
    if (command.upgrade !== undefined) options.onUpgradeClosed = upgradeLogger(log.stdout, command.accessLogFormat, command.accessLogRedact);
  }
  return options;
}
