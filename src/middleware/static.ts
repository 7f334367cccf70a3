/**
 * Static files: {@link fileApp} serves one file, {@link directoryApp} a directory tree.
 * See docs/middleware-static.md.
 *
 * @module
 */
export { type FileOptions, fileApp, serveFile } from './static-file.ts';
export { type DirectoryOptions, directoryApp } from './static-directory.ts';
export { isBelow, joinBelow, realBelow, safeSegments } from './safe-path.ts';
