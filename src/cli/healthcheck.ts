/**
 * `--timeout-worker-healthcheck`: a worker whose event loop stops turning (a synchronous
 * endless loop, a blocking call that never returns) keeps its share of the listening socket,
 * and node:cluster's primary goes on handing it connections that are never answered. Each
 * worker therefore sends a heartbeat over its IPC channel from its event loop, and the primary
 * kills one that has been silent longer than the timeout, so that it is replaced (uvicorn's
 * worker health check; gunicorn's `--timeout` for silent workers).
 *
 * The check starts once a worker listens, so a slow start on a loaded machine is never taken for
 * a hang (uvicorn's check, which also runs during start, can kill and respawn slow starters in
 * a loop). Only the successor in a rolling replacement (SIGHUP, `--limit-max-requests`) has a
 * deadline to start listening, the same timeout (src/cli/workers.ts).
 *
 * @module
 */
import type { HeartbeatMessage } from './messages.ts';

/** The heartbeat's period for a timeout (milliseconds): a quarter of it, at most one second. */
function heartbeatInterval(timeout: number): number {
  return Math.max(1, Math.min(1_000, Math.floor(timeout / 4)));
}

/**
 * In a worker: sends a {@link HeartbeatMessage} every {@link heartbeatInterval} of `timeout`
 * milliseconds until the IPC channel closes. The timer does not keep the process alive.
 */
export function startHeartbeat(timeout: number, send: (message: HeartbeatMessage) => void): void {
  const timer = setInterval(() => send({ type: 'tsgi:alive' }), heartbeatInterval(timeout));
  timer.unref();
  process.once('disconnect', () => clearInterval(timer));
}

/**
 * In the primary: when each watched worker was last heard from, and which ones have been
 * silent for longer than `timeout` milliseconds.
 *
 * A pause of the primary itself (the machine suspended, the process group stopped with
 * SIGSTOP, a debugger) would make every worker look silent at once, with their heartbeats
 * still queued in the pipe: when the check runs late by more than half the timeout, it counts
 * every worker as just heard from instead of judging them.
 */
export class Watchdog<W> {
  readonly #timeout: number;
  readonly #lastSeen = new Map<W, number>();
  #lastCheck: number;

  /** @param timeout - the longest silence allowed, in milliseconds (more than 0). */
  constructor(timeout: number, now: number) {
    this.#timeout = timeout;
    this.#lastCheck = now;
  }

  /** How often {@link Watchdog.silent} should run (milliseconds). */
  get interval(): number {
    return heartbeatInterval(this.#timeout);
  }

  /** Records a sign of life from `worker` (and starts watching it). */
  seen(worker: W, now: number): void {
    this.#lastSeen.set(worker, now);
  }

  /** Stops watching `worker` (it exited, or is being stopped). */
  forget(worker: W): void {
    this.#lastSeen.delete(worker);
  }

  /** The watched workers silent for longer than the timeout, each with its silence in milliseconds; they are no longer watched. */
  silent(now: number): Array<[W, number]> {
    const late = now - this.#lastCheck > this.interval + this.#timeout / 2;
    this.#lastCheck = now;
    const out: Array<[W, number]> = [];
    for (const [worker, seen] of this.#lastSeen) {
      if (late) this.#lastSeen.set(worker, now);
      else if (now - seen > this.#timeout) out.push([worker, now - seen]);
    }
    for (const [worker] of out) this.#lastSeen.delete(worker);
    return out;
  }
}
