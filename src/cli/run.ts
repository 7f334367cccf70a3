/**
 * The `tsgi` command: {@link run} parses the command line and runs the command, answering the
 * exit code. src/cli/main.ts is the executable that calls it.
 *
 * Exit codes: 0 for help, version, or a server stopped by SIGINT/SIGTERM; 1 for a runtime
 * failure (the address cannot be bound, the module threw while loading); 2 for bad
 * arguments, a missing module or export, or an export that is not an app (one line on
 * stderr).
 *
 * @module
 */
import cluster from 'node:cluster';
import { SERVE_USAGE, USAGE, UsageError, parseCommandLine } from './args.ts';
import { ignoreDebugSignal } from './debug-signal.ts';
import { type CliIO, processIO } from './io.ts';
import { listenFailure } from './listen-error.ts';
import { LoadError, ModuleError } from './load.ts';
import { serveLog } from './log.ts';
import { RELOAD_CHILD_ENV, isOwnWorker } from './messages.ts';
import { takeActivatedSocket } from './socket-activation.ts';
import { version } from './version.ts';

/** Why `--workers` is refused in a node:cluster worker that `tsgi serve --workers` did not start. */
const FOREIGN_WORKERS =
  "--workers cannot start workers in a node:cluster worker of another primary (pm2's cluster mode): let that primary start the instances (pm2 -i), or run tsgi serve --workers alone (pm2's fork mode)";

/** The first line of an error's message, for one-line reports. */
function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n', 1)[0]!;
}

/**
 * Runs `tsgi` with `argv` (the arguments after the script, `process.argv.slice(2)`) and
 * answers the exit code; resolves only once a server has stopped.
 */
export async function run(argv: readonly string[], io: CliIO = processIO, env = process.env): Promise<number> {
  let fd: number | undefined;
  let uds: string | undefined;
  try {
    const command = parseCommandLine(argv, env);
    if (command.command === 'serve') ({ fd, uds } = command);
    switch (command.command) {
      case 'help':
        io.stdout.write(command.topic === 'serve' ? SERVE_USAGE : USAGE);
        return 0;
      case 'version':
        io.stdout.write(`${version()}\n`);
        return 0;
      case 'serve': {
        // Loaded only now, so that --help and a bad flag answer at once.
        const { workers } = command;
        // Every process of the command: no debugger opened to every local user.
        ignoreDebugSignal(serveLog(command, io));
        // In the process systemd started: a worker's descriptor 3 is not the socket (shareActivatedSocket).
        if (command.fd !== undefined && cluster.isPrimary) takeActivatedSocket(command.fd, env);
        // pm2's cluster mode runs the command in node:cluster workers of its daemon, where no
        // worker can be forked: that primary starts the instances, each one process.
        if (workers !== undefined && cluster.isWorker && !isOwnWorker()) throw new UsageError(FOREIGN_WORKERS);
        if (workers !== undefined && cluster.isPrimary) return await (await import('./workers.ts')).runPrimary({ ...command, workers }, io);
        if (command.reload && env[RELOAD_CHILD_ENV] !== '1') return await (await import('./reload.ts')).runReloader(command, io);
        return await (await import('./serve.ts')).serveInProcess(command, io);
      }
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof LoadError) {
      io.stderr.write(`tsgi: ${firstLine(error)}\n`);
      return 2;
    }
    if (error instanceof ModuleError) {
      const cause = error.cause;
      io.stderr.write(`tsgi: ${error.message}:\n${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}\n`);
      return 1;
    }
    io.stderr.write(`tsgi: ${listenFailure(error, fd, uds) ?? firstLine(error)}\n`);
    return 1;
  }
}
