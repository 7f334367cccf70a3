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
import { seen, waitingStream } from './shutdown-signal-streams.ts';

let waiting = 0;

const app = compress(
  Request.application((req) => {
    if (req.pathInfo === '/seen') return new Response(JSON.stringify({ waiting, ...seen }), { contentType: 'application/json' });
    const record = seen[req.pathInfo];
    if (record === undefined) return new Response('ok\n');
    return waitingStream(req, record, () => waiting++);
  }),
);

export default {
  fetch: (request: globalThis.Request, env: unknown, ctx: unknown) => toFetchHandler(app, { shutdownSignal: AbortSignal.timeout(300) })(request, env, ctx),
};
