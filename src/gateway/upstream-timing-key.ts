/**
 * The upstream's timing of a request `proxy` forwarded (`tsgi.upstream_timing`): nginx's
 * `$upstream_header_time` and `$upstream_response_time`. Here, below both the proxy that
 * writes it and `accessLog`, which logs it, so the log need not load the proxy (and undici).
 *
 * @module
 */
import { defineEnvironKey } from './environ-key.ts';

/**
 * How long the upstream took, in milliseconds (fractional, from `performance.now()`),
 * counted from when `proxy` sent the request (the first attempt's, when a lost kept-alive
 * connection made it send the request once more): `null` for a time not reached.
 */
export interface UpstreamTiming {
  /**
   * Until the upstream's final response head came in (nginx's `$upstream_header_time`);
   * `null` while it has not, and for good when the exchange failed before it (a `502`, a
   * `504`) or the client left first.
   */
  header: number | null;
  /**
   * Until the exchange with the upstream was over (nginx's `$upstream_response_time`): the
   * last byte of its body read, or the failure (a refused connection's `502` too), or the
   * abort when the client left or the body was closed early; `null` while it is not over.
   */
  response: number | null;
}

/**
 * The upstream's timing (`tsgi.upstream_timing`), set by `proxy` on each request it sends
 * upstream (not on those it answers itself: a `TRACE`, a redirect of a dot segment, a closed
 * proxy's `503`) and filled in as the exchange goes: `upstreamTimingKey.get(req)?.header`.
 * `accessLog` shows it as `upstream_header_ms` and `upstream_response_ms`.
 */
export const upstreamTimingKey = defineEnvironKey<UpstreamTiming>('tsgi.upstream_timing');
