/**
 * Builds dist/: the declarations with `tsc` (one `.d.ts` and declaration map per source file, as
 * editors and the strict-consumer check read them) and the JavaScript with Rolldown, one file per
 * entry point of package.json's `exports` and the `tsgi` bin, the code they share split into
 * `dist/chunks/` (every class exists once, whichever entry points load it).
 *
 * Why bundle: Node resolves, reads, compiles and links every ES module on its own, and the
 * package root alone reached 149 of tsgi's; bundled, it loads 27 files, and `import 'tsgi'` takes
 * about half the time and 12 MB less resident memory (docs/performance.md "Start-up"). The
 * output is Rollup's kind: ES module declarations kept as written, so class and function names
 * stay what the source says (`Response.name`), and a bundler building a Worker from the package
 * still leaves out whatever the Worker does not use (`sideEffects: false`). Nothing is minified;
 * source maps point into src/, which the package ships.
 *
 * Run by `npm run build` (and `npm pack`, through `prepack`).
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'rolldown';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');

interface PackageJson {
  exports: Record<string, string | { 'tsgi-source'?: string; default?: string }>;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
}
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageJson;

/** `dist/x/y.js` → `x/y`, the name Rolldown gives the entry's file. */
function entryName(built: string): string {
  if (!/^\.\/dist\/.+\.js$/.test(built)) throw new Error(`package.json names ${built}, not a file of dist/`);
  return built.slice('./dist/'.length, -'.js'.length);
}

/** Each entry's file name → its source: `exports` (`default` ← `tsgi-source`) and the bin. */
function entryPoints(): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue; // ./package.json
    const source = target['tsgi-source'];
    if (!source || !target.default) throw new Error(`package.json exports["${subpath}"] names no tsgi-source or default`);
    entries[entryName(target.default)] = path.join(root, source);
  }
  for (const bin of Object.values(pkg.bin)) entries[entryName(bin)] = path.join(root, 'src', `${entryName(bin)}.ts`);
  return entries;
}

const dependencies = Object.keys(pkg.dependencies);
/**
 * Node's modules and the package's dependencies stay imports: the consumer installs them (and
 * their fixes). Any other package src/ imports is refused, not bundled in unseen: a devDependency
 * a module of src/ started to use belongs in `dependencies`.
 */
function external(id: string): boolean {
  if (id.startsWith('node:')) return true;
  if (id.startsWith('.') || path.isAbsolute(id) || id.startsWith('\0')) return false;
  if (dependencies.some((name) => id === name || id.startsWith(`${name}/`))) return true;
  throw new Error(`src/ imports ${JSON.stringify(id)}, which package.json's dependencies do not list`);
}

rmSync(dist, { recursive: true, force: true });
execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--emitDeclarationOnly'], { cwd: root, stdio: 'inherit' });
await build({
  input: entryPoints(),
  platform: 'node',
  external,
  logLevel: 'warn',
  output: {
    dir: dist,
    format: 'esm',
    entryFileNames: '[name].js',
    // One folder below dist/, as deep as dist/cli/: `new URL('../../package.json', import.meta.url)` holds in either.
    chunkFileNames: 'chunks/[name]-[hash].js',
    sourcemap: true,
    sourcemapExcludeSources: true,
    comments: { legal: false, annotation: true, jsdoc: false },
  },
});
for (const bin of Object.values(pkg.bin)) chmodSync(path.join(root, bin), 0o755);
