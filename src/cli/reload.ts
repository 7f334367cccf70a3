/**
 * `tsgi serve --reload`, for development: a supervisor process watches the module's folder
 * (or each `--reload-dir`) and serves from a child process that it replaces whenever a
 * `.ts`, `.js` or `.json` file changes (`.mts`, `.cts`, `.mjs`, `.cjs` too; `node_modules`,
 * `.git` and dot-files are ignored). A child that fails (a syntax error, a missing export, a
 * crash) has printed why; the supervisor then waits for the next change instead of exiting, as
 * it does after a fork that failed (Node's binary gone, `EAGAIN`), which it logs.
 * A child that stops after `--limit-max-requests` is restarted as at a change.
 * The supervisor binds the address itself and each child serves on that socket
 * (src/cli/reload-socket.ts), so a request sent meanwhile waits for the next child.
 *
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import { statSync } from 'node:fs';
import { extname, relative, resolve } from 'node:path';
import type { ServeCommand } from './command.ts';
import { announce } from './banner.ts';
import { childExecArgv } from './debug-signal.ts';
import { releaseHangups } from './early-hangup.ts';
import { type CliIO, processIO, waitForSignal } from './io.ts';
import { serveLog } from './log.ts';
import { prepareManaged } from './managed.ts';
import { PORT_ENV, RELOAD_CHILD_ENV, RELOAD_SOCKET_ENV, isServingMessage } from './messages.ts';
import { bindReloadSocket } from './reload-socket.ts';
import { UsageError } from './values.ts';
import { version } from './version.ts';
import { type TreeWatcher, watchTree } from './watch.ts';

/** File extensions whose change restarts the server. */
export const RELOAD_EXTENSIONS: ReadonlySet<string> = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json']);

/** Changes closer together than this (milliseconds) restart once. */
export const DEBOUNCE = 100;

/** How long a child gets to stop on SIGTERM before SIGKILL (milliseconds). */
export const CHILD_STOP_TIMEOUT = 5_000;

/** Whether `path` (relative to a watched folder) is in or is `node_modules`, `.git` or a dot-file. */
export function isIgnored(path: string): boolean {
  return path.split(/[\\/]/).some((part) => part === 'node_modules' || part.startsWith('.'));
}

/** Whether a change to `file` (relative to a watched folder) restarts the server. */
export function isReloadable(file: string): boolean {
  return !isIgnored(file) && RELOAD_EXTENSIONS.has(extname(file));
}

/** `.ts, .mts, .cts, .js, .mjs, .cjs and .json`: the kinds of file whose change restarts. */
function reloadKinds(): string {
  const extensions = [...RELOAD_EXTENSIONS];
  return `${extensions.slice(0, -1).join(', ')} and ${extensions.at(-1)!}`;
}

/**
 * What the supervisor prints before the first start, as uvicorn's "Will watch for changes in
 * these directories": `Watching for changes to .ts, .mts, .cts, .js, .mjs, .cjs and .json
 * files in /srv/site (node_modules, .git and dot-files aside)`, the folders absolute. On a
 * colour terminal the banner has {@link watchingBannerLine} instead.
 */
export function watchingLine(dirs: readonly string[]): string {
  return `Watching for changes to ${reloadKinds()} files in ${dirs.join(', ')} (node_modules, .git and dot-files aside)`;
}

/** The banner's line of what is watched: `Watching /srv/site for changes to .ts, … and .json files`. */
export function watchingBannerLine(dirs: readonly string[]): string {
  return `Watching ${dirs.join(', ')} for changes to ${reloadKinds()} files`;
}

/** The watched folders, resolved; each must be a folder. */
function watchedDirs(command: ServeCommand): string[] {
  return command.reloadDirs.map((dir) => {
    const path = resolve(dir);
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      // reported below
    }
    if (!isDir) throw new UsageError(`invalid --reload-dir '${dir}': expected a folder`);
    return path;
  });
}

/**
 * Runs the supervisor until SIGINT, SIGTERM or SIGHUP (answering 0): starts the child, restarts
 * it on changes, and stops it (SIGTERM, SIGKILL after {@link CHILD_STOP_TIMEOUT}, with a
 * warning, since that cuts its requests in flight) at each change and at the end. The address
 * is bound here, once, and closed at the end: each child serves on that socket
 * (src/cli/reload-socket.ts).
 *
 * @throws LoadError when the module file does not exist; UsageError for a `--reload-dir` that
 *   is not a folder or unusable TLS files; rejects with the `listen` error when the address
 *   cannot be bound (`EADDRINUSE`, `EACCES`).
 */
export async function runReloader(command: ServeCommand, io: CliIO = processIO): Promise<number> {
  const log = serveLog(command, io);
  const dirs = watchedDirs(command);
  const managed = await prepareManaged(command);
  const socket = await bindReloadSocket(command.uds !== undefined ? { path: command.uds, mode: command.udsMode } : { host: command.host, port: Number(managed[PORT_ENV]) });
  // The child's own URL of a Unix socket it inherited names no path.
  const socketUrl = socket !== undefined && command.uds !== undefined ? `unix:${command.uds}` : undefined;
  const env = { ...process.env, ...managed, [RELOAD_CHILD_ENV]: '1', ...(socket !== undefined && { [RELOAD_SOCKET_ENV]: '1' }) };
  // The child's descriptors: the supervisor's socket as the fourth, when there is one to hand over.
  const stdio = socket === undefined ? (['inherit', 'inherit', 'inherit', 'ipc'] as const) : (['inherit', 'inherit', 'inherit', socket.fd, 'ipc'] as const);
  return new Promise<number>((resolveDone) => {
    const done = (code: number) => {
      socket?.close();
      resolveDone(code);
    };
    let child: ChildProcess | undefined;
    let announced = false;
    let stopping = false;
    let restart = false;
    let pending: NodeJS.Timeout | undefined;
    const start = () => {
      const current = fork(process.argv[1]!, process.argv.slice(2), { execArgv: childExecArgv(), env, stdio: [...stdio] });
      child = current;
      current.on('message', (message) => {
        if (!isServingMessage(message)) return;
        if (message.type === 'tsgi:retiring') {
          // It stops by itself (--limit-max-requests): the next child takes over, as at a change.
          if (child !== current || restart || stopping) return;
          log.info(`The app served ${message.served} requests (--limit-max-requests): restarting`);
          restart = true;
          stop(current, 'its --limit-max-requests');
          return;
        }
        if (message.type !== 'tsgi:listening') return;
        if (child === current && !restart && !stopping) socket?.serveWith(current);
        const url = socketUrl ?? message.url;
        if (announced) log.info(`Reloaded: serving on ${url}`);
        else announce(log, { url, command, version: version(), watching: watchingBannerLine(dirs) });
        announced = true;
      });
      current.once('exit', (code, signal) => ended(`the app stopped (${signal ? `signal ${signal}` : `exit code ${code}`})`));
      current.on('error', (error) => {
        // A fork that failed (Node's binary removed by an upgrade, EAGAIN, EMFILE) has no
        // process, and no 'exit' follows: as after an app that stopped. Any other error (a signal
        // that could not be sent) leaves the child running, its 'exit' still to come.
        if (current.pid === undefined) ended(`cannot start the app (${error.message})`);
        else log.warning(`the app's process ${current.pid}: ${error.message}`);
      });
    };
    /** The child is gone (`why`, for the log): the next one starts at a change, or now if one came. */
    const ended = (why: string) => {
      child = undefined;
      socket?.serveWith(undefined);
      if (stopping) {
        done(0);
      } else if (restart) {
        restart = false;
        start();
      } else {
        log.warning(`${why}; waiting for a change to restart it`);
      }
    };
    /** SIGTERM, then SIGKILL after CHILD_STOP_TIMEOUT, saying so: its requests in flight are cut. */
    const stop = (current: ChildProcess, after: string) => {
      // The connections the supervisor takes from now on wait for the next child.
      socket?.serveWith(undefined);
      current.kill('SIGTERM');
      const timer = setTimeout(() => {
        log.warning(`the app was still running ${CHILD_STOP_TIMEOUT / 1000} s after ${after} (a request in flight?): killing it`);
        current.kill('SIGKILL');
      }, CHILD_STOP_TIMEOUT);
      timer.unref();
      current.once('exit', () => clearTimeout(timer));
    };
    const changed = (file: string) => {
      log.info(`Change in ${file}: restarting`);
      if (child === undefined) start();
      else if (!restart) {
        restart = true;
        stop(child, 'the change');
      }
    };
    const onError = (error: Error, dir: string) => log.warning(`cannot watch ${relative(process.cwd(), dir)}: ${error.message}`);
    const watchers: TreeWatcher[] = dirs.map((dir) =>
      watchTree(
        dir,
        (name) => {
          if (!isReloadable(name) || stopping) return;
          log.debug(`changed: ${name}`);
          clearTimeout(pending);
          pending = setTimeout(() => changed(relative(process.cwd(), resolve(dir, name))), DEBOUNCE);
        },
        { skipDir: isIgnored, onError },
      ),
    );
    // On a terminal the banner says it, once the app listens.
    if (!log.colour) log.info(watchingLine(dirs));
    // SIGHUP too: a closed terminal ends the development server, child included.
    // A second signal cuts the child's requests in flight; the log says so, as without --reload.
    const cut = (signal: NodeJS.Signals) => {
      if (child === undefined) return;
      log.warning(`${signal} during the graceful shutdown: cutting the requests in flight`);
      child.kill('SIGKILL');
    };
    void waitForSignal(['SIGINT', 'SIGTERM', 'SIGHUP'], cut).then((signal) => {
      stopping = true;
      clearTimeout(pending);
      for (const watcher of watchers) watcher.close();
      log.info(`Stopping on ${signal}`);
      if (child === undefined) done(0);
      else stop(child, signal);
    });
    // A hang-up that came while tsgi loaded (its terminal closed) stops it now. The first app
    // process starts after a turn of the event loop, and not once stopping: a signal the process
    // got before its handler was in place but not yet dispatched (from reading the flags to
    // here nothing waits for I/O, so the loop never ran the hold) reaches the handler above in
    // that turn, and a child started now would be stopped at once.
    if (releaseHangups()) process.emit('SIGHUP', 'SIGHUP');
    setImmediate(() => {
      if (!stopping) start();
    });
  });
}
