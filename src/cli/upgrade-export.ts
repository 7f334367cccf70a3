/**
 * The WebSocket side of the module `tsgi serve` runs: its `upgrade` export, next to the app,
 * becomes `serve()`'s `upgrade` option, since the CLI owns the server and the module has no
 * handle to attach one to.
 *
 * @module
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { UpgradeHandler } from '../adapters/node/upgrade.ts';
import { LoadError } from './load.ts';

/** The name of the export `tsgi serve` hands HTTP/1.1 `Upgrade` requests to. */
export const UPGRADE_EXPORT = 'upgrade';

/**
 * The `upgrade` export of `modulePath` (resolved against `cwd`; already imported by `loadApp`,
 * so Node answers it from its cache), or `undefined` when the module has none, or when the
 * app served is that export itself.
 *
 * @throws LoadError when the export is there but no function.
 */
export async function loadUpgrade(modulePath: string, exportName: string, cwd: string = process.cwd()): Promise<UpgradeHandler | undefined> {
  if (exportName === UPGRADE_EXPORT) return undefined;
  const namespace = (await import(pathToFileURL(resolve(cwd, modulePath)).href)) as Record<string, unknown>;
  if (!Object.hasOwn(namespace, UPGRADE_EXPORT)) return undefined;
  const value = namespace[UPGRADE_EXPORT];
  if (typeof value !== 'function') {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
    throw new LoadError(`export '${UPGRADE_EXPORT}' of '${modulePath}' is not a function (req, socket, head, shutdown), which tsgi serve hands Upgrade requests (WebSockets) to: got ${kind}`);
  }
  return value as UpgradeHandler;
}
