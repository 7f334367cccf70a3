/**
 * Shared helpers of the response-filter tests (test/filters-*.test.ts): a page streamed in
 * small chunks, and the body a filtered app sends over a socket on 127.0.0.1.
 */
import { Buffer } from 'node:buffer';
import { expect } from 'vitest';
import { type App, serve } from 'tsgi';
import { request } from './node-helpers.ts';

/** An app answering `html` as UTF-8 HTML in chunks of 5 bytes, so a filter meets text cut anywhere. */
export function chunkedPage(html: string): App {
  return (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/html; charset=utf-8']]);
    return (async function* () {
      const bytes = Buffer.from(html, 'utf8');
      for (let at = 0; at < bytes.length; at += 5) yield bytes.subarray(at, at + 5);
    })();
  };
}

/** The UTF-8 body `app` answers to a GET of `path` (with `headers`) under `serve()`, checked to be a 200. */
export async function servedBody(app: App, path = '/', headers?: Record<string, string>): Promise<string> {
  const server = await serve(app, { host: '127.0.0.1', port: 0 });
  try {
    const reply = await request(`${server.url}${path}`, headers === undefined ? undefined : { headers });
    expect(reply.status).toBe(200);
    return reply.body.toString('utf8');
  } finally {
    await server.close();
  }
}
