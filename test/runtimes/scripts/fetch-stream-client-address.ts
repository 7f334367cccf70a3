/**
 * Run by test/runtimes/fetch-stream-client-address.test.ts under Bun and Deno: `accessLog`
 * under `toFetchHandler` served by the runtime, a server-sent event stream whose client, over
 * a real socket, reads the first event and hangs up, as a browser tab closed on a live
 * dashboard. Prints the line's client address, status and outcome (`no line` when none came
 * within 2 s).
 */
import net from 'node:net';
import { Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { accessLog } from 'tsgi/middleware';
import { listenOnRuntime } from './listen.ts';

const lines: string[] = [];
const feed = Request.application((req) =>
  Response.eventStream(
    (async function* () {
      yield { id: '1', data: 'first' };
      // Waits for the client to leave: req.signal aborts then.
      await new Promise((resolve) => req.signal.addEventListener('abort', resolve, { once: true }));
    })(),
    { heartbeat: 0 },
  ),
);
const app = accessLog(feed, {
  format: 'json',
  log: {
    write: (line: string) => {
      const { remote_addr, status, outcome } = JSON.parse(line) as { remote_addr: string | null; status: number; outcome: string };
      lines.push(`${String(remote_addr)} ${status} ${outcome}`);
    },
  },
});

const { port, stop } = listenOnRuntime(toFetchHandler(app));
const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
socket.on('error', () => undefined);
let received = '';
await new Promise<void>((resolve) =>
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    if (received.includes('data: first')) resolve();
  }),
);
socket.destroy();
for (let waited = 0; waited < 2000 && lines.length === 0; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
console.log(lines.length === 0 ? 'no line' : lines.join('\n'));
void stop();
process.exit(0);
