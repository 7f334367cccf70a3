/**
 * Run by test/runtimes/fetch-no-host.test.ts under Bun and Deno: an HTTP/1.0 request without
 * Host (a health check's) to `toFetchHandler` served by the runtime, over a real socket. Bun
 * hands such a request a URL of its path alone (`/api/users/1?x=1`), Deno one of `localhost`
 * and its port. Prints what the app saw of its path, query and scheme, and the URL it rebuilt;
 * then, under `trustedHosts: ['example.com']`, the status and the `Host` the app saw (`-` for
 * none) of such a request, of one with a trusted `Host` and of one with another.
 */
import net from 'node:net';
import { Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { listenOnRuntime } from './listen.ts';

const app = Request.application((req) =>
  new Response(`${req.pathInfo} ${req.queryString} ${req.scheme} ${new URL(req.url).pathname}`),
);
/** The status line and body of the answer to `request`, sent over a socket to `port`. */
function ask(port: number, request: string): Promise<string> {
  return new Promise<string>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => (text += data));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(`${text.slice(0, text.indexOf('\r\n'))} | ${text.slice(text.indexOf('\r\n\r\n') + 4).trimEnd()}`));
  });
}

const { port, stop } = listenOnRuntime(toFetchHandler(app));
for (const target of ['/api/users/1?x=1', '/health']) console.log(await ask(port, `GET ${target} HTTP/1.0\r\n\r\n`));
void stop();

const trusting = listenOnRuntime(toFetchHandler(Request.application((req) => new Response(`host ${req.environ.HTTP_HOST ?? '-'}`)), { trustedHosts: ['example.com'] }));
for (const fields of ['', 'Host: example.com\r\n', 'Host: evil.example\r\n']) console.log(await ask(trusting.port, `GET /health HTTP/1.0\r\n${fields}\r\n`));
void trusting.stop();
process.exit(0);
