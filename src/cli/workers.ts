/**
 * `tsgi serve --workers N`: the primary process of a node:cluster. It forks one worker running
 * `serveInProcess`; once that one listens it announces the address and forks the other N-1.
 * With two workers or more on a port or `--uds`, they share the listening socket through
 * node:cluster, whose primary accepts each connection and hands them out in turn (round robin);
 * it closes the socket with its last worker, so while every worker is down at once connections
 * are refused. With `--workers 1`, where there is nothing to spread and the sole worker's crash
 * is exactly that gap, the primary binds the socket itself (src/cli/worker-socket.ts) and keeps
 * it open until it stops, the worker accepting on it, so a connection that comes while it is
 * dead waits in the queue for the replacement; so it does with `--fd` for any N (the socket
 * systemd bound). At the stop it closes its side of the socket (not `--fd`'s) as it sends the
 * workers SIGTERM, as gunicorn's arbiter closes its listeners, so later connections are refused. A worker that dies is replaced after a
 * {@link Backoff} pause, with its exit code or signal logged; one stopped gracefully by a SIGTERM
 * the primary did not send (`kill -TERM <pid>` by hand) is replaced at once, without a pause (it
 * did not crash), as gunicorn does; one that stops by itself after an
 * unhandled promise rejection (it finishes its requests in flight first) is replaced as soon as
 * it says so, not at its exit. SIGINT/SIGTERM stop every worker
 * (SIGTERM, SIGKILL after `--timeout-graceful-shutdown` + {@link KILL_MARGIN}, or at a second
 * signal). A listening worker whose heartbeats stop for `--timeout-worker-healthcheck` (its
 * event loop is stuck) is killed with SIGKILL and replaced as one that died
 * (src/cli/healthcheck.ts). SIGHUP, and a worker that reached `--limit-max-requests`, replace
 * workers one at a time, each only once its successor listens; a successor that fails, or is
 * not listening within `--timeout-worker-healthcheck` (then killed), ends the round (it is not
 * replaced in turn) and the running workers stay. A SIGHUP round replaces every worker there is
 * when it starts, those still starting too (each once it listens: whether it loaded the module
 * before the deploy or after cannot be known), so the workers left when it ends all started
 * after the SIGHUP. A SIGHUP also ends a back-off pause: the workers waiting out one start at
 * once, and the back-off streak starts over. One during the graceful shutdown is ignored
 * (logged). When the very first worker fails, the primary exits with its status.
 *
 * @module
 */
import cluster, { type Worker } from 'node:cluster';
import type { ServeCommand } from './command.ts';
import { announce, countWorkers } from './banner.ts';
import { Backoff } from './backoff.ts';
import { childExecArgv } from './debug-signal.ts';
import { releaseHangups } from './early-hangup.ts';
import { type CliIO, SIGHUP_DURING_SHUTDOWN, processIO, waitForSignal } from './io.ts';
import { type CliLog, serveLog } from './log.ts';
import { prepareManaged } from './managed.ts';
import { shareActivatedSocket } from './socket-activation.ts';
import { warnOfValidity } from './tls-validity.ts';
import { Watchdog } from './healthcheck.ts';
import { PORT_ENV, type StoppedOnSignalMessage, WORKER_ENV, WORKER_SOCKET_ENV, isServingMessage } from './messages.ts';
import { MAX_TIMER } from './values.ts';
import { type WorkerSocket, bindWorkerSocket } from './worker-socket.ts';
import { version } from './version.ts';

/** Time a stopped worker gets beyond the graceful shutdown before SIGKILL (milliseconds). */
export const KILL_MARGIN = 5_000;

/** One worker as the primary sees it. */
interface Slot {
  readonly worker: Worker;
  readonly started: number;
  listening: boolean;
  /** The primary asked it to stop (replaced, or shutting down): its exit is expected. */
  leaving: boolean;
  /** Sent SIGTERM (`#terminate`): an exit before that, while leaving, is a death. */
  stopped: boolean;
  /** The signal it said it stops on (a {@link StoppedOnSignalMessage}), if any. */
  signalled: string | undefined;
  /** The worker this one was forked to replace (SIGHUP, `--limit-max-requests`), if any. */
  readonly replacing: Slot | undefined;
  /**
   * Its replacement under way or done (`#replace`): `true` once the successor
   * listens (this one is then stopped), `false` if the successor failed (this one stays).
   */
  handover: Promise<boolean> | undefined;
  /** Settled with `true` once it listens, `false` if it exits first. */
  readonly ready: Promise<boolean>;
  settle(ready: boolean): void;
}

/** How a worker ended, for the log: `exit code 3`, `signal SIGKILL`. */
function how(code: number | null, signal: string | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

class Primary {
  readonly #slots = new Map<Worker, Slot>();
  readonly #backoff = new Backoff();
  /** The back-off pauses under way, one per worker to fork at its end (#forkAfter). */
  readonly #paused = new Set<NodeJS.Timeout>();
  #announced = false;
  #stopping = false;
  #rolling = false;
  /** A SIGHUP came during a round: another round follows it, for the code now on disk. */
  #again = false;
  #exitCode = 0;
  /** The listening workers' heartbeats (`--timeout-worker-healthcheck`), unless it is 0. */
  #watchdog: Watchdog<Worker> | undefined;

  readonly command: ServeCommand & { workers: number };
  readonly log: CliLog;
  /** The environment of the workers (a port picked for `--port 0`, the start's `$PORT` and `$WEB_CONCURRENCY` of `--env-file`: `prepareManaged`). */
  readonly env: Record<string, string>;
  readonly done: (code: number) => void;
  /**
   * Closes the primary's side of the socket it holds (`--workers 1`: src/cli/worker-socket.ts),
   * called as the workers are told to stop: see #stopAll.
   */
  readonly release: () => void;

  constructor(command: ServeCommand & { workers: number }, log: CliLog, env: Record<string, string>, done: (code: number) => void, release: () => void = () => {}) {
    this.command = command;
    this.log = log;
    this.env = env;
    this.done = done;
    this.release = release;
  }

  start(): void {
    cluster.on('message', (worker, message) => this.#onMessage(worker, message));
    cluster.on('exit', (worker, code, signal) => this.#onExit(worker, code, signal));
    void waitForSignal(['SIGINT', 'SIGTERM'], (signal) => this.#killAll(signal)).then((signal) => this.#stopAll(0, signal));
    process.on('SIGHUP', () => this.#onHangup());
    // One that came while tsgi loaded asked for nothing more: no worker is started yet, and each
    // loads the module and reads the files on disk now.
    releaseHangups();
    const timeout = this.command.timeoutWorkerHealthcheck;
    if (timeout > 0) {
      const watchdog = (this.#watchdog = new Watchdog<Worker>(timeout, Date.now()));
      setInterval(() => this.#killSilent(watchdog), watchdog.interval).unref();
    }
    this.#fork();
  }

  /** Kills (SIGKILL) the listening workers whose heartbeats stopped; #onExit replaces them. */
  #killSilent(watchdog: Watchdog<Worker>): void {
    for (const [worker, silence] of watchdog.silent(Date.now())) {
      const slot = this.#slots.get(worker);
      if (slot === undefined || this.#stopping) continue;
      const seconds = this.command.timeoutWorkerHealthcheck / 1000;
      this.log.error(
        `worker ${worker.process.pid} has not answered for ${(silence / 1000).toFixed(1)} s, over --timeout-worker-healthcheck ${seconds}: killing it`,
      );
      worker.process.kill('SIGKILL');
    }
  }

  #fork(replacing?: Slot): Slot {
    const worker = cluster.fork(this.env);
    // A worker re-emits its process's 'error' (a message that could not be sent to it as it
    // died, a kill that failed): without a listener that would end the primary, and every
    // worker with it. Logged; its 'exit' replaces it as for any death.
    worker.on('error', (error: Error) => this.log.error(`worker ${worker.process.pid ?? '?'}: ${error.message}`));
    let settle!: (ready: boolean) => void;
    const ready = new Promise<boolean>((resolve) => (settle = resolve));
    const slot: Slot = { worker, started: Date.now(), listening: false, leaving: false, stopped: false, signalled: undefined, replacing, handover: undefined, ready, settle };
    this.#slots.set(worker, slot);
    return slot;
  }

  #onMessage(worker: Worker, message: unknown): void {
    const slot = this.#slots.get(worker);
    if (slot === undefined || !isServingMessage(message) || this.#stopping) return;
    if (message.type === 'tsgi:alive') {
      if (slot.listening) this.#watchdog?.seen(worker, Date.now());
      return;
    }
    if (message.type === 'tsgi:signalled') {
      // Its exit says the rest: one the primary asked for (leaving) is expected.
      slot.signalled = message.signal;
      return;
    }
    if (message.type === 'tsgi:stopping') {
      // An unhandled rejection: it no longer takes connections and exits once its requests in
      // flight are done. Its successor starts now, as for a death (same backoff), not then.
      if (slot.leaving) return;
      slot.leaving = true;
      slot.stopped = true; // its exit is expected: no second line then
      const delay = this.#backoff.next(Date.now() - slot.started);
      this.log.warning(`worker ${worker.process.pid} is stopping after an unhandled promise rejection; starting a new one${delay === 0 ? '' : ` in ${delay / 1000} s`}`);
      this.#forkAfter(delay);
      return;
    }
    if (message.type === 'tsgi:retiring') {
      // It asks again every n requests; while its successor loads, that is no news.
      if (slot.leaving) return;
      this.log.info(`Worker ${worker.process.pid} served ${message.served} requests (--limit-max-requests): replacing it`);
      void this.#replace(slot);
      return;
    }
    slot.listening = true;
    slot.settle(true);
    this.#watchdog?.seen(worker, Date.now());
    this.log.debug(`worker ${worker.process.pid} listening`);
    if (!this.#announced) {
      // The first worker is up, so the app loads: announce, and start the others.
      this.#announced = true;
      // A worker listening on the primary's `--uds` socket cannot name its path (Node names no
      // Unix socket it did not bind itself): the primary names it.
      const url = this.command.uds !== undefined ? `unix:${this.command.uds}` : message.url;
      announce(this.log, { url, command: this.command, version: version() });
      for (let i = 1; i < this.command.workers; i++) this.#fork();
    }
  }

  #onExit(worker: Worker, code: number | null, signal: string | null): void {
    const slot = this.#slots.get(worker);
    if (slot === undefined) return;
    this.#slots.delete(worker);
    this.#watchdog?.forget(worker);
    slot.settle(false);
    if (this.#stopping) {
      this.#finishIfIdle();
      return;
    }
    const pid = worker.process.pid;
    if (slot.leaving) {
      // Replaced: its successor listens. Dead before, its successor (still loading) takes its
      // place, or is replaced as any other if it fails: only the log has to say so.
      if (!slot.stopped) this.log.error(`worker ${pid} died (${how(code, signal)}) while its replacement starts`);
      return;
    }
    if (slot.replacing !== undefined && !slot.listening && this.#slots.has(slot.replacing.worker)) {
      // A successor that could not start is not replaced in turn: the worker it was to
      // replace keeps serving (#replace), so the count stays at --workers. (Had that one died
      // meanwhile, this is replaced as any other.)
      this.log.warning(`worker ${pid} failed to start (${how(code, signal)}): worker ${slot.replacing.worker.process.pid} stays`);
      return;
    }
    if (!this.#announced) {
      // The first worker could not start; it has said why on stderr.
      if (code !== 1 && code !== 2) this.log.error(`worker ${pid} failed to start (${how(code, signal)})`);
      this.#stopAll(code || 1);
      return;
    }
    if (slot.signalled !== undefined && code === 0) {
      // Stopped on purpose (`kill -TERM <pid>`), gracefully: no crash, so no back-off pause and
      // no count in the streak; replaced at once, as gunicorn's arbiter does.
      this.log.warning(`worker ${pid} stopped cleanly on a ${slot.signalled} not sent by the primary; starting a new one`);
      this.#fork();
      return;
    }
    const delay = this.#backoff.next(Date.now() - slot.started);
    const when = delay === 0 ? '' : ` in ${delay / 1000} s`;
    // An error, as src/cli/log.ts ranks a worker's death (gunicorn logs it so): a crash loop
    // stays in sight at --log-level error.
    this.log.error(`worker ${pid} ${slot.listening ? 'died' : 'failed to start'} (${how(code, signal)}); starting a new one${when}`);
    this.#forkAfter(delay);
  }

  /** Forks a worker once a back-off pause of `delay` ms is over, unless the primary stops first or a SIGHUP ends it (#endPauses). */
  #forkAfter(delay: number): void {
    const timer = setTimeout(() => {
      this.#paused.delete(timer);
      if (!this.#stopping) this.#fork();
    }, delay);
    this.#paused.add(timer);
  }

  /**
   * SIGHUP, a deploy: the workers waiting out a back-off pause start now, with a new streak
   * (the new code may not crash), and a round replaces the others. Ignored, and logged as in one
   * process, during the graceful shutdown.
   */
  #onHangup(): void {
    if (this.#stopping) {
      this.log.warning(SIGHUP_DURING_SHUTDOWN);
      return;
    }
    void this.#rollingRestart(this.#endPauses());
  }

  /** Ends the back-off pauses under way, forking their workers now; answers those workers. */
  #endPauses(): Set<Slot> {
    const started = new Set<Slot>();
    if (this.#paused.size === 0) return started;
    this.log.info(`SIGHUP: starting ${countWorkers(this.#paused.size)}, ending the back-off pause`);
    for (const timer of this.#paused) {
      clearTimeout(timer);
      started.add(this.#fork());
    }
    this.#paused.clear();
    this.#backoff.reset();
    return started;
  }

  /**
   * Forks a replacement for `old` and stops `old` once it listens; `false` if it failed to
   * start. A replacement already under way is not started twice: its outcome is answered.
   */
  #replace(old: Slot): Promise<boolean> {
    if (old.handover !== undefined) return old.handover;
    if (old.leaving) return Promise.resolve(true); // stopping
    old.leaving = true;
    old.handover = this.#handOver(old);
    return old.handover;
  }

  async #handOver(old: Slot): Promise<boolean> {
    const next = this.#fork(old);
    const timeout = this.command.timeoutWorkerHealthcheck;
    // A successor that hangs while loading (a top-level await that never settles) would hold
    // the round for ever, every later SIGHUP ignored: past the health check's timeout it
    // counts as failed to start. Only successors: the worker they replace goes on serving
    // meanwhile, so a slow start costs a retry, never capacity (a first start has no deadline,
    // unless a SIGHUP round waits on it: #settled).
    const deadline = timeout > 0 ? setTimeout(() => this.#abandon(next, timeout), timeout) : undefined;
    const ready = await next.ready;
    clearTimeout(deadline);
    if (!ready) {
      old.leaving = false;
      old.handover = undefined;
      return false;
    }
    // One that died meanwhile (#onExit logged it) has nothing left to stop: its SIGKILL timer
    // would report it still running, its requests cut, once the graceful time is over.
    if (this.#slots.has(old.worker)) this.#terminate(old);
    return true;
  }

  /** Kills `slot`, a worker that has not listened `timeout` ms after it was forked. */
  #abandon(slot: Slot, timeout: number): void {
    if (slot.listening || !this.#slots.has(slot.worker)) return;
    this.log.error(`worker ${slot.worker.process.pid} is not listening ${timeout / 1000} s after it started (--timeout-worker-healthcheck): killing it`);
    slot.worker.process.kill('SIGKILL');
  }

  /** Runs a round of SIGHUP, or another after the one under way; `fresh`: workers it started (#endPauses), not to replace. */
  async #rollingRestart(fresh: ReadonlySet<Slot>): Promise<void> {
    if (this.#rolling) {
      // Workers this round replaced already may have loaded the code of the deploy before.
      this.#again = true;
      this.log.info('SIGHUP during a round of replacements: another round follows it');
      return;
    }
    this.#rolling = true;
    let skip = fresh;
    do {
      this.#again = false;
      await this.#round(skip);
      skip = new Set();
    } while (this.#again && !this.#stopping);
    this.#rolling = false;
  }

  /**
   * One round of SIGHUP: replaces every worker there is now one by one, until one fails to
   * start. A worker still starting (the first ones, the replacement of one that died, the
   * successor of a `--limit-max-requests` replacement) may have loaded the module before the
   * deploy: it is replaced too, once it listens; the listening ones go first meanwhile. Those
   * in `skip` (started by this SIGHUP at the end of a back-off pause) are not; with none left,
   * the round says nothing.
   */
  async #round(skip: ReadonlySet<Slot>): Promise<void> {
    const current = [...this.#slots.values()]
      .filter((slot) => !slot.leaving && !skip.has(slot))
      .sort((a, b) => Number(b.listening) - Number(a.listening));
    if (current.length > 0 || skip.size === 0) this.log.info(`SIGHUP: replacing ${countWorkers(current.length)} one by one`);
    // The new workers read the TLS files again: a renewal that left an expired one is said once.
    if (this.command.ssl !== undefined) warnOfValidity(this.log, this.command.ssl.certfile);
    if (current.length === 0 && skip.size > 0) return;
    let replaced = 0;
    for (const slot of current) {
      if (this.#stopping) return;
      const target = await this.#settled(slot);
      if (this.#stopping) return;
      if (target === undefined) continue; // it died: the worker forked in its place is new
      if (!(await this.#replace(target))) {
        // A successor stopped by SIGTERM/SIGINT did not fail: the server is shutting down.
        if (!this.#stopping) this.log.error('a new worker failed to start: the running workers stay');
        return;
      }
      replaced++;
    }
    this.log.info(`Replaced ${countWorkers(replaced)}`);
  }

  /**
   * Waits until `slot`, a worker of a SIGHUP round, is no longer starting, and answers the one
   * serving in its place then: itself once it listens; if it failed, the worker it was to
   * replace (`--limit-max-requests`), which stays; `undefined` if there is none (a worker forked
   * later in its place loads the new code). A worker that is not a successor (a first start, the
   * replacement of one that died) gets `--timeout-worker-healthcheck` from its start, as a
   * successor does: a round cannot wait for ever on one that hangs while loading.
   */
  async #settled(slot: Slot): Promise<Slot | undefined> {
    if (!slot.listening) {
      const old = slot.replacing;
      if (old?.handover !== undefined) {
        // #replace holds the deadline of its successor.
        if (!(await old.handover)) return this.#slots.has(old.worker) ? old : undefined;
      } else {
        const timeout = this.command.timeoutWorkerHealthcheck;
        // Not the very first worker: the primary exits when that one fails.
        const deadline =
          timeout > 0 && this.#announced
            ? setTimeout(() => this.#abandon(slot, timeout), Math.max(0, slot.started + timeout - Date.now()))
            : undefined;
        await slot.ready;
        clearTimeout(deadline);
      }
    }
    return this.#slots.has(slot.worker) ? slot : undefined;
  }

  /**
   * SIGTERM, then SIGKILL once the graceful shutdown and a margin have passed (at most
   * {@link MAX_TIMER}: a longer timer would fire at once, killing it with its requests).
   */
  #terminate(slot: Slot): void {
    const { worker } = slot;
    slot.stopped = true;
    worker.process.kill('SIGTERM');
    const graceful = this.command.timeoutGracefulShutdown;
    const delay = Math.min(graceful + KILL_MARGIN, MAX_TIMER);
    const timer = setTimeout(() => {
      // Its requests in flight are lost: the log says why, or a stop looks clean.
      this.log.warning(
        `worker ${worker.process.pid} still running ${delay / 1000} s after SIGTERM (--timeout-graceful-shutdown ${graceful / 1000} and ${(delay - graceful) / 1000} s more): killing it`,
      );
      worker.process.kill('SIGKILL');
    }, delay);
    timer.unref();
    worker.process.once('exit', () => clearTimeout(timer));
  }

  /** A second SIGINT/SIGTERM: SIGKILL to every worker left, their requests in flight lost (logged). */
  #killAll(signal: string): void {
    if (this.#slots.size > 0) this.log.warning(`${signal} during the graceful shutdown: killing ${countWorkers(this.#slots.size)}`);
    for (const { worker } of this.#slots.values()) worker.process.kill('SIGKILL');
  }

  #stopAll(code: number, signal?: string): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#exitCode = code;
    if (signal !== undefined) {
      this.log.info(`Stopping on ${signal}: requests in flight get ${this.command.timeoutGracefulShutdown / 1000} s`);
    }
    // No worker starts after this, so the socket the primary holds is closed now, as gunicorn's
    // arbiter closes its listeners before it stops the workers: once the workers have closed
    // theirs too, a new connection is refused at once (a `--uds` path is removed), where it
    // would wait in the queue of a socket no one accepts on, to be reset at the exit.
    this.release();
    for (const slot of this.#slots.values()) {
      slot.leaving = true;
      this.#terminate(slot);
    }
    this.#finishIfIdle();
  }

  #finishIfIdle(): void {
    if (!this.#stopping || this.#slots.size > 0) return;
    cluster.removeAllListeners('message');
    cluster.removeAllListeners('exit');
    this.done(this.#exitCode);
  }
}

/**
 * Runs the primary of `tsgi serve --workers N` until a signal stops it (answering 0) or the
 * first worker fails to start (answering that worker's exit code, or 1 if a signal killed it).
 *
 * Workers are started with this process's own `argv` and `execArgv`, so they parse the same
 * command line; node:cluster tells them apart (`cluster.isWorker`).
 *
 * @throws LoadError when the module file does not exist, UsageError for unusable TLS files
 *   (both checked before forking); rejects with the `listen` error when the address (`--host`
 *   and `--port`, `--uds`) cannot be bound.
 */
export async function runPrimary(command: ServeCommand & { workers: number }, io: CliIO = processIO): Promise<number> {
  const log = serveLog(command, io);
  // Marked as its own: a node:cluster worker of another primary (pm2's) serves as one process.
  const env: Record<string, string> = { ...(await prepareManaged(command)), [WORKER_ENV]: '1' };
  if (command.ssl !== undefined) warnOfValidity(log, command.ssl.certfile);
  // The primary holds the socket, so that it stays open while no worker runs: `--fd`'s, and
  // with one worker the port or `--uds` socket (src/cli/worker-socket.ts; not where Node gives
  // no way to bind it, nor on Windows: node:cluster then, as with two workers or more, which
  // keep node:cluster's round robin).
  let socket: WorkerSocket | undefined;
  if (command.fd !== undefined) shareActivatedSocket(command.fd);
  else if (command.workers === 1) {
    socket = await bindWorkerSocket(command.uds !== undefined ? { path: command.uds, mode: command.udsMode } : { host: command.host, port: Number(env[PORT_ENV]) });
    if (socket !== undefined) {
      shareActivatedSocket(socket.fd);
      env[WORKER_SOCKET_ENV] = '1';
    }
  }
  // Workers hold SIGUSR1 back from their first instruction, before their listener exists.
  cluster.setupPrimary({ execArgv: childExecArgv() });
  const code = await new Promise<number>((done) => new Primary(command, log, env, done, () => socket?.close()).start());
  socket?.close();
  return code;
}
