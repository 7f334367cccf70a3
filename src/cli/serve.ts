/**
 * `tsgi serve` in one process: load the app, serve it with `serve()` from the Node adapter,
 * print `Serving on http://HOST:PORT`, close gracefully on SIGINT/SIGTERM. The same code runs
 * in each worker of `--workers`, reporting to the primary instead of printing.
 *
 * @module
 */
import cluster from 'node:cluster';
import { type ServerHandle, serve } from '../adapters/node/serve.ts';
import type { ServeCommand } from './args.ts';
import { type CliIO, processIO, waitForSignal } from './io.ts';
import { loadApp } from './load.ts';

/**
 * Environment variable set by the primary of `--workers --port 0` on its workers: the port it
 * picked, which they bind instead of `0`, so every worker (and every replacement) shares it.
 */
export const WORKER_PORT_ENV = 'TSGI_WORKER_PORT';

/** The message a worker sends the primary once it is listening. */
export interface ListeningMessage {
  readonly type: 'tsgi:listening';
  /** The bound URL, e.g. `http://127.0.0.1:8000`. */
  readonly url: string;
}

/** Whether `message` is a {@link ListeningMessage}. */
export function isListeningMessage(message: unknown): message is ListeningMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as ListeningMessage).type === 'tsgi:listening' &&
    typeof (message as ListeningMessage).url === 'string'
  );
}

/**
 * Serves `command` in this process until SIGINT or SIGTERM, then closes the server (requests
 * in flight finish; a second signal cuts the remaining connections) and answers exit code 0.
 *
 * In a cluster worker, `tsgi.multiprocess` is true, the bound URL goes to the primary as a
 * {@link ListeningMessage} instead of stdout, and SIGINT is ignored: the primary, which gets
 * the terminal's Ctrl-C too, stops the workers with SIGTERM.
 *
 * @throws LoadError / ModuleError from {@link loadApp}; rejects when the address cannot be
 *   bound (`EADDRINUSE`, `EACCES`).
 */
export async function serveInProcess(command: ServeCommand, io: CliIO = processIO): Promise<number> {
  const worker = cluster.isWorker;
  let handle: ServerHandle | undefined;
  // Listen for signals from the start, so one that comes while loading still stops cleanly.
  if (worker) process.on('SIGINT', () => {});
  const stopped = waitForSignal(worker ? ['SIGTERM'] : ['SIGINT', 'SIGTERM'], () => void handle?.close({ timeout: 0 }));
  const app = await loadApp(command.module, command.exportName);
  const workerPort = worker ? process.env[WORKER_PORT_ENV] : undefined;
  const port = workerPort ? Number(workerPort) : command.port;
  handle = await serve(app, { host: command.host, port, multiprocess: worker });
  if (worker) process.send?.({ type: 'tsgi:listening', url: handle.url } satisfies ListeningMessage);
  else io.stdout.write(`Serving on ${handle.url}\n`);
  await stopped;
  await handle.close();
  return 0;
}
