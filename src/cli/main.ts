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
 * See {@link run} in src/cli/run.ts for the commands and exit codes.
 *
 * @module
 */
import { ignoreLogWriteErrors } from './io.ts';
import { run } from './run.ts';

ignoreLogWriteErrors();
process.exit(await run(process.argv.slice(2)));
