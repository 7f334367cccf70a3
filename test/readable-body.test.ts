/**
 * A Node `Readable` used as a body and dropped before its first chunk is destroyed, so a file
 * stream gives its descriptor back: on HEAD, on a 304, when a middleware closes the body unread,
 * and when the client leaves before the first chunk.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { wrapBody } from 'tsgi/middleware';
import { request, start, within } from './node-helpers.ts';

/** A readable that never produces data on its own, so only a destroy() ends it. */
function idleStream(): Readable {
  return new Readable({ read() {} });
}

describe('a Readable body dropped unread is destroyed', () => {
  it('by Response.respond on HEAD', async () => {
    const stream = idleStream();
    const body = new Response(stream).respond(Request.blank('/', { method: 'HEAD' }).environ, () => {});
    expect(body).toEqual([]);
    expect(await within(() => stream.destroyed, 1000)).toBe(true);
  });

  it('by a conditional 304', async () => {
    const stream = idleStream();
    const res = new Response(stream, { conditionalResponse: true });
    res.etag = 'v1';
    const req = Request.blank('/', { headers: { 'If-None-Match': '"v1"' } });
    expect((await req.getResponse(res)).statusCode).toBe(304);
    expect(await within(() => stream.destroyed, 1000)).toBe(true);
  });

  it('by wrapBody closed before its first chunk', async () => {
    const stream = idleStream();
    const closed: string[] = [];
    const body = wrapBody(stream, { close: () => void closed.push('close') }) as AsyncIterable<Uint8Array>;
    await body[Symbol.asyncIterator]().return?.();
    expect(closed).toEqual(['close']);
    expect(await within(() => stream.destroyed, 1000)).toBe(true);
  });

  it('by the server when the client leaves before the first chunk', async () => {
    const streams: Readable[] = [];
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      const stream = idleStream();
      streams.push(stream);
      return stream;
    };
    const server = await start(app);
    const controller = new AbortController();
    const pending = fetch(server.url, { signal: controller.signal }).catch(() => 'aborted');
    expect(await within(() => streams.length === 1, 2000)).toBe(true);
    controller.abort();
    expect(await pending).toBe('aborted');
    expect(await within(() => streams[0]!.destroyed, 2000)).toBe(true);
    expect(server.log.text).toBe(''); // a hang-up is not an app error
    // The server still answers.
    const ok = await start((_e, sr) => {
      sr('200 OK', []);
      return [new TextEncoder().encode('ok')];
    });
    expect((await request(ok.url)).body.toString()).toBe('ok');
  });
});
