/**
 * A Worker for test/runtimes/workerd-framing.test.ts: `/echo` answers what the app saw of a
 * request's framing (`CONTENT_LENGTH`, `Transfer-Encoding`, the body); `/both` and
 * `/both-stream` answer with an app that gives both `Content-Length` and
 * `Transfer-Encoding: chunked` (a body in hand, and one streamed in two chunks 20 ms apart).
 */
import { Request, Response } from 'tsgi';
import type { App } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';

const encoder = new TextEncoder();
const BOTH: Array<[string, string]> = [
  ['Content-Type', 'text/plain'],
  ['Content-Length', '10'],
  ['Transfer-Encoding', 'chunked'],
];

async function* twoChunks(): AsyncGenerator<Uint8Array> {
  yield encoder.encode('hello');
  await new Promise((resolve) => setTimeout(resolve, 20));
  yield encoder.encode('world');
}

const both: App = (_environ, start) => (start('200 OK', BOTH), [encoder.encode('helloworld')]);
const bothStream: App = (_environ, start) => (start('200 OK', BOTH), twoChunks());

const echo = Request.application(async (req) => {
  const body = await req.text();
  return Response.json({ contentLength: req.environ.CONTENT_LENGTH ?? null, transferEncoding: req.headers.get('Transfer-Encoding'), body });
});

const app: App = (environ, start) => {
  if (environ.PATH_INFO === '/both') return both(environ, start);
  if (environ.PATH_INFO === '/both-stream') return bothStream(environ, start);
  return echo(environ, start);
};

export default { fetch: toFetchHandler(app) };
