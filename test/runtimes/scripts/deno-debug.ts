/**
 * Run by test/runtimes/deno-permissions.test.ts under `deno run --allow-net` alone:
 * `errors(app, { debug: true })` is built (it looks for `NODE_ENV=production`, which Deno
 * refuses to read without `--allow-env`) and answers a failing request through
 * `toFetchHandler`, no server. Prints the status and whether the body is the traceback.
 */
import { toFetchHandler } from 'tsgi/fetch';
import { errors } from 'tsgi/middleware';

const handler = toFetchHandler(
  errors(
    () => {
      throw new Error('broken on purpose');
    },
    { debug: true, log: { write: () => {} } },
  ),
);
const response = await handler(new globalThis.Request('http://127.0.0.1/', { headers: { Accept: 'text/plain' } }));
console.log(response.status, (await response.text()).includes('broken on purpose'));
