/**
 * `fromFetchHandler` of a handler that answers what `fetch()` gave it (Hono's proxy pattern,
 * `return fetch(upstream)`) under `toFetchHandler` on Bun and Deno: their `fetch()` decodes
 * some codings (Bun: `gzip`, `deflate`, `br`, `zstd`; Deno: `gzip`, `br`) and keeps the
 * upstream's `Content-Encoding` and `Content-Length`, as Node's does; the client gets the text
 * under every coding, as on Node, where a `gzip` upstream was a logged 500 (`the app declared
 * Content-Length: … but its body has … bytes`). Runs
 * test/runtimes/scripts/fetch-decoded-upstream.ts over a real socket on 127.0.0.1.
 */
import { expect, it } from 'vitest';
import { SCRIPT_RUNTIMES, runScript } from './run-script.ts';

it.each(SCRIPT_RUNTIMES)('answers what fetch() gave a fetch handler as the text under every coding, under %s', async (runtime) => {
  const stdout = await runScript(runtime, 'fetch-decoded-upstream.ts');
  const lines = stdout.trim().split('\n');
  expect(lines).toEqual([
    'gzip: 200 text',
    'br: 200 text',
    'deflate: 200 text',
    'zstd: 200 text',
    'gzip, br: 200 text',
    // Decoded on both runtimes: its GET's answer goes without the two fields, so does the HEAD's.
    'HEAD gzip: head - -',
    // A Range GET: Deno's fetch() asks for identity and passes the 206 on coded, which keeps its fields.
    'range gzip: 206 text',
    'own: 200 text',
    'nothing logged',
  ]);
});
