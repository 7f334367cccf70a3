/**
 * Run by test/runtimes/fetch-late-client-address.test.ts under Bun and Deno: an app under
 * `toFetchHandler`, served by the runtime over a real socket on 127.0.0.1, that reads the
 * client's address only once its answer is over: after a whole answer was received
 * (`/whole`), and in the `finally` of a streamed body whose client hung up (`/stream`). Prints
 * one line per case: the address and whether the port is known, or what the read threw.
 */
import net from 'node:net';
import { Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { listenOnRuntime } from './listen.ts';

/** The address and port of `req` as a line, or the error their read threw. */
function address(req: Request): string {
  try {
    return `${String(req.remoteAddr)} ${req.environ.REMOTE_PORT === undefined ? 'no port' : 'port'}`;
  } catch (error) {
    return `threw ${String(error)}`;
  }
}

let whole: Request | undefined;
let streamLine: ((line: string) => void) | undefined;
const streamRead = new Promise<string>((resolve) => (streamLine = resolve));

const app = Request.application((req) => {
  if (req.pathInfo === '/whole') {
    whole = req;
    return new Response('ok');
  }
  return new Response(
    (async function* () {
      try {
        yield 'first\n';
        // Waits for the client to leave: req.signal aborts then.
        await new Promise((resolve) => req.signal.addEventListener('abort', resolve, { once: true }));
      } finally {
        streamLine!(address(req));
      }
    })(),
  );
});

/** Sends `GET path` over a new socket; resolves with what came once `until` is in it, then hangs up. */
function get(port: number, path: string, until: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
    socket.on('error', () => undefined);
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes(until)) {
        socket.destroy();
        resolve();
      }
    });
  });
}

const { port, stop } = listenOnRuntime(toFetchHandler(app));
await get(port, '/whole', '\r\n\r\nok');
await new Promise((resolve) => setTimeout(resolve, 100));
console.log(`whole ${address(whole!)}`);
await get(port, '/stream', 'first');
const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('no finally'), 2000));
console.log(`stream ${await Promise.race([streamRead, timeout])}`);
void stop();
process.exit(0);
