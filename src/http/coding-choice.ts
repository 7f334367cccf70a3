/**
 * Choosing a content coding for a response from the request's `Accept-Encoding`
 * (RFC 9110 §12.5.3), as `compress` and the precompressed files of `directoryApp` do.
 *
 * @module
 */
import { AcceptEncoding } from './accept.ts';

/**
 * The coding among `codings` (most preferred first) the client weighs highest, ties going
 * to the earlier one; `null` when the header is absent or malformed (curl, old clients: sent
 * identity, as `negotiator`, nginx and Express do), when `identity` is weighed higher, or
 * when none is acceptable. `x-gzip` counts as `gzip`, `*` matches any coding.
 *
 * @param header - the raw `Accept-Encoding` field, `undefined` when not sent.
 */
export function chooseCoding<C extends string>(header: string | undefined, codings: readonly C[]): C | null {
  const accept = new AcceptEncoding(header);
  if (!accept.present) return null;
  let best: C | null = null;
  let bestQ = 0;
  for (const coding of codings) {
    const q = accept.quality(coding);
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  return best !== null && accept.quality('identity') <= bestQ ? best : null;
}
