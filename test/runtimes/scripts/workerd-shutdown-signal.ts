/**
 * A Worker for test/runtimes/workerd-shutdown-signal.test.ts: two event streams under
 * `toFetchHandler(app, { shutdownSignal })`, one plain (`/plain`), one under `compress`
 * (`/coded`), whose sources send one event and then wait on `req.signal` alone. The shutdown
 * signal is each request's own, aborted 300 ms after it came in: workerd runs nothing of one
 * request from another's (a promise resolved from another request's context is dropped, and
 * the waiting request canceled as hung), and tells a Worker of no shutdown. `/seen` answers,
 * as JSON, how many sources wait, and for each the message `req.signal` aborted with and
 * whether its `finally` ran. `/ready` answers once the Worker runs.
 */
import { Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { compress } from 'tsgi/middleware';

type Seen = { reason?: string; cleaned: boolean };
const seen: Record<string, Seen> = { '/plain': { cleaned: false }, '/coded': { cleaned: false } };
let waiting = 0;

const app = compress(
  Request.application((req) => {
    if (req.pathInfo === '/seen') return new Response(JSON.stringify({ waiting, ...seen }), { contentType: 'application/json' });
    const record = seen[req.pathInfo];
    if (record === undefined) return new Response('ok\n');
    return new Response(
      (async function* () {
        try {
          yield 'data: one\n\n';
          // The next event never comes: only the abort of req.signal ends the wait.
          await new Promise<void>((resolve) => {
            req.signal.addEventListener('abort', () => resolve(), { once: true });
            waiting++;
          });
          const reason = req.signal.reason as { message?: unknown } | undefined;
          record.reason = String(reason?.message ?? reason);
        } finally {
          record.cleaned = true;
        }
      })(),
      { contentType: 'text/event-stream' },
    );
  }),
);

export default {
  fetch: (request: globalThis.Request, env: unknown, ctx: unknown) => toFetchHandler(app, { shutdownSignal: AbortSignal.timeout(300) })(request, env, ctx),
};
