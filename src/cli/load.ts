/**
 * Loading the app named on the command line: `import()` of a .ts or .js file, then one of
 * its exports, checked to be an app.
 *
 * @module
 */
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type App, toApp } from '../gateway/types.ts';
import { isThenable } from '../gateway/body.ts';
import { nodeFrameworkKind } from '../gateway/foreign-app.ts';
import { isRouteMapLike } from '../gateway/not-an-app.ts';

/**
 * The module or export named on the command line cannot be served: no such file, a file Node
 * does not import as a module, no such export, or an export that is not an app. The CLI prints the one-line message, exit 2.
 */
export class LoadError extends Error {
  override name = 'LoadError';
}

/**
 * The module threw (or failed to compile) while being imported; `cause` is its error. The CLI
 * prints it with its stack, exit 1.
 */
export class ModuleError extends Error {
  override name = 'ModuleError';
}

/**
 * Imports `modulePath` (resolved against `cwd`; Node runs `.ts` files by type stripping) and
 * answers its export `exportName` as an {@link App}: an app function as is, an object with
 * `respond()` bound to it, a promise of either awaited first.
 *
 * @throws LoadError when the file does not exist, is not a module Node imports (`app.py`, a
 *   `.json`), has no such export (naming the one export that looks like an app, if only one
 *   does), or the export is not an app (`undefined`, a string, an
 *   object without `respond`…, an Express, Connect or Koa app, named as such).
 * @throws ModuleError when importing the module throws.
 */
export async function loadApp(modulePath: string, exportName: string, cwd: string = process.cwd()): Promise<App> {
  const file = resolve(cwd, modulePath);
  if (!isFileAt(file)) throw new LoadError(`cannot find module '${modulePath}' (no file ${file}${sibling(modulePath, file, exportName)})`);
  let namespace: Record<string, unknown>;
  const url = pathToFileURL(file).href;
  try {
    namespace = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    const typescript = /\.[cm]?ts$/.test(file);
    // The file itself is not a module Node imports (app.py, a .json needing `with { type }`):
    // the command line is wrong, not the module. The same error about a file the module
    // imports is the module's own, and keeps its stack.
    const aboutFile = typeof message === 'string' && (message.includes(`"${url}"`) || message.endsWith(` for ${file}`));
    if (!typescript && aboutFile && (code === 'ERR_UNKNOWN_FILE_EXTENSION' || code === 'ERR_IMPORT_ATTRIBUTE_MISSING')) {
      throw new LoadError(`cannot load '${modulePath}' as a module: serve a .js, .mjs, .cjs, .ts, .mts or .cts file`);
    }
    const why = code === 'ERR_UNKNOWN_FILE_EXTENSION' && typescript ? typeScriptHint() : typeImportHint(error);
    const hint = why === undefined ? '' : ` (${why})`;
    throw new ModuleError(`error while loading '${modulePath}'${hint}`, { cause: error });
  }
  if (!Object.hasOwn(namespace, exportName)) {
    const names = Object.keys(namespace);
    const known = names.length === 0 ? 'it has no exports' : `its exports: ${names.join(', ')}`;
    throw new LoadError(`module '${modulePath}' has no export '${exportName}' (${known})${otherApp(namespace, modulePath)}`);
  }
  let value = namespace[exportName];
  if (isThenable(value)) {
    try {
      value = await value;
    } catch (error) {
      throw new ModuleError(`export '${exportName}' of '${modulePath}' is a promise that rejected`, { cause: error });
    }
  }
  const framework = nodeFrameworkKind(value);
  if (framework !== undefined) {
    throw new LoadError(
      `export '${exportName}' of '${modulePath}' is ${framework.framework} ${framework.kind}, not a tsgi app: ${framework.run}, and mount tsgi apps inside it with toNodeHandler (docs/deployment.md)`,
    );
  }
  try {
    return toApp(value as App);
  } catch {
    const kind =
      value === null || value === undefined
        ? String(value)
        : Array.isArray(value)
          ? 'an array'
          : isRouteMapLike(value)
            ? 'a RouteMap, the rules alone: serve the app it builds, export const app = routes.app({ ...handlers })'
            : typeof value === 'object'
              ? 'an object without respond()'
              : `a ${typeof value}`;
    throw new LoadError(
      `export '${exportName}' of '${modulePath}' is not an app (a function or an object with respond()): got ${kind}`,
    );
  }
}

/** @internal True when `path` is a file; false when it is absent, a folder, or cannot be read. Never throws. */
export function isFileAt(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The extensions `tsgi serve` loads, in the order a name without one is looked for. */
const MODULE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

/**
 * The file there is for a module named without its extension (`hello:app`, as uvicorn names
 * a Python module) or with `.js` for a `.ts` file, and the spec that serves it; empty when
 * there is none.
 */
function sibling(modulePath: string, file: string, exportName: string): string {
  const stem = file.endsWith('.js') ? file.slice(0, -3) : file;
  const given = modulePath.endsWith('.js') ? modulePath.slice(0, -3) : modulePath;
  for (const extension of MODULE_EXTENSIONS) {
    if (stem + extension === file) continue;
    if (isFileAt(stem + extension)) return `; there is ${basename(stem + extension)}: serve '${given}${extension}:${exportName}'`;
  }
  return '';
}

/**
 * The spec to serve when exactly one export of the module looks like an app (a function, or an
 * object with `respond()`; not a class, nor an Express, Connect or Koa app, which would be
 * refused): `export default app` or `export const handler = …` served without its name. One
 * value exported under two names (`module.exports = app`, which Node names `default` and
 * `module.exports`) is one app, named `default`. Empty when none or several do.
 */
function otherApp(namespace: Record<string, unknown>, modulePath: string): string {
  const apps = new Map<unknown, string>();
  for (const name of Object.keys(namespace)) {
    const value = namespace[name];
    if (!looksLikeApp(value)) continue;
    if (!apps.has(value) || name === 'default') apps.set(value, name);
  }
  return apps.size === 1 ? `: serve it as '${modulePath}:${[...apps.values()][0]}'` : '';
}

/** True for a function that is no class, or an object with `respond()`, that is no Express, Connect or Koa app. */
function looksLikeApp(value: unknown): boolean {
  if (nodeFrameworkKind(value) !== undefined) return false;
  if (typeof value === 'function') return !Function.prototype.toString.call(value).startsWith('class');
  return typeof value === 'object' && value !== null && typeof (value as { respond?: unknown }).respond === 'function';
}


/**
 * The hint for a type imported from a TypeScript module without `import type`
 * (`import { Greeting } from './shapes.ts'` of an `interface Greeting`): Node erases the type
 * but keeps the import, which then fails to link with V8's `SyntaxError: The requested module
 * './shapes.ts' does not provide an export named 'Greeting'`. `undefined` for any other error,
 * and for a module that is not TypeScript (which has no types to forget).
 */
function typeImportHint(error: unknown): string | undefined {
  if (!(error instanceof SyntaxError)) return undefined;
  const match = /^The requested module '[^']+\.[cm]?tsx?' does not provide an export named '([^']+)'$/.exec(error.message);
  if (match === null) return undefined;
  const name = match[1]!;
  return `if '${name}' is a type, import it with \`import type { ${name} }\`: Node erases types, not the imports of them`;
}

/**
 * What to do when this Node cannot import a `.ts` file: Node strips types by default from
 * 22.18 (and 23.6), behind `--experimental-strip-types` from 22.6; an older Node has no such
 * flag to suggest.
 */
function typeScriptHint(): string {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const flag = major > 22 || (major === 22 && minor >= 6) ? ', or pass --experimental-strip-types' : ` (this is ${process.version})`;
  return `this Node cannot run .ts files: use Node >= 22.18${flag}`;
}

/**
 * Rejects if the event loop empties while `loading` is still pending: an exported promise that
 * waits on nothing (`new Promise(() => {})`, a client that dropped its connection without
 * rejecting) can never settle, and Node would end the process with its own status 13 and a
 * warning about an unsettled top-level await. Rejected with an `Error` naming the export
 * instead, which `tsgi serve` reports on one line with status 1 (a load that failed at run
 * time). Never settles otherwise.
 */
export function stalledLoad(loading: Promise<unknown>, modulePath: string, exportName: string): Promise<never> {
  return new Promise<never>((_, reject) => {
    const stalled = () =>
      reject(new Error(`the export '${exportName}' of '${modulePath}' is a promise that can never settle: nothing it awaits is pending`));
    process.once('beforeExit', stalled);
    const done = () => process.off('beforeExit', stalled);
    loading.then(done, done);
  });
}
