/**
 * A middleware as a package of its own would ship it: a token-bucket rate limit per client
 * address, written against the public entry points only (docs/middleware.md, "A middleware
 * package").
 *
 * - `rateLimit(app, options?)` is a `Middleware<RateLimitOptions>`: its options are optional,
 *   so it stacks in `compose()` as it is, and they are checked at once (`RangeError`), not at
 *   the first request;
 * - each `rateLimit(…)` call has its own buckets, one per `req.remoteAddr` (the client's, under
 *   `proxyFix` behind a proxy), an IPv6 one by its /56 (`ipv6Subnet`): `capacity` requests at
 *   once, then `refillPerSecond`; a bucket full again is forgotten, so memory follows the
 *   clients of the last minute, not of ever;
 * - past that, `429 Too Many Requests` with `Retry-After` (whole seconds), thrown as
 *   `HTTPTooManyRequests`: `errorPages`, `accessLog` and `requestId` see it as any other answer;
 * - the app below reads what is left with the typed key `remainingKey`.
 *
 * ```sh
 * node --conditions=tsgi-source src/cli/main.ts serve examples/rate-limit.ts:app
 * for i in 1 2 3 4; do curl -si http://127.0.0.1:8000/ | head -1; done   # 200, 200, 200, 429
 * ```
 *
 * @module
 */
import { HTTPTooManyRequests, type Middleware, Request, Response, defineEnvironKey, defineMiddleware } from 'tsgi';
import { DEFAULT_IPV6_SUBNET, clientPrefix } from 'tsgi/http';

/** Options of {@link rateLimit}. */
export interface RateLimitOptions {
  /** Requests a client may make at once (the bucket's size). Default 60. */
  capacity?: number | undefined;
  /** Requests a client gains back per second. Default 1. */
  refillPerSecond?: number | undefined;
  /**
   * The client a request counts against. Default: `req.remoteAddr`. A request without one
   * (`toFetchHandler` on Bun, Deno or Node not given the runtime's second argument, a Unix
   * socket) answers `null` and is refused with a 429, never let through unlimited: give
   * another key there.
   */
  key?: ((req: Request) => string | null) | undefined;
  /**
   * The prefix length, in bits, an IPv6 `req.remoteAddr` is counted by when `key` is not given:
   * a whole number from 1 to 128. Default 56, as express-rate-limit's `ipv6Subnet`: an ISP gives
   * each customer a /64 or a /56, and a client may send from any address in it, so a bucket per
   * address would let it make each request from a new one. `64` for networks that give out
   * /64s, `128` for a bucket per address. IPv4 addresses, `::ffff:`-mapped ones (a dual-stack
   * socket's IPv4 clients) included, count one by one (`clientPrefix` of `tsgi/http`, which
   * `serve()`'s `maxConnectionsPerClient` counts by too).
   */
  ipv6Subnet?: number | undefined;
  /** The clock, in milliseconds. Default `Date.now`; tests pass their own. */
  now?: (() => number) | undefined;
}

/** The requests a client has left after this one, set before the app is called. */
export const remainingKey = defineEnvironKey<number>('example_rate_limit.remaining');

/** One client's bucket. */
interface Bucket {
  tokens: number;
  updated: number;
}

/**
 * Every key of `T` given, and not `undefined`: `Required<T>` keeps the `| undefined` an option
 * is declared with (`key?: T | undefined`), which then fails to compile under
 * `exactOptionalPropertyTypes`.
 */
type Settled<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };

/** The checked options and the buckets of one `rateLimit(…)` call. */
interface Limiter extends Settled<RateLimitOptions> {
  buckets: Map<string, Bucket>;
}

/** The hooks, given the {@link Limiter} of their `rateLimit(…)` call as their options. */
const layer = defineMiddleware<Limiter>({
  before(req, limiter) {
    const client = limiter.key(req);
    const now = limiter.now();
    const bucket = client === null ? { tokens: 0, updated: now } : (limiter.buckets.get(client) ?? { tokens: limiter.capacity, updated: now });
    bucket.tokens = Math.min(limiter.capacity, bucket.tokens + ((now - bucket.updated) / 1000) * limiter.refillPerSecond);
    bucket.updated = now;
    if (client !== null) {
      // Last used last: the map is in the order of `updated`, oldest first.
      limiter.buckets.delete(client);
      limiter.buckets.set(client, bucket);
      forgetFull(limiter, now);
    }
    if (bucket.tokens < 1) {
      const retryAfter = client === null ? 60 : Math.ceil((1 - bucket.tokens) / limiter.refillPerSecond);
      throw new HTTPTooManyRequests(client === null ? 'No client address to count against.' : 'Too many requests.', { retryAfter });
    }
    bucket.tokens -= 1;
    remainingKey.set(req, Math.floor(bucket.tokens));
    return undefined;
  },
});

/**
 * Drops the buckets full again (untouched for `capacity / refillPerSecond` seconds): one is
 * what a new client gets, so dropping it changes no answer, and the buckets held are those of
 * the clients seen in that time, not of every address ever seen (an IPv6 /64 holds 2^64).
 */
function forgetFull(limiter: Limiter, now: number): void {
  const fullAfter = (limiter.capacity / limiter.refillPerSecond) * 1000;
  for (const [client, bucket] of limiter.buckets) {
    if (now - bucket.updated < fullAfter) return;
    limiter.buckets.delete(client);
  }
}

/**
 * Limits each client to `capacity` requests at once, then `refillPerSecond`; past that it
 * answers `429 Too Many Requests` with `Retry-After`. Buckets are kept in memory, per call,
 * for the clients seen in the last `capacity / refillPerSecond` seconds.
 *
 * @throws RangeError for a `capacity` below 1, a `refillPerSecond` not above 0, or an
 *   `ipv6Subnet` that is no whole number from 1 to 128.
 */
export const rateLimit: Middleware<RateLimitOptions> = (app, options = {}) => {
  const capacity = options.capacity ?? 60;
  const refillPerSecond = options.refillPerSecond ?? 1;
  if (!(capacity >= 1)) throw new RangeError(`rateLimit: capacity must be at least 1 (got ${capacity})`);
  if (!(refillPerSecond > 0)) throw new RangeError(`rateLimit: refillPerSecond must be above 0 (got ${refillPerSecond})`);
  const ipv6Subnet = options.ipv6Subnet ?? DEFAULT_IPV6_SUBNET;
  if (!Number.isInteger(ipv6Subnet) || ipv6Subnet < 1 || ipv6Subnet > 128) throw new RangeError(`rateLimit: ipv6Subnet must be a whole number from 1 to 128 (got ${ipv6Subnet})`);
  const key =
    options.key ??
    ((req: Request) => (req.remoteAddr === null ? null : clientPrefix(req.remoteAddr, ipv6Subnet)));
  return layer(app, { capacity, refillPerSecond, key, ipv6Subnet, now: options.now ?? Date.now, buckets: new Map() });
};

/** Three requests at once, then one a second; the page says how many are left. */
export const app = rateLimit(
  Request.application((req) => new Response(`${remainingKey.get(req)} left\n`)),
  { capacity: 3 },
);
