/**
 * Run by test/runtimes/fetch-cut-upload.test.ts under Bun and Deno: `toFetchHandler` served by
 * the runtime, a client over a real socket that sends half of a declared body and hangs up.
 * Prints what `req.bytes()` threw: the class and status of the error.
 */
import net from 'node:net';
import { HTTPException, Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { listenOnRuntime } from './listen.ts';


let report: (line: string) => void = () => undefined;
const outcome = new Promise<string>((resolve) => (report = resolve));

const handler = toFetchHandler(
  Request.application(async (req) => {
    try {
      await req.bytes();
      report('read whole');
    } catch (error) {
      report(error instanceof HTTPException ? `${error.constructor.name} ${error.code}` : `not an HTTP error: ${String(error)}`);
      throw error;
    }
    return new Response('ok');
  }),
);

const { port, stop } = listenOnRuntime(handler);

const socket = net.connect(port, '127.0.0.1', () => {
  socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n');
  socket.write('x'.repeat(1000));
  setTimeout(() => socket.destroy(), 200);
});
socket.on('error', () => undefined);
const timer = setTimeout(() => report('no outcome'), 5000);
console.log(await outcome);
clearTimeout(timer);
await stop();
process.exit(0);
