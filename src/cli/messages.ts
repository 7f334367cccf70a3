/**
 * What a serving process (a `--workers` worker, the child of `--reload`) tells the process
 * that manages it, over the IPC channel, and the environment the manager passes down.
 *
 * @module
 */
import cluster from 'node:cluster';

/**
 * Environment variable set by a manager on the processes it starts: the port they bind (the
 * one it picked for `--port 0`), so every worker (and every replacement, and every reload)
 * shares it, even after `$PORT` changed in the `--env-file` they read again.
 */
export const PORT_ENV = 'TSGI_BOUND_PORT';

/**
 * Environment variable (`'1'`) that the primary of `--workers` sets on its workers. A
 * node:cluster worker without it has another primary (pm2's cluster mode runs the command in
 * workers of its daemon), which prints no start line for it, stops it with a signal of its own
 * choice (pm2's SIGINT) and reads no heartbeat: it serves as one process does.
 */
export const WORKER_ENV = 'TSGI_WORKER';

/** Whether this process is a worker of `tsgi serve --workers`, not merely a node:cluster worker. */
export function isOwnWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] === '1';
}

/** Environment variable that marks the child process of `--reload`. */
export const RELOAD_CHILD_ENV = 'TSGI_RELOAD_CHILD';

/**
 * Environment variable set (`'1'`) for the child of `--reload` when it serves on its
 * supervisor's listening socket (src/cli/reload-socket.ts); absent where the platform gives the
 * supervisor no descriptor to hand over, and the child then binds the address itself.
 */
export const RELOAD_SOCKET_ENV = 'TSGI_RELOAD_SOCKET';

/**
 * Environment variable set (`'1'`) by the primary of `--workers 1` on a port or `--uds` when it
 * holds the socket itself (src/cli/worker-socket.ts): the worker inherits it as
 * `WORKER_SOCKET_FD` and listens on it. Absent with `--fd` (the same descriptor, named by that
 * flag), with two workers or more, and where the platform gives no way to bind it (the workers
 * then listen through node:cluster).
 */
export const WORKER_SOCKET_ENV = 'TSGI_WORKER_SOCKET';

/** Sent once the process listens. */
export interface ListeningMessage {
  readonly type: 'tsgi:listening';
  /** The bound URL, e.g. `http://127.0.0.1:8000`. */
  readonly url: string;
}

/**
 * Sent when the process has taken its `--limit-max-requests`-th request and wants replacing,
 * and again at every `--limit-max-requests` more while it runs (its replacement failed).
 */
export interface RetiringMessage {
  readonly type: 'tsgi:retiring';
  /** The requests it has taken, this one included. */
  readonly served: number;
}

/**
 * Sent by a worker from its event loop while it runs, once it listens, when
 * `--timeout-worker-healthcheck` is on (src/cli/healthcheck.ts).
 */
export interface HeartbeatMessage {
  readonly type: 'tsgi:alive';
}

/**
 * Sent by a worker that stops by itself, after an unhandled promise rejection: it no longer
 * takes connections, and finishes its requests in flight before it exits, so its primary
 * starts its successor now rather than at its exit.
 */
export interface StoppingMessage {
  readonly type: 'tsgi:stopping';
}

/**
 * Sent by a worker that stops on a signal (SIGTERM: the only one a worker stops on), before its
 * graceful shutdown. Its primary ignores it when the signal was its own (a replacement, a stop);
 * otherwise (`kill -TERM <pid>` by hand) it replaces the worker at once when it exits, without a
 * back-off pause: a worker stopped on purpose did not crash.
 */
export interface StoppedOnSignalMessage {
  readonly type: 'tsgi:signalled';
  /** The signal's name, e.g. `SIGTERM`. */
  readonly signal: string;
}

/**
 * Sent by the supervisor of `--reload` to its child with a connection it accepted on the
 * socket they share (src/cli/reload-socket.ts): the child serves it as one it accepted.
 */
export interface ConnectionMessage {
  readonly type: 'tsgi:connection';
}

/** Whether `message` is a {@link ConnectionMessage}. */
export function isConnectionMessage(message: unknown): message is ConnectionMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'tsgi:connection';
}

/** A message from a serving process. */
export type ServingMessage = ListeningMessage | RetiringMessage | HeartbeatMessage | StoppingMessage | StoppedOnSignalMessage;

/** Whether `message` is a {@link ServingMessage}. */
export function isServingMessage(message: unknown): message is ServingMessage {
  if (typeof message !== 'object' || message === null) return false;
  const { type } = message as { type?: unknown };
  if (type === 'tsgi:listening') return typeof (message as ListeningMessage).url === 'string';
  if (type === 'tsgi:signalled') return typeof (message as StoppedOnSignalMessage).signal === 'string';
  return type === 'tsgi:retiring' || type === 'tsgi:alive' || type === 'tsgi:stopping';
}
