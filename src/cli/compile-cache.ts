/**
 * Node's module compile cache for `tsgi serve` (`module.enableCompileCache()`, Node 22.8 and
 * later): the V8 code of each module, tsgi's and the app's, TypeScript included, written once
 * and read back by every later process (each worker, a replaced worker, each `--reload`
 * restart), which then starts in about half the CPU time.
 *
 * Node runs the code it reads back from the cache, so the folder must be one no other user can
 * write. Node's default, `node-compile-cache` in the temporary folder, is shared on Linux
 * (`/tmp`): whoever creates it first owns it, and Node neither checks its owner nor the owner
 * of the files in it. tsgi takes that folder only when it is this user's own and no one else's
 * to write (created `0700` when missing), and otherwise starts without the cache, which costs
 * the speed-up alone. `$NODE_COMPILE_CACHE`, the operator's choice, is taken as it is, and
 * `NODE_DISABLE_COMPILE_CACHE=1` turns the cache off.
 *
 * @module
 */
import module from 'node:module';
import { lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Turns on the compile cache for this process, in `$NODE_COMPILE_CACHE` when `env` sets it,
 * else in `<tmpdir>/node-compile-cache` when that folder is safe ({@link isOwnPrivateFolder});
 * not at all when `env` has `NODE_DISABLE_COMPILE_CACHE` (any value, as Node reads it).
 * Never throws: a cache that cannot be turned on changes nothing but the start-up time.
 */
export function turnOnCompileCache(env: NodeJS.ProcessEnv = process.env): void {
  // Node's own switch, whatever its value (`1`, even `0` or empty): no folder made either.
  if (module.enableCompileCache === undefined || env.NODE_DISABLE_COMPILE_CACHE !== undefined) return;
  if (env.NODE_COMPILE_CACHE) {
    module.enableCompileCache();
    return;
  }
  const folder = join(tmpdir(), 'node-compile-cache');
  if (isOwnPrivateFolder(folder)) module.enableCompileCache(folder);
}

/**
 * True when `folder` is a folder (not a link) owned by this process's user that neither its
 * group nor others can write; created with mode `0700` when missing. Where there are no user
 * ids (Windows, whose temporary folder is the user's own), a folder is enough.
 */
function isOwnPrivateFolder(folder: string): boolean {
  try {
    mkdirSync(folder, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return false;
  }
  try {
    const stat = lstatSync(folder);
    if (!stat.isDirectory()) return false;
    const uid = process.getuid?.();
    return uid === undefined || (stat.uid === uid && (stat.mode & 0o022) === 0);
  } catch {
    return false;
  }
}
