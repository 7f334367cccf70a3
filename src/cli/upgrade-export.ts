/**
 * The WebSocket side of the module `tsgi serve` runs: the export named by `--upgrade`, next to
 * the app, becomes `serve()`'s `upgrade` option, since the CLI owns the server and the module
 * has no handle to attach one to. Nothing is picked up by its name alone: a module's
 * `upgrade()` (a migration step) is never called unless the command line names it.
 *
 * @module
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { UpgradeHandler } from '../adapters/node/upgrade.ts';
import { LoadError } from './load.ts';

/**
 * The export `exportName` of `modulePath` (resolved against `cwd`; already imported by
 * `loadApp`, so Node answers it from its cache), the handler of `--upgrade <export>`.
 *
 * @throws LoadError when the module has no such export, or it is no function (a usage error,
 *   exit 2).
 */
export async function loadUpgrade(modulePath: string, exportName: string, cwd: string = process.cwd()): Promise<UpgradeHandler> {
  const namespace = (await import(pathToFileURL(resolve(cwd, modulePath)).href)) as Record<string, unknown>;
  const purpose = 'which --upgrade hands the Upgrade requests (WebSockets) to';
  if (!Object.hasOwn(namespace, exportName)) {
    const functions = Object.keys(namespace).filter((name) => typeof namespace[name] === 'function');
    const known = functions.length === 0 ? 'it exports no function' : `its functions: ${functions.join(', ')}`;
    throw new LoadError(`module '${modulePath}' has no export '${exportName}', ${purpose} (${known})`);
  }
  const value = namespace[exportName];
  if (typeof value !== 'function') {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
    throw new LoadError(`export '${exportName}' of '${modulePath}' is not a function (req, socket, head, context), ${purpose}: got ${kind}`);
  }
  return value as UpgradeHandler;
}
