/**
 * A web `ReadableStream` body closed before its end (the client left, a HEAD answered with the
 * GET's fields, a layer that drops it) is cancelled with a reason its source can tell from a
 * failure: an `AbortError` `DOMException`. React's `renderToReadableStream` passes that reason
 * to `onError` for each boundary it abandons (docs/response.md, "Streaming server rendering").
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response, compose } from 'tsgi';
import { compress } from 'tsgi/middleware';
import { start, until } from './node-helpers.ts';

/**
 * A page that streams its first chunk at once and its rest never; records the cancel's reason.
 * `viaFetch`: the stream is the body of a fetch `Response` the app answers through
 * `Response.fromFetch` (a Remix or Hono handler's answer).
 */
function page(viaFetch = false): { app: App; reasons: unknown[] } {
  const reasons: unknown[] = [];
  const app = Request.application(() => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('<!DOCTYPE html><main>shell</main>'));
      },
      cancel(reason) {
        reasons.push(reason);
      },
    });
    if (viaFetch) return Response.fromFetch(new globalThis.Response(stream, { headers: { 'content-type': 'text/html' } }));
    return new Response(stream, { contentType: 'text/html' });
  });
  return { app, reasons };
}

function hangUpAfterFirstChunk(url: string): Promise<void> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', () => {});
  });
}

function head(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'HEAD', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

const isAbortError = (reason: unknown) => reason instanceof DOMException && reason.name === 'AbortError';

/** The two ways a body is closed early, each asserting the one cancel with an AbortError and a quiet log. */
function itIsCancelledWithAnAbortError(served: () => { app: App; reasons: unknown[] }): void {
  it('is cancelled with an AbortError when the client leaves mid-stream', async () => {
    const { app, reasons } = served();
    const server = await start(app);
    await hangUpAfterFirstChunk(`${server.url}/`);
    await until(() => reasons.length > 0);
    expect(reasons).toHaveLength(1);
    expect(isAbortError(reasons[0])).toBe(true);
    expect(server.log.text).toBe('');
  });

  it('is cancelled with an AbortError when a HEAD drops it unread', async () => {
    const { app, reasons } = served();
    const server = await start(app);
    expect(await head(`${server.url}/`)).toBe(200);
    await until(() => reasons.length > 0);
    expect(reasons).toHaveLength(1);
    expect(isAbortError(reasons[0])).toBe(true);
    expect(server.log.text).toBe('');
  });
}

describe.each([
  ['served as it is', (app: App) => app],
  ['under compress', (app: App) => compose(compress)(app)],
])('a ReadableStream body closed early, %s', (_name, wrap) => {
  itIsCancelledWithAnAbortError(() => {
    const { app, reasons } = page();
    return { app: wrap(app), reasons };
  });
});

describe('the body of a fetch Response answered through Response.fromFetch, closed early', () => {
  itIsCancelledWithAnAbortError(() => page(true));
});
