/**
 * Watching a folder tree for `tsgi serve --reload`, robust to atomic saves (a temp file renamed
 * over the original, as `sed -i` and many editors save).
 *
 * On macOS and Windows, `fs.watch(root, { recursive: true })` is native (FSEvents,
 * ReadDirectoryChangesW) and names paths, so a file replaced by a rename is still seen. On Linux
 * (and the other platforms) Node emulates `recursive` with one inotify watch per file, which
 * follows the file's inode: once a file is renamed over, its watch stays on the unlinked inode
 * and later changes to that path go unseen. There each folder gets its own non-recursive watch
 * instead: a folder's watch reports its entries by name, whatever inode they have, and a `rename`
 * event for a folder adds or drops the watches under it.
 *
 * @module
 */
import { type Dirent, type FSWatcher, existsSync, lstatSync, readdirSync, watch } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Something to close. */
export interface TreeWatcher {
  close(): void;
}

/** Options of {@link watchTree}. */
export interface WatchTreeOptions {
  /** Whether a folder (relative to the root, never '') is skipped with all it holds. */
  readonly skipDir: (name: string) => boolean;
  /** A failure to watch a folder other than the root (a lack of inotify watches, say). */
  readonly onError?: ((error: Error, dir: string) => void) | undefined;
  /** Use `fs.watch`'s `recursive` (default: on macOS and Windows, where it is native). */
  readonly native?: boolean | undefined;
}

/** Whether `fs.watch(…, { recursive: true })` is native here (rather than emulated per file). */
export const NATIVE_RECURSIVE = process.platform === 'darwin' || process.platform === 'win32';

/**
 * Watches `root` and the folders under it: `onChange(name)` gets the path (relative to `root`)
 * of each entry created, changed, deleted or renamed, possibly more than once per change. A
 * folder that appears is watched too, and each file already in it reported.
 *
 * @throws the `fs.watch` error when `root` itself cannot be watched.
 */
export function watchTree(root: string, onChange: (name: string) => void, options: WatchTreeOptions): TreeWatcher {
  if (options.native ?? NATIVE_RECURSIVE) {
    const watcher = watch(root, { recursive: true }, (_event, name) => {
      if (name !== null) onChange(name);
    });
    return watcher;
  }
  let closed = false;
  /** Each watched folder (absolute path): its watch and the names of the files last seen in it. */
  const watched = new Map<string, { watcher: FSWatcher; files: Set<string> }>();

  /**
   * Closes the watches of `dir` and the folders under it, reporting each file last seen there
   * (a folder deleted or moved away takes its files with it).
   */
  const drop = (dir: string) => {
    for (const [path, { watcher, files }] of watched) {
      if (path === dir || path.startsWith(dir + sep)) {
        watcher.close();
        watched.delete(path);
        for (const file of files) onChange(relative(root, join(path, file)));
      }
    }
  };

  /** Watches `dir` and the folders under it; `report` tells each file found (a new folder). */
  const add = (dir: string, report: boolean) => {
    if (closed || watched.has(dir)) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, (event, name) => {
        if (name !== null) changed(dir, event, name);
      });
    } catch (error) {
      if (dir === root) throw error;
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') options.onError?.(error as Error, dir);
      return;
    }
    watcher.on('error', () => drop(dir));
    const files = new Set<string>();
    watched.set(dir, { watcher, files });
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // gone meanwhile, or not readable
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      // Symbolic links are not followed into (no cycles), as Node's own recursive watch.
      if (entry.isDirectory()) {
        if (!options.skipDir(relative(root, path))) add(path, report);
      } else {
        files.add(entry.name);
        if (report) onChange(relative(root, path));
      }
    }
  };

  const changed = (dir: string, event: string, name: string) => {
    const files = watched.get(dir)?.files;
    if (closed || files === undefined) return;
    if (event === 'rename' && !existsSync(dir)) {
      // The folder itself is gone (Linux tells its own watch, under the folder's name).
      drop(dir);
      return;
    }
    const path = join(dir, name);
    const rel = relative(root, path);
    if (event === 'rename') {
      let isDir: boolean | undefined;
      try {
        isDir = lstatSync(path).isDirectory();
      } catch {
        // deleted, or renamed away
      }
      if (isDir === false) files.add(name);
      else files.delete(name);
      // Whatever was watched at this path is gone (a folder created, deleted, renamed, or
      // deleted and created again): watch what is there now.
      drop(path);
      if (isDir === true && !options.skipDir(rel)) add(path, true);
    }
    onChange(rel);
  };

  add(root, false);
  return {
    close() {
      closed = true;
      for (const { watcher } of watched.values()) watcher.close();
      watched.clear();
    },
  };
}
