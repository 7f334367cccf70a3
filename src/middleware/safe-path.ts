/**
 * Joining a request path to a directory without ever leaving it (Werkzeug's `safe_join`,
 * plus a symlink check).
 *
 * @module
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';

/**
 * Splits a decoded `PATH_INFO` into the segments of a path below a root, or answers `null`
 * when the path could name something outside it or is not a plain path:
 *
 * - a `..` segment (however it was encoded on the wire: `%2e%2e`, `..%2f`; the server has
 *   already decoded `PATH_INFO`);
 * - a backslash anywhere (`..\\`, `%5c`: a separator on Windows, and a sign of probing
 *   elsewhere);
 * - a NUL character (`%00`), which truncates paths in C libraries;
 * - a segment that starts like a Windows drive (`C:`), or any `:` on Windows (drives,
 *   alternate data streams: `secret.txt::$DATA` opens `secret.txt`);
 * - a segment that ends in a dot or a space (`secret.txt.`, `secret.txt%20`, `dir.`), on
 *   every platform: Windows strips them and opens `secret.txt`, so a rule above that names
 *   the file as stored (a guard on `/secret.txt`, a deny list) would not see it asked for.
 *   nginx and IIS refuse such names on Windows; they are refused everywhere here so that a
 *   tree is served alike on all (Windows cannot hold such a name anyway).
 *
 * Empty and `.` segments are dropped (`//a/./b` is `a/b`; `directoryApp` redirects such a path to
 * its clean URL before it gets here), so an absolute `PATH_INFO` is
 * always taken relative to the root.
 */
export function safeSegments(pathInfo: string): string[] | null {
  if (pathInfo.includes('\0') || pathInfo.includes('\\')) return null;
  const segments: string[] = [];
  for (const segment of pathInfo.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return null;
    if (/^[A-Za-z]:/.test(segment) || (process.platform === 'win32' && segment.includes(':'))) return null;
    if (segment.endsWith('.') || segment.endsWith(' ')) return null;
    segments.push(segment);
  }
  return segments;
}

/**
 * Joins `segments` (from {@link safeSegments}) to `root` (an absolute path), checking again
 * that the result is `root` or below it.
 *
 * @returns the absolute path, or `null` when it would leave `root`.
 */
export function joinBelow(root: string, segments: readonly string[]): string | null {
  const full = path.join(root, ...segments);
  return isBelow(root, full) ? full : null;
}

/** True when `target` is `root` or inside it (both absolute and normalised). */
export function isBelow(root: string, target: string): boolean {
  const relative = path.relative(root, target);
  return relative === '' || (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative));
}

/**
 * Resolves symlinks in `target` and answers its real path when that is inside `realRoot`
 * (the root's own real path), else `null`: a symlink pointing out of the root is refused.
 * A missing file answers `null` too.
 */
export async function realBelow(realRoot: string, target: string): Promise<string | null> {
  let real: string;
  try {
    real = await realpath(target);
  } catch {
    return null;
  }
  return isBelow(realRoot, real) ? real : null;
}
