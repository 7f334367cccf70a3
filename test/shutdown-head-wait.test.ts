/**
 * An event stream whose shutdown begins while its head waits for the body's second step (the
 * one turn of the event loop a server gives a body to learn whether its length is known): the
 * stream ends as a complete answer with the events sent, as it does once the head is out, and
 * the AbortError of a source that stops on the signal is not logged. Over a real socket with
 * serve(), through toFetchHandler, and the TestClient.
 */
import { describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { TestClient } from 'tsgi/testing';
import { start } from './node-helpers.ts';

const encoder = new TextEncoder();

/**
 * An event stream that sends `data: one`, then waits for the shutdown and stops on it (rejects
 * with the signal's reason); `waiting` is called once its listener is set, while the server
 * still waits for that second step before the head.
 */
function stopsOnShutdown(waiting: () => void): App {
  return (environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
    return (async function* () {
      yield encoder.encode('data: one\n\n');
      const shutdown = environ['tsgi.shutdown_signal'] as AbortSignal;
      await new Promise((_resolve, reject) => {
        shutdown.addEventListener('abort', () => reject(shutdown.reason), { once: true });
        waiting();
      });
      yield encoder.encode('data: never\n\n');
    })();
  };
}

describe('a shutdown that begins while the head waits for the second step of an event stream', () => {
  it('serve(): ends the stream whole after its first event, nothing logged', async () => {
    let close = (): void => undefined;
    const server = await start(stopsOnShutdown(() => close()));
    close = () => void server.close({ timeout: 5000 });
    const res = await fetch(`${server.url}/events`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('data: one\n\n');
    expect(server.log.text).toBe('');
  });

  it('toFetchHandler: ends the stream whole after its first event, nothing logged', async () => {
    const stopping = new AbortController();
    const lines: string[] = [];
    const handler = toFetchHandler(stopsOnShutdown(() => stopping.abort(new DOMException('server shutting down', 'AbortError'))), {
      shutdownSignal: stopping.signal,
      log: { write: (line: string) => void lines.push(line) },
    });
    const res = await handler(new globalThis.Request('http://example.com/events'));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('data: one\n\n');
    expect(lines).toEqual([]);
  });

  it.each([true, false])('the TestClient (buffered: %s): the same answer, nothing logged', async (buffered) => {
    const stopping = new AbortController();
    const app = stopsOnShutdown(() => stopping.abort(new DOMException('server shutting down', 'AbortError')));
    const res = await new TestClient(app, { shutdownSignal: stopping.signal }).get('/events', { buffered });
    expect(res.statusCode).toBe(200);
    expect(await res.text()).toBe('data: one\n\n');
    expect(res.errors).toBe('');
  });
});
