/**
 * Run by test/runtimes/proxy-runtimes.test.ts under Bun and Deno: `proxy(upstream)` (the
 * upstream's URL is the first argument) through `toFetchHandler`, no server of its own. Prints
 * one line per request: the status and the body.
 */
import { toFetchHandler } from 'tsgi/fetch';
import { proxy } from 'tsgi/proxy';

const upstream = proxy(process.argv[2] ?? '');
const handler = toFetchHandler(upstream);
for (const path of ['/hello', '/echo']) {
  const init = path === '/echo' ? { method: 'POST', body: 'ping' } : {};
  const response = await handler(new globalThis.Request(`http://127.0.0.1${path}`, init));
  console.log(response.status, await response.text());
}
await upstream.close();
