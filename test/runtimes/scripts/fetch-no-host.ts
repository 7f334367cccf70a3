/**
 * Run by test/runtimes/fetch-no-host.test.ts under Bun and Deno: an HTTP/1.0 request without
 * Host (a health check's) to `toFetchHandler` served by the runtime, over a real socket. Bun
 * hands such a request a URL of its path alone (`/api/users/1?x=1`). Prints what the app saw
 * of its path, query and scheme, and the URL it rebuilt.
 */
import net from 'node:net';
import { Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { listenOnRuntime } from './listen.ts';

const app = Request.application((req) =>
  new Response(`${req.pathInfo} ${req.queryString} ${req.scheme} ${new URL(req.url).pathname}`),
);
const { port, stop } = listenOnRuntime(toFetchHandler(app));
for (const target of ['/api/users/1?x=1', '/health']) {
  const answer = await new Promise<string>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.0\r\n\r\n`));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => (text += data));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
  });
  console.log(`${answer.slice(0, answer.indexOf('\r\n'))} | ${answer.slice(answer.indexOf('\r\n\r\n') + 4)}`);
}
void stop();
process.exit(0);
