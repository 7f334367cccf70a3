/**
 * Run by test/runtimes/fetch-client-gone.test.ts under Bun and Deno: `accessLog` under
 * `toFetchHandler` served by the runtime, an app that never answers, a client over a real
 * socket that hangs up while it waits. Prints the status and outcome of each line logged
 * within 2 s of the hang-up (while the app still hangs), or `no line`; then those of a POST
 * whose client stays while the app reads its body and answers 100 ms later.
 */
import net from 'node:net';
import type { App } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { accessLog } from 'tsgi/middleware';
import { listenOnRuntime } from './listen.ts';

const lines: string[] = [];
let entered: () => void = () => undefined;
const inApp = new Promise<void>((resolve) => (entered = resolve));
const stuck: App = async (environ, startResponse) => {
  if (environ.PATH_INFO === '/stuck') {
    entered();
    return new Promise(() => {}); // never
  }
  // A client that stays: its body read, then an answer a little later (no 499 meanwhile).
  for await (const _chunk of environ['tsgi.input'] as AsyncIterable<Uint8Array>);
  await new Promise((resolve) => setTimeout(resolve, 100));
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('ok')];
};
const app = accessLog(stuck, {
  format: 'json',
  log: {
    write: (line: string) => {
      const { status, outcome } = JSON.parse(line) as { status: number; outcome: string };
      lines.push(`${status} ${outcome}`);
    },
  },
});

const { port, stop } = listenOnRuntime(toFetchHandler(app));
const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /stuck HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
socket.on('error', () => undefined);
await inApp;
socket.destroy();
for (let waited = 0; waited < 2000 && lines.length === 0; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
await new Promise((resolve) => setTimeout(resolve, 50));
console.log(lines.length === 0 ? 'no line' : lines.join('\n'));
lines.length = 0;
const answer = await fetch(`http://127.0.0.1:${port}/stays`, { method: 'POST', body: 'x'.repeat(10_000) });
await answer.text();
await new Promise((resolve) => setTimeout(resolve, 50));
console.log(lines.join('\n'));
void stop();
process.exit(0);
