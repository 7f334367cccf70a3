/**
 * `tsgi serve` in one process: load the app, wrap it as the flags say, serve it with
 * `serve()`, announce the address, and close gracefully on SIGINT/SIGTERM. The same code runs
 * in each worker of `--workers` and in the child of `--reload`, which report to the process
 * that manages them instead of printing, and leave the signals from the terminal to it.
 *
 * @module
 */
import cluster from 'node:cluster';
import { type Server as NetServer, Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { type ServerHandle, serve } from '../adapters/node/serve.ts';
import { requestsBeingAnswered, upgradedConnectionsOpen } from '../adapters/node/being-answered.ts';
import type { ServeCommand } from './command.ts';
import { announce } from './banner.ts';
import { releaseHangups } from './early-hangup.ts';
import { type CliIO, SIGHUP_DURING_SHUTDOWN, processIO, waitForSignal } from './io.ts';
import { startHeartbeat } from './healthcheck.ts';
import { loadApp, stalledLoad } from './load.ts';
import { loadUpgrade } from './upgrade-export.ts';
import { type CliLog, serveLog } from './log.ts';
import { type ListeningMessage, PORT_ENV, isConnectionMessage, isOwnWorker, RELOAD_CHILD_ENV, RELOAD_SOCKET_ENV, type RetiringMessage, type StoppedOnSignalMessage, type StoppingMessage } from './messages.ts';
import { serveOptions } from './options.ts';
import { PASSWORD_ENV } from './serve-args.ts';
import { buildStack, upgradeStack } from './stack.ts';
import { loadTls } from './tls.ts';
import { warnOfValidity } from './tls-validity.ts';
import { renewTls } from './tls-renewal.ts';
import { freeSocketPath } from './uds.ts';
import { watchRejections } from './rejections.ts';
import { version } from './version.ts';

/**
 * Serves `command` in this process until SIGINT or SIGTERM (or, alone, until
 * `--limit-max-requests`), then closes the server (requests in flight get
 * `--timeout-graceful-shutdown`; a second signal cuts the remaining connections) and answers
 * exit code 0. An unhandled promise rejection, once serving, is logged and stops the server the
 * same way, answering 1, where Node alone would exit at once, cutting the requests in flight
 * (not under `--unhandled-rejections=warn` or `none`, nor while the app has an
 * `unhandledRejection` handler of its own: see `watchRejections`); a status set meanwhile in
 * `process.exitCode` (by Node under `--unhandled-rejections=warn-with-error-code`, or by the
 * app) is answered instead of 0. Idle keep-alive
 * connections are closed at once after Ctrl-C (SIGINT) and in the child of `--reload`;
 * otherwise (SIGTERM, `--limit-max-requests`, a worker replaced) they are left to expire (`close({ idle: 'expire' })`), so a proxy reusing one is never reset.
 * Alone, SIGHUP reads the `--ssl-certfile`/`--ssl-keyfile` (and `--ssl-ca-certs`) files again into the running
 * server (`renewTls`; once listening, for one that comes while the app loads; not during the
 * graceful shutdown, when it is only logged), and is only logged without TLS: the code is not
 * reloaded.
 *
 * Managed (a worker of `--workers`, or the child of `--reload`; not a node:cluster worker of another primary, pm2's, which serves as one process): the bound URL goes to the manager as
 * a {@link ListeningMessage} instead of stdout, reaching the request limit sends a
 * {@link RetiringMessage} (the child of `--reload` then stops, and its supervisor starts the next), stopping after an unhandled rejection sends a {@link StoppingMessage}, SIGINT (only noted: Ctrl-C) and SIGHUP are ignored and a repeated SIGTERM too (the
 * manager, which gets the terminal's and the service manager's signals too, stops it with
 * SIGTERM and kills it when it must). In a worker `tsgi.multiprocess` is true, and once it
 * listens it sends heartbeats (`--timeout-worker-healthcheck`, src/cli/healthcheck.ts).
 *
 * @throws LoadError / ModuleError from `loadApp`; UsageError for unusable TLS files; rejects
 *   when the address cannot be bound (`EADDRINUSE`, `EACCES`).
 */
export async function serveInProcess(command: ServeCommand, io: CliIO = processIO): Promise<number> {
  const log = serveLog(command, io);
  // `--env-file`: before the module loads, so its top level reads them too.
  Object.assign(process.env, command.environment);
  // The passphrase is in `command.ssl` (SIGHUP reads the key again with it): not for the app,
  // nor the processes it starts. A manager keeps it in its own environment for the next child.
  delete process.env[PASSWORD_ENV];
  // A worker of another node:cluster primary (pm2's cluster mode) is not managed: it serves,
  // announces and stops as one process, its primary sending it the signals.
  const worker = isOwnWorker();
  const managed = worker || process.env[RELOAD_CHILD_ENV] === '1';
  let handle: ServerHandle | undefined;
  // Listen for signals from the start, so one that comes while loading still stops cleanly.
  // Ctrl-C reaches every process of the terminal's group, workers too.
  let interrupted = false;
  let closeStarted = false;
  let renewLater = false;
  if (managed) {
    // The manager's SIGTERM may be handled before the terminal's SIGINT: a SIGINT that comes
    // once the close began closes the idle connections it was keeping.
    process.on('SIGINT', () => {
      interrupted = true;
      if (closeStarted) void handle?.close({ timeout: command.timeoutGracefulShutdown, idle: 'close' });
    });
    process.on('SIGHUP', () => {});
  } else if (command.ssl === undefined) {
    process.on('SIGHUP', () => log.warning('SIGHUP ignored: it replaces the workers of --workers, and this is one process'));
  } else {
    // Renewing a certificate is what SIGHUP is sent for most often: the files are read again
    // (the code is not: one process cannot be replaced). One that comes before the server
    // listens is done once it does, as the files may have changed since they were read. One
    // during the graceful shutdown reads nothing: the closed server takes no new connections.
    const ssl = command.ssl;
    process.on('SIGHUP', () => {
      if (handle === undefined) renewLater = true;
      else if (closeStarted) log.warning(SIGHUP_DURING_SHUTDOWN);
      else renewTls(handle.server as TlsServer, ssl, log);
    });
  }
  // One that came while tsgi loaded: handled as one now (the TLS files are read after it anyway).
  if (releaseHangups()) process.emit('SIGHUP', 'SIGHUP');
  // A second signal cuts what remains; a managed process leaves that to its manager (SIGKILL),
  // so a SIGTERM sent to the whole process group (systemd's default) is not taken for two.
  const stopped = managed
    ? waitForSignal(['SIGTERM'])
    : waitForSignal(['SIGINT', 'SIGTERM'], (signal) => {
        // Requests in flight are lost: the log says why, or the stop looks clean.
        if (closeStarted) log.warning(`${signal} during the graceful shutdown: cutting the requests in flight`);
        void handle?.close({ timeout: 0 });
      });
  let retire!: (reason: string) => void;
  const retired = new Promise<string>((resolve) => (retire = resolve));
  // The child of --reload stops when its supervisor is gone (cluster workers do by themselves).
  if (managed && !worker) process.once('disconnect', () => retire('as its supervisor is gone'));
  const onLimit = (served: number) => {
    // A worker's primary replaces it; the supervisor of --reload starts a new child once this one stopped.
    if (managed) process.send?.({ type: 'tsgi:retiring', served } satisfies RetiringMessage);
    if (!worker) retire(`after ${served} requests (--limit-max-requests)`);
  };
  const tls = command.ssl === undefined ? undefined : loadTls(command.ssl);
  // The primary of --workers says it once, not each worker.
  if (command.ssl !== undefined && !worker) warnOfValidity(log, command.ssl.certfile);
  // A signal while the module loads (an export awaiting a database that does not answer)
  // stops at once: there is nothing in flight, and the load may never end. So does the child of
  // --reload whose supervisor is gone (`retired`), which would otherwise hold the supervisor's
  // socket, and its port, for as long as the load lasts.
  const loading = loadApp(command.module, command.exportName);
  // An exported promise that waits on nothing would end the process with Node's status 13.
  const stalled = stalledLoad(loading, command.module, command.exportName);
  stalled.catch(() => {}); // only the race below reports it
  const early = await Promise.race([loading.then(() => undefined), stopped, stalled, retired]);
  if (early !== undefined) {
    loading.catch(() => {}); // its outcome no longer matters
    if (!managed) log.info(`Stopping on ${early} while loading the app`);
    return 0;
  }
  // Known for --fd once listening: whether its socket is a Unix one (its handle's URL says).
  let unixSocket = command.uds !== undefined;
  const app = buildStack(await loading, command, log, onLimit, () => unixSocket);
  // WebSockets: the export named by --upgrade, next to the app (the CLI owns the server),
  // seeing the request as the app does (--root-path, --proxy-headers).
  const upgrade = command.upgrade === undefined ? undefined : upgradeStack(await loadUpgrade(command.module, command.upgrade), command, () => unixSocket);
  // (Workers of --workers share their primary's socket, freed by it; the child of --reload
  // inherits its supervisor's. A worker of another primary, pm2's, frees a stale one itself:
  // that primary does not, and a crash of it would leave every later start EADDRINUSE.)
  if (!worker && process.env[RELOAD_SOCKET_ENV] !== '1' && command.uds !== undefined) await freeSocketPath(command.uds, cluster.isWorker);
  const picked = process.env[PORT_ENV];
  handle = await serve(app, { ...serveOptions(command, log, tls, picked ? Number(picked) : command.port), multiprocess: cluster.isWorker, upgrade });
  unixSocket = handle.path !== undefined;
  if (renewLater && command.ssl !== undefined) renewTls(handle.server as TlsServer, command.ssl, log);
  // A worker or a --reload child tells its manager, which prints the one start line.
  if (managed) process.send?.({ type: 'tsgi:listening', url: handle.url } satisfies ListeningMessage);
  else announce(log, { url: handle.url, command, version: version() });
  // The connections the supervisor of --reload accepted on the socket it shares with this child.
  const server = handle.server;
  if (managed && !worker) {
    process.on('message', (message, socket) => {
      if (isConnectionMessage(message) && socket instanceof Socket) adoptConnection(server, socket);
    });
  }
  const rejections = watchRejections(log);
  if (worker && command.timeoutWorkerHealthcheck > 0) {
    startHeartbeat(command.timeoutWorkerHealthcheck, (message) => {
      if (process.connected) process.send?.(message);
    });
  }
  const stop = await Promise.race([
    stopped.then((signal) => ({ signal, why: `on ${signal}` })),
    retired.then((why) => ({ signal: '', why })),
    rejections.first.then((why) => ({ signal: '', why, own: true })),
  ]);
  // A worker stopping by itself has its primary start its successor now, not at its exit:
  // with it the last worker listening, no connection would be taken until then.
  if ('own' in stop && worker && process.connected) process.send?.({ type: 'tsgi:stopping' } satisfies StoppingMessage);
  // A signal its primary did not send (`kill -TERM <pid>`) has it replaced at once at its exit.
  if (stop.signal !== '' && worker && process.connected) process.send?.({ type: 'tsgi:signalled', signal: stop.signal } satisfies StoppedOnSignalMessage);
  if (stop.signal === 'SIGINT') interrupted = true;
  if (!managed) log.info(`Stopping ${stop.why}: requests in flight get ${command.timeoutGracefulShutdown / 1000} s`);
  // A stop in production (SIGTERM, a worker replaced) lets idle keep-alive connections expire,
  // so a proxy never sends a request on one as it closes; Ctrl-C and --reload close them now.
  const reloadChild = managed && !worker;
  closeStarted = true;
  // Set before `close()` sets its own cut, so it fires first and counts what that cuts.
  const cutting = warnOfCut(handle, command.timeoutGracefulShutdown, log);
  await handle.close({ timeout: command.timeoutGracefulShutdown, idle: interrupted || reloadChild ? 'close' : 'expire' });
  clearTimeout(cutting);
  await leaveCluster();
  rejections.dispose();
  if (rejections.happened()) return 1;
  // A status set meanwhile (by Node under --unhandled-rejections=warn-with-error-code, or by
  // the app) is kept, as when Node exits by itself.
  return Number(process.exitCode ?? 0) || 0;
}

/**
 * Arms the warning of a graceful shutdown that runs out: `timeout` ms after it began, the
 * connections still open and the requests still being answered on them are counted as
 * `close()` cuts them (see {@link cutNote}). Clear the timer it answers once `close()` has
 * resolved.
 */
function warnOfCut(handle: ServerHandle, timeout: number, log: CliLog): NodeJS.Timeout {
  const timer = setTimeout(() => {
    handle.server.getConnections((error, open) => {
      if (error !== null || open === 0) return;
      log.warning(cutNote(open, requestsBeingAnswered(handle.server) ?? 0, upgradedConnectionsOpen(handle.server) ?? 0, timeout));
    });
  }, timeout);
  timer.unref();
  return timer;
}

/**
 * What the end of a graceful shutdown does to the `open` connections left, `answering` requests
 * still being answered on them (an app working, a streamed body being sent:
 * `requestsBeingAnswered`) and `upgraded` connections handed to `--upgrade` (WebSockets:
 * `upgradedConnectionsOpen`): `2 connections still open at the end of the graceful shutdown
 * (--timeout-graceful-shutdown 30 s): cutting them, 1 request still being answered, 1 upgraded
 * (WebSocket)`; with neither (idle keep-alive connections, which SIGTERM leaves to their
 * keep-alive timeout), `…: closing them, no request being answered on them`, so that no
 * request reads as cut.
 */
function cutNote(open: number, answering: number, upgraded: number, timeout: number): string {
  const them = open === 1 ? 'it' : 'them';
  const left =
    `${open} connection${open === 1 ? '' : 's'} still open at the end of the graceful shutdown` +
    ` (--timeout-graceful-shutdown ${timeout / 1000} s)`;
  if (answering === 0 && upgraded === 0) return `${left}: closing ${them}, no request being answered on ${them}`;
  const cut: string[] = [];
  if (answering > 0) cut.push(`${answering} request${answering === 1 ? '' : 's'} still being answered`);
  if (upgraded > 0) cut.push(`${upgraded} upgraded (WebSocket${upgraded === 1 ? '' : 's'})`);
  return `${left}: cutting ${them}, ${cut.join(', ')}`;
}

/** How long a worker waits for its primary to let it go before exiting anyway (ms). */
const LEAVE_TIMEOUT = 5_000;

/**
 * In a cluster worker (a no-op elsewhere), leaves the cluster before the worker exits:
 * `cluster.worker.disconnect()` resolves once the primary has taken in that this worker's
 * server is closed. A connection the primary handed over before that is answered
 * `accepted: false` in the meantime, and the primary gives it to another worker. Exiting at
 * once would lose that answer, and Node's round-robin primary would keep such a connection
 * open and never serve it: a client hanging until its own timeout (seen as one request in
 * about 40 replacements under load).
 */
function leaveCluster(): Promise<void> {
  const worker = cluster.worker;
  if (worker === undefined || !process.connected) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, LEAVE_TIMEOUT);
    timer.unref();
    process.once('disconnect', () => {
      clearTimeout(timer);
      resolve();
    });
    worker.disconnect();
  });
}

/** `net.Server`'s connection count, kept by Node in these fields (its own accepts set them). */
interface ConnectionCount {
  _connections: number;
}

/**
 * Serves `socket`, a connection the supervisor of `--reload` accepted on the socket it shares
 * with this child, as one `server` accepted itself: counted among its connections as Node's own
 * `onconnection` does (and node:cluster's worker for a connection its primary accepted), so
 * that `server.close()` waits for it at a restart (its request gets the graceful stop) instead
 * of calling back with it in flight.
 */
function adoptConnection(server: NetServer, socket: Socket): void {
  if (server.listening) {
    (server as unknown as ConnectionCount)._connections++;
    // A socket's `_server` is the one whose count its `close` lowers (net.Socket's `_destroy`).
    (socket as unknown as { _server: NetServer })._server = server;
  }
  server.emit('connection', socket);
}
