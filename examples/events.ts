/**
 * Server-sent events: a clock that streams the time to the browser until it leaves.
 *
 * `GET /` is a page whose script opens an `EventSource` on `/events`; `GET /events` answers
 * `text/event-stream` and sends `data: <ISO time>` every second (an async generator as the
 * body, streamed as it is produced). When the client goes away the server closes the body with
 * `return()`, so the generator's `finally` runs and the timer is cleared; `tsgi.signal` wakes
 * the wait at once. So it does at the server's shutdown (`tsgi serve` on SIGTERM): the server
 * ends the stream and aborts `tsgi.signal` first, so the wait needs no `tsgi.shutdown_signal`.
 * Its test reads two events with the test client's `buffered: false`
 * (test/examples.test.ts), as a test of an endless stream must.
 *
 * ```sh
 * node --conditions=tsgi-source src/cli/main.ts serve examples/events.ts:app
 * curl -N http://127.0.0.1:8000/events      # data: 2025-…, one a second; Ctrl-C to stop
 * ```
 *
 * @module
 */
import { type App, HTTPNotFound, Request, Response } from 'tsgi';

const PAGE = `<!doctype html>
<title>Clock</title>
<p id="now">…</p>
<script>
  new EventSource('events').onmessage = (event) => { document.getElementById('now').textContent = event.data; };
</script>
`;

/**
 * Resolves once `ms` milliseconds have passed, or at once when `signal` aborts (the client
 * left, or the server ended the stream).
 */
function tick(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** The event stream: the time every `intervalMs`, until closed. */
async function* times(intervalMs: number, signal: AbortSignal | undefined, onClose: () => void): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  try {
    while (!signal?.aborted) {
      yield encoder.encode(`data: ${new Date().toISOString()}\n\n`);
      await tick(intervalMs, signal);
    }
  } finally {
    onClose();
  }
}

/**
 * The clock app: the page at `/`, the events at `/events` (one every `intervalMs`, default
 * 1000), 404 elsewhere. `onClose` is called when a stream ends (the client left).
 */
export function clock(intervalMs = 1000, onClose: () => void = () => undefined): App {
  return Request.application((req) => {
    if (req.pathInfo === '/') return new Response(PAGE, { contentType: 'text/html' });
    if (req.pathInfo !== '/events') throw new HTTPNotFound();
    return new Response(times(intervalMs, req.environ['tsgi.signal'], onClose), {
      contentType: 'text/event-stream',
      headers: { 'Cache-Control': 'no-store' },
    });
  });
}

/** The clock, one event a second. */
export const app: App = clock();
