/**
 * accessLog and an event stream the server ends at its graceful shutdown (docs/spec.md §2.6):
 * the client gets a complete response (an empty one when no event came yet), so the line says
 * the status sent and `end`, not `close` (nor 499, "client closed request"), on every server:
 * `serve()` over a real socket, `toFetchHandler` and the `TestClient`.
 */
import { describe, expect, it } from 'vitest';
import { type App, Response, serve } from 'tsgi';
import { accessLog } from 'tsgi/middleware';
import { toFetchHandler } from 'tsgi/fetch';
import { TestClient } from 'tsgi/testing';

interface Line { status: number; bytes: number; outcome: string }

/** An event stream that waits for ever (`events: true`: one event first), logged as JSON into `lines`. */
function logged(lines: Line[], events: boolean, entered?: () => void): App {
  const stream: App = (_environ, startResponse) => {
    entered?.();
    startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
    return (async function* () {
      if (events) yield new TextEncoder().encode('data: one\n\n');
      await new Promise(() => {});
    })();
  };
  return accessLog(stream, { format: 'json', log: { write: (line: string) => void lines.push(JSON.parse(line) as Line) } });
}

const settle = async (lines: Line[]) => {
  for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe('an event stream ended at the shutdown', () => {
  for (const events of [false, true]) {
    const sent = events ? 'data: one\n\n' : '';
    it(`is logged with its status and end under serve() (${events ? 'one event' : 'no event yet'})`, async () => {
      const lines: Line[] = [];
      let entered!: () => void;
      const inApp = new Promise<void>((resolve) => (entered = resolve));
      const server = await serve(logged(lines, events, entered), { port: 0, log: { write() {} } });
      const answer = fetch(`${server.url}/events`).then(async (res) => [res.status, await res.text()] as const);
      // The stream is open in the app before the shutdown begins: no fixed wait.
      await inApp;
      await server.close({ timeout: 1000 });
      expect(await answer).toEqual([200, sent]);
      await settle(lines);
      expect(lines.map(({ status, bytes, outcome }) => ({ status, bytes, outcome }))).toEqual([{ status: 200, bytes: sent.length, outcome: 'end' }]);
    });

    it(`is logged with its status and end under toFetchHandler and the TestClient (${events ? 'one event' : 'no event yet'})`, async () => {
      const lines: Line[] = [];
      const stopping = new AbortController();
      const handler = toFetchHandler(logged(lines, events), { shutdownSignal: stopping.signal });
      const answer = Promise.resolve(handler(new globalThis.Request('http://example.com/events'))).then(async (res) => [res.status, await res.text()] as const);
      await new Promise((resolve) => setTimeout(resolve, 20));
      stopping.abort();
      expect(await answer).toEqual([200, sent]);
      await settle(lines);
      expect(lines.map(({ status, outcome }) => ({ status, outcome }))).toEqual([{ status: 200, outcome: 'end' }]);

      const clientLines: Line[] = [];
      const clientStop = new AbortController();
      const client = new TestClient(logged(clientLines, events), { shutdownSignal: clientStop.signal });
      const res = client.get('/events');
      await new Promise((resolve) => setTimeout(resolve, 20));
      clientStop.abort();
      expect((await res).textBody).toBe(sent);
      await settle(clientLines);
      expect(clientLines.map(({ status, outcome }) => ({ status, outcome }))).toEqual([{ status: 200, outcome: 'end' }]);
    });
  }

  it('still logs a client that left an event stream as close', async () => {
    const lines: Line[] = [];
    const server = await serve(logged(lines, true), { port: 0, log: { write() {} } });
    const leaving = new AbortController();
    const res = await fetch(`${server.url}/events`, { signal: leaving.signal });
    await res.body!.getReader().read();
    leaving.abort();
    await settle(lines);
    await server.close({ timeout: 1000 });
    expect(lines.map(({ status, outcome }) => ({ status, outcome }))).toEqual([{ status: 200, outcome: 'close' }]);
  });

  it('logs an app the shutdown cut before it answered, and which never settles, as 499 close', async () => {
    const lines: Line[] = [];
    let entered!: () => void;
    const called = new Promise<void>((resolve) => (entered = resolve));
    const hangs: App = () => {
      entered();
      return new Promise(() => {});
    };
    const log = accessLog(hangs, { format: 'json', log: { write: (line: string) => void lines.push(JSON.parse(line) as Line) } });
    const server = await serve(log, { port: 0, log: { write() {} } });
    const answer = fetch(`${server.url}/hangs`).then(
      (res) => res.status,
      () => 'cut',
    );
    // The request is in the app (a fixed wait could close the server before it arrived).
    await called;
    await server.close({ timeout: 100 });
    expect(await answer).toBe('cut');
    expect(lines.map(({ status, bytes, outcome }) => ({ status, bytes, outcome }))).toEqual([{ status: 499, bytes: 0, outcome: 'close' }]);
  });
});
