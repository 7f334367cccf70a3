/**
 * What a compressed event stream whose client left keeps alive: nothing. `compress` waits for
 * the app's next event with a listener on the server's shutdown signal (which lives as long as
 * the server); a stream whose next step never settles (an app that ignores `tsgi.signal` and
 * waits on something that never comes) must not leave that listener, and with it the whole
 * request, behind once the client is gone: a server answering many such streams over days grew
 * by one request per client.
 *
 * Runs with V8's `gc()` turned on for this worker.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { compress } from 'tsgi/middleware';
import { sleep, start } from './node-helpers.ts';
import { gc } from './gc.ts';

/** Opens the event stream on a raw connection, waits for its first bytes, and leaves. */
function openAndLeave(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', reject);
    socket.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\n\r\n');
    socket.once('data', (chunk: Buffer) => {
      socket.destroy();
      resolve(chunk.toString('latin1'));
    });
  });
}

describe('compress over an event stream whose client left', () => {
  for (const [what, type] of [
    ['an event stream', 'text/event-stream'],
    ['a plain stream (no shutdown watch)', 'text/plain'],
  ] as const) {
    it(`keeps none of the requests alive when the next step never settles (${what})`, async () => {
      const environs: WeakRef<object>[] = [];
      const events = Request.application(() => {
        async function* stream() {
          yield new TextEncoder().encode('data: first\n\n');
          await new Promise(() => {}); // waits on nothing that will ever come
        }
        return new Response(stream(), { contentType: type, headers: { 'Cache-Control': 'no-store' } });
      });
      const compressed = compress(events, { threshold: 0 });
      const app: App = (environ, startResponse) => {
        environs.push(new WeakRef(environ));
        return compressed(environ, startResponse);
      };
      const server = await start(app);
      try {
        const N = 20;
        for (let i = 0; i < N; i++) expect(await openAndLeave(server.port)).toMatch(/content-encoding: gzip/i);
        let alive = N;
        for (let i = 0; i < 20 && alive > 0; i++) {
          await sleep(50);
          gc();
          alive = environs.filter((ref) => ref.deref() !== undefined).length;
        }
        expect(environs).toHaveLength(N);
        expect(alive).toBe(0);
      } finally {
        await server.close({ timeout: 100 });
      }
    });
  }
});
