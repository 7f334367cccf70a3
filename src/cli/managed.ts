/**
 * What a managing process (the primary of `--workers`, the supervisor of `--reload`) checks
 * and prepares before it starts any serving process: the module exists, the TLS files work, a
 * stale Unix socket is gone, the address can be listened on (so an address in use stops the
 * command at once, where the supervisor of `--reload` would otherwise wait for a change), and
 * the port (`--port 0` made one free port) is fixed for every process it starts, whatever
 * `$PORT` in `--env-file` says by then.
 *
 * @module
 */
import { type AddressInfo, createServer } from 'node:net';
import { resolve } from 'node:path';
import type { ServeCommand } from './command.ts';
import { LoadError, isFileAt } from './load.ts';
import { PORT_ENV } from './messages.ts';
import { loadTls } from './tls.ts';
import { freeSocketPath } from './uds.ts';

/**
 * Binds `port` on `host` (`0`: a free one) and releases it, answering the port bound: the
 * address can be listened on now. Rejects with the `listen` error otherwise (`EADDRINUSE`,
 * `EACCES`, `EADDRNOTAVAIL`, a `--host` that does not resolve), which the CLI reports as a
 * failure to listen, as the serving process itself would have.
 */
function probePort(host: string, port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, host, () => {
      const bound = (probe.address() as AddressInfo).port;
      probe.close(() => resolvePort(bound));
    });
  });
}

/**
 * The variables of `--env-file` that only a manager uses, read once at its start: `$PORT` (the
 * port it announced) and `$WEB_CONCURRENCY` (how many workers it keeps).
 */
const START_ONLY = ['PORT', 'WEB_CONCURRENCY'] as const;

/**
 * Checks `command` before forking and answers the environment for the serving processes
 * (`TSGI_BOUND_PORT`: the port every serving process binds, unless on `--uds` or `--fd`), with
 * the `$PORT` and `$WEB_CONCURRENCY` that `--env-file` gave at the start, if it gave them: a
 * serving process reads the file again, and the environment wins over the file, so a value
 * edited there since (one no process would take, `WEB_CONCURRENCY=auto`) does not stop the
 * workers of a SIGHUP, or the restarts of `--reload`, from starting.
 *
 * @throws LoadError when the module file does not exist; UsageError for unusable TLS files
 *   or a `--uds` path that is not a socket; rejects with the `listen` error when the port
 *   cannot be bound on the host (`EADDRINUSE`: another process listens there), or a process
 *   listens on the `--uds` socket.
 */
export async function prepareManaged(command: ServeCommand): Promise<Record<string, string>> {
  const file = resolve(command.module);
  if (!isFileAt(file)) throw new LoadError(`cannot find module '${command.module}' (no file ${file})`);
  if (command.ssl !== undefined) loadTls(command.ssl);
  const env: Record<string, string> = {};
  for (const name of START_ONLY) if (command.environment[name] !== undefined) env[name] = command.environment[name];
  if (command.uds !== undefined) await freeSocketPath(command.uds);
  // The port is the manager's, for good: a worker started later (SIGHUP, a replacement) reads
  // --env-file again, and a $PORT edited there since would move it off the announced port.
  else if (command.fd === undefined) env[PORT_ENV] = String(await probePort(command.host, command.port));
  return env;
}
