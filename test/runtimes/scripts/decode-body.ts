/**
 * Run by test/runtimes/decode-body.test.ts under Bun and Deno: test/runtimes/scripts/decode-body-app.ts
 * served by the runtime, the probe's requests over a real socket. Prints the probe's lines.
 */
import { handler } from './decode-body-app.ts';
import { probe } from './decode-body-probe.ts';
import { listenOnRuntime } from './listen.ts';

const { port, stop } = listenOnRuntime(handler);
for (const line of await probe(`http://127.0.0.1:${port}`)) console.log(line);
await stop();
process.exit(0);
