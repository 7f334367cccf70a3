/**
 * `tsgi serve --workers N`: the primary process of a node:cluster. It forks one worker
 * running {@link serveInProcess}; once that one is listening it prints `Serving on …` and
 * forks the other N-1 on the same address (the cluster shares the listening socket, also for
 * `--port 0`). It replaces a worker that dies, and on SIGINT/SIGTERM stops them all with
 * SIGTERM (SIGKILL after {@link WORKER_STOP_TIMEOUT}, or at a second signal).
 *
 * When the first worker dies before listening (a missing module or export, an address in
 * use), nothing is replaced: the primary exits with that worker's exit code, so `--workers`
 * fails the same way, with the same one-line message, as a single process does.
 *
 * @module
 */
import cluster, { type Worker } from 'node:cluster';
import { statSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { resolve } from 'node:path';
import type { ServeCommand } from './args.ts';
import { type CliIO, processIO, waitForSignal } from './io.ts';
import { LoadError } from './load.ts';
import { WORKER_PORT_ENV, isListeningMessage } from './serve.ts';

/** After SIGTERM, how long workers get to finish before SIGKILL (milliseconds). */
export const WORKER_STOP_TIMEOUT = 15_000;

/** Pause before replacing a worker that died before it was listening (milliseconds). */
export const RESTART_DELAY = 1_000;

/** A port free on `host` now: bound with port 0, then released. */
function freePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolvePort(port));
    });
  });
}

/**
 * Runs the primary of `tsgi serve --workers N` until a signal stops it (answering 0) or the
 * first worker fails to start (answering that worker's exit code, or 1 if a signal killed it).
 *
 * Workers are started with this process's own `argv` and `execArgv`, so they parse the same
 * command line; node:cluster tells them apart (`cluster.isWorker`). For `--port 0` the primary
 * picks a free port first and gives it to every worker (`TSGI_WORKER_PORT`).
 *
 * @throws LoadError when the module file does not exist (checked before forking); rejects
 *   when `--port 0` cannot be bound on the host.
 */
export async function runPrimary(command: ServeCommand & { workers: number }, io: CliIO = processIO): Promise<number> {
  const file = resolve(command.module);
  let exists = false;
  try {
    exists = statSync(file).isFile();
  } catch {
    // reported below
  }
  if (!exists) throw new LoadError(`cannot find module '${command.module}' (no file ${file})`);
  // For `--port 0`, pick the port here: workers all bind it, so a worker started after the
  // last one died (which closes the cluster's shared socket) comes back on the same port.
  const env: Record<string, string> = {};
  if (command.port === 0) env[WORKER_PORT_ENV] = String(await freePort(command.host));

  return new Promise<number>((done) => {
    const listening = new Set<Worker>();
    let announced = false;
    let stopping = false;
    let exitCode = 0;
    let killTimer: NodeJS.Timeout | undefined;
    const fork = (): Worker => cluster.fork(env);

    const workers = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);

    const stopAll = (code: number): void => {
      if (stopping) return;
      stopping = true;
      exitCode = code;
      for (const worker of workers()) worker.process.kill('SIGTERM');
      killTimer = setTimeout(() => {
        for (const worker of workers()) worker.process.kill('SIGKILL');
      }, WORKER_STOP_TIMEOUT);
      killTimer.unref();
      finishIfIdle();
    };

    const finishIfIdle = (): void => {
      if (!stopping || workers().length > 0) return;
      clearTimeout(killTimer);
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      done(exitCode);
    };

    const onMessage = (worker: Worker, message: unknown): void => {
      if (!isListeningMessage(message) || stopping) return;
      listening.add(worker);
      if (!announced) {
        // The first worker is up, so the app loads: announce, and start the others.
        announced = true;
        io.stdout.write(`Serving on ${message.url}\n`);
        for (let i = 1; i < command.workers; i++) fork();
      }
    };

    const onExit = (worker: Worker, code: number | null, signal: string | null): void => {
      const started = listening.delete(worker);
      if (stopping) {
        finishIfIdle();
        return;
      }
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (!announced) {
        // The first worker could not start; it has said why on stderr.
        if (code !== 1 && code !== 2) io.stderr.write(`tsgi: worker ${worker.process.pid} failed to start (exit ${how})\n`);
        stopAll(code || 1);
        return;
      }
      io.stderr.write(`tsgi: worker ${worker.process.pid} ${started ? 'died' : 'failed to start'} (exit ${how}); starting a new one\n`);
      // A worker that died before listening is replaced after a pause, not in a tight loop.
      if (started) fork();
      else {
        setTimeout(() => {
          if (!stopping) fork();
        }, RESTART_DELAY);
      }
    };

    cluster.on('message', onMessage);
    cluster.on('exit', onExit);
    void waitForSignal(['SIGINT', 'SIGTERM'], () => {
      for (const worker of workers()) worker.process.kill('SIGKILL');
    }).then(() => stopAll(0));
    fork();
  });
}
