/**
 * Run by test/runtimes/fetch-cut-upload-raw.test.ts under Bun and Deno: `toFetchHandler` served
 * by the runtime, a raw app that reads `tsgi.input` itself and lets its failure propagate (under
 * `errors` and `accessLog`, or bare under `accessLog`), one that reads it with `req.bytes()`
 * under `accessLog`, and a client over a real socket that
 * sends part of a declared body and hangs up. Prints every line logged: the handler's and
 * `errors`' error log, `accessLog`'s status and outcome; `nothing logged` when none.
 */
import net from 'node:net';
import { type App, Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { accessLog, errors } from 'tsgi/middleware';
import { listenOnRuntime } from './listen.ts';

const lines: string[] = [];
const errorLog = (tag: string) => ({ write: (line: string) => void lines.push(`${tag}: ${line.split('\n')[0]}`) });
let settled: () => void = () => undefined;

const raw: App = async (environ, startResponse) => {
  try {
    for await (const _chunk of environ['tsgi.input'] as AsyncIterable<Uint8Array>);
  } finally {
    setTimeout(settled, 300); // the logs of the failure are written by then
  }
  startResponse('200 OK', []);
  return [];
};
/** An app that reads the body with `req.bytes()`, which answers the cut `400` itself. */
const reading = Request.application(async (req) => {
  try {
    await req.bytes();
  } finally {
    setTimeout(settled, 300);
  }
  return new Response('read');
});
const access = { format: 'json' as const, log: { write: (line: string) => void lines.push(`access: ${JSON.parse(line).status} ${JSON.parse(line).outcome}`) } };

for (const [name, app] of [
  ['errors', accessLog(errors(raw, { log: errorLog('errors') }), access)],
  ['bare', accessLog(raw, access)],
  ['bytes', accessLog(reading, access)],
] as const) {
  const done = new Promise<void>((resolve) => (settled = resolve));
  const { port, stop } = listenOnRuntime(toFetchHandler(app, { log: errorLog('handler') }));
  const socket = net.connect(port, '127.0.0.1', () => {
    socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n');
    socket.write('x'.repeat(1000));
    setTimeout(() => socket.destroy(), 200);
  });
  socket.on('error', () => undefined);
  await done;
  console.log(`${name}: ${lines.length === 0 ? 'nothing logged' : lines.join(' | ')}`);
  lines.length = 0;
  void stop();
}
process.exit(0);
