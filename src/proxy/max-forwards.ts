/**
 * `Max-Forwards` (RFC 9110 §7.6.2): how many more intermediaries an `OPTIONS` (or `TRACE`)
 * request may pass through; a proxy answers one that reached `0` itself and forwards the others
 * with the count decremented.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';

/** The largest `Max-Forwards` this proxy sends (§7.6.2: "the recipient's maximum supported value"). */
export const MAX_FORWARDS_LIMIT = 2 ** 31 - 1;

/**
 * The request's `Max-Forwards` as a count, for the methods §7.6.2 applies it to (`OPTIONS`,
 * `TRACE`): `undefined` for another method or when the field is absent (the request is
 * forwarded as it is; a recipient MAY ignore it for other methods), `null` when it is not
 * `1*DIGIT` (a negative number, two values joined by a comma), else the count, capped at
 * {@link MAX_FORWARDS_LIMIT} + 1.
 */
export function maxForwardsOf(environ: Environ): number | null | undefined {
  const method = environ.REQUEST_METHOD;
  if (method !== 'OPTIONS' && method !== 'TRACE') return undefined;
  const value = environ.HTTP_MAX_FORWARDS as string | undefined;
  if (value === undefined) return undefined;
  const digits = value.trim();
  if (!/^\d+$/.test(digits)) return null;
  return Math.min(Number(digits), MAX_FORWARDS_LIMIT + 1);
}

/**
 * `pairs` (lower-case names) with `max-forwards` set to `hops - 1`, as forwarded after a hop
 * (§7.6.2: the lesser of the received value decremented and {@link MAX_FORWARDS_LIMIT});
 * `pairs` as they are when `hops` is `undefined`.
 */
export function decrementMaxForwards(pairs: Array<[string, string]>, hops: number | undefined): Array<[string, string]> {
  if (hops === undefined) return pairs;
  const kept = pairs.filter(([name]) => name !== 'max-forwards');
  kept.push(['max-forwards', String(hops - 1)]);
  return kept;
}
