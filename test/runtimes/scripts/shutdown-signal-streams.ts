/**
 * The event-stream source the fetch adapter's shutdown tests run on Bun, Deno
 * (fetch-shutdown-signal.ts) and workerd (workerd-shutdown-signal.ts): one event, then a wait
 * on `req.signal` alone, recording the message it aborted with and whether its `finally` ran.
 */
import { type Request, Response } from 'tsgi';

/** What a stream's source saw: the message `req.signal` aborted with, and whether its `finally` ran. */
export type Seen = { reason?: string; cleaned: boolean };

/** The record of each stream's source, by path: `/plain` and `/coded` (under `compress`). */
export const seen: Record<string, Seen> = { '/plain': { cleaned: false }, '/coded': { cleaned: false } };

/**
 * The answer to `req` for `record`: `text/event-stream`, one event, then a wait that only the
 * abort of `req.signal` ends (`onWaiting` is called as it begins). `/plain` is not coded:
 * `compress` leaves an answer whose client asked for no coding.
 */
export function waitingStream(req: Request, record: Seen, onWaiting: () => void): Response {
  return new Response(
    (async function* () {
      try {
        yield 'data: one\n\n';
        await new Promise<void>((resolve) => {
          req.signal.addEventListener('abort', () => resolve(), { once: true });
          onWaiting();
        });
        const reason = req.signal.reason as { message?: unknown } | undefined;
        record.reason = String(reason?.message ?? reason);
      } finally {
        record.cleaned = true;
      }
    })(),
    { contentType: 'text/event-stream' },
  );
}
