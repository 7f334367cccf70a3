#!/usr/bin/env node
/**
 * The `tsgi` executable (package.json `bin`, built to dist/cli/main.js).
 *
 * ```sh
 * tsgi serve examples/demo.ts:app --port 8000
 * tsgi serve app.ts --workers 4        # export `app`, four processes
 * tsgi --help
 * ```
 *
 * It first turns on Node's module compile cache (src/cli/compile-cache.ts: in
 * `$NODE_COMPILE_CACHE`, or else in `<tmpdir>/node-compile-cache` when no other user can write
 * it; `NODE_DISABLE_COMPILE_CACHE=1` turns it off): tsgi's modules and the app's, TypeScript
 * included, are compiled once and read back from disk by every later process (each worker, a
 * replaced worker, each `--reload` restart). A cache that cannot be written changes nothing.
 * The rest of tsgi is imported after that, so it is cached too.
 *
 * See {@link run} in src/cli/run.ts for the commands and exit codes.
 *
 * @module
 */
import { turnOnCompileCache } from './compile-cache.ts';
import { holdHangups } from './early-hangup.ts';

// Before tsgi's modules load: a SIGHUP meanwhile would end the process (src/cli/early-hangup.ts).
holdHangups();
turnOnCompileCache();
const { ignoreLogWriteErrors } = await import('./io.ts');
const { run } = await import('./run.ts');

ignoreLogWriteErrors();
process.exit(await run(process.argv.slice(2)));
