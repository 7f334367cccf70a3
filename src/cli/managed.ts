/**
 * What a managing process (the primary of `--workers`, the supervisor of `--reload`) checks
 * and prepares before it starts any serving process: the module exists, the TLS files work, a
 * stale Unix socket is gone, and `--port 0` becomes one port that every process binds.
 *
 * @module
 */
import { statSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { resolve } from 'node:path';
import type { ServeCommand } from './command.ts';
import { LoadError } from './load.ts';
import { PORT_ENV } from './messages.ts';
import { loadTls } from './tls.ts';
import { freeSocketPath } from './uds.ts';

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
 * Checks `command` before forking and answers the environment for the serving processes
 * (`TSGI_BOUND_PORT` for `--port 0`).
 *
 * @throws LoadError when the module file does not exist; UsageError for unusable TLS files
 *   or a `--uds` path that is not a socket; rejects when `--port 0` cannot be bound on the
 *   host, or a process listens on the `--uds` socket.
 */
export async function prepareManaged(command: ServeCommand): Promise<Record<string, string>> {
  const file = resolve(command.module);
  let exists = false;
  try {
    exists = statSync(file).isFile();
  } catch {
    // reported below
  }
  if (!exists) throw new LoadError(`cannot find module '${command.module}' (no file ${file})`);
  if (command.ssl !== undefined) loadTls(command.ssl);
  const env: Record<string, string> = {};
  if (command.uds !== undefined) await freeSocketPath(command.uds);
  else if (command.port === 0) env[PORT_ENV] = String(await freePort(command.host));
  return env;
}
