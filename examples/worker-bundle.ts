/**
 * Bundles examples/worker.ts into one ES module for workerd, the way wrangler does it: esbuild,
 * with the `node:` modules left to the runtime (`nodejs_compat`). Wrangler users need none of
 * this (`wrangler deploy` bundles); it is what runs the Worker locally on plain workerd.
 *
 * ```sh
 * node --conditions=tsgi-source examples/worker-bundle.ts out/worker.js
 * ```
 *
 * CommonJS dependencies (busboy) `require('stream')`; an ES module has no `require`, so each
 * such call is bundled as a small module that imports `node:stream` and exports it. The
 * runtime's own modules (`cloudflare:workers`, for `env` at module scope) stay imports, as
 * wrangler leaves them.
 *
 * @module
 */
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type Plugin, build } from 'esbuild';

const BUILTINS = new Set(builtinModules);

/** `node:` modules stay imports for the runtime; `require()` of one becomes an import too. */
const nodeBuiltins: Plugin = {
  name: 'node-builtins',
  setup(builder) {
    builder.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (!BUILTINS.has(name)) return undefined;
      if (args.kind === 'require-call') return { path: `node:${name}`, namespace: 'node-require' };
      return { path: `node:${name}`, external: true };
    });
    builder.onLoad({ filter: /.*/, namespace: 'node-require' }, (args) => ({
      contents: `import builtin from '${args.path}';\nmodule.exports = builtin;\n`,
      loader: 'js',
    }));
  },
};

/**
 * Writes the bundle of `entry` (default examples/worker.ts) to `outfile`, `tsgi` taken from
 * source (the `tsgi-source` condition; an installed tsgi needs none).
 */
export async function bundleWorker(outfile: string, entry = fileURLToPath(new URL('./worker.ts', import.meta.url))): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2023',
    conditions: ['tsgi-source', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*'],
    plugins: [nodeBuiltins],
    logLevel: 'warning',
  });
}

if (import.meta.main) {
  const outfile = process.argv[2];
  if (!outfile) {
    console.error('usage: node --conditions=tsgi-source examples/worker-bundle.ts OUTFILE');
    process.exit(2);
  }
  await bundleWorker(outfile);
  console.log(`wrote ${outfile}`);
}
