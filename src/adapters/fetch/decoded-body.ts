/**
 * A fetch handler's `Response` whose body the runtime decoded while its fields still say it is
 * coded: `fromFetchHandler` answers it without `Content-Encoding` and `Content-Length`.
 *
 * @module
 */
import { inWorkers } from '../../gateway/workers.ts';
import { inBun, inDeno } from '../../gateway/runtime.ts';

/** The codings workerd codes and decodes itself, as it spells them (see {@link decodedByRuntime}). */
const WORKERD_CODINGS = new Set(['gzip', 'br']);

/** Node's `process.versions`, where there is one. */
const versions = (globalThis as { process?: { versions?: Record<string, string | undefined> } }).process?.versions;

/** True when undici's version (`7.11.0`) is `major.minor` or later. */
function undiciFrom(major: number, minor: number): boolean {
  const [given = 0, givenMinor = 0] = (versions?.undici ?? '0').split('.').map((part) => Number.parseInt(part, 10));
  return given > major || (given === major && givenMinor >= minor);
}

/**
 * The codings the runtime's own `fetch()` decodes while it keeps the upstream's
 * `Content-Encoding` and `Content-Length` (undici issue 2514, Hono issue 3518), compared
 * without regard to case, whether it decodes a list of them (`gzip, br`) too, and whether it
 * decodes a `206 Partial Content`; `undefined` where `fetch()` decodes nothing so (workerd: see
 * {@link decodedByRuntime}), or is not known:
 *
 * - Node's (undici; Bun and Deno define `process.versions.node` too, so they are told apart
 *   first): `gzip`, `x-gzip`, `deflate`, `br`, and `zstd` from undici 7.11 on (undici pull
 *   request 4238: early Node 24 releases bundle an older undici, which passes a `zstd` body on
 *   as it came); each of a list, in turn.
 * - Bun's (1.4): `gzip`, `x-gzip`, `deflate`, `br`, `zstd`; a list is passed on coded.
 * - Deno's (2.9): `gzip` and `br`; `x-gzip`, `deflate`, `zstd` and a list are passed on coded,
 *   and so is any answer to a request with a `Range` (for which Deno asks `Accept-Encoding:
 *   identity`, as the Fetch Standard's HTTP-network-or-cache fetch does) or that asks `identity`
 *   itself: a `206` is still coded there. A `200` coded all the same to such a request (an
 *   upstream that ignores `Range`) cannot be told from a decoded one.
 *
 * Node and Bun decode a `206` as any other answer.
 */
const FETCH_DECODES: { codings: ReadonlySet<string>; lists: boolean; partial: boolean } | undefined = inWorkers
  ? undefined
  : inBun
    ? { codings: new Set(['gzip', 'x-gzip', 'deflate', 'br', 'zstd']), lists: false, partial: true }
    : inDeno
      ? { codings: new Set(['gzip', 'br']), lists: false, partial: false }
      : typeof versions?.undici === 'string'
        ? { codings: new Set(['gzip', 'x-gzip', 'deflate', 'br', ...(undiciFrom(7, 11) ? ['zstd'] : [])]), lists: true, partial: true }
        : undefined;

/**
 * True when `response`'s body is no longer coded as its `Content-Encoding` says, the runtime
 * having decoded it:
 *
 * - on Cloudflare Workers, a `Content-Encoding: gzip` or `br` on any `Response` is an order to
 *   code its body when it is sent, not a description of it: a Worker's own `Response` holds the
 *   text (unless made with `encodeBody: 'manual'`), and `fetch()` and service bindings decode
 *   what they receive (unless asked `encodeResponseBody: 'manual'`) while keeping the
 *   upstream's fields. Any other coding (`deflate`) is the body's own.
 * - on Node, Bun and Deno, a `Response` that `fetch()` gave (it has a `url`; one the handler
 *   made has none) whose coding is one that runtime's `fetch()` decodes ({@link FETCH_DECODES}).
 *   One without a body (the answer to a HEAD, a 304) counts too: its fields describe the coded
 *   bytes its GET would have, and the GET's answer loses them, so it does as well (RFC 9110
 *   §9.3.2: a HEAD's fields are the GET's; RFC 9111 §4.3.4: a cache takes a 304's fields into
 *   the response it stored). The handler's own `Response` with a `Content-Encoding` (a
 *   framework's compress middleware) holds coded bytes, and keeps it; so does Deno's `206`,
 *   which it did not decode. One fetched with Bun's `decompress: false`, or on Deno a `200`
 *   coded all the same to a request with a `Range` or `Accept-Encoding: identity`, cannot be
 *   told from a decoded one: rebuild that one (`new Response(res.body, res)`) to keep its
 *   fields.
 */
export function decodedByRuntime(response: globalThis.Response): boolean {
  const coding = response.headers.get('content-encoding');
  if (coding === null) return false;
  if (inWorkers) return WORKERD_CODINGS.has(coding);
  if (FETCH_DECODES === undefined || response.url === '') return false;
  const { codings, lists, partial } = FETCH_DECODES;
  if (!partial && response.status === 206) return false;
  if (!lists) return codings.has(coding.trim().toLowerCase());
  // Not `codingsOf`: undici takes an empty element (`gzip, `) for an unknown coding and decodes nothing.
  return coding.split(',').every((one) => codings.has(one.trim().toLowerCase()));
}

/**
 * `response` without `Content-Encoding` and the coded length (`Content-Length`): its body is
 * the text it is, which `compress` above codes again when the client asks.
 */
export function withoutCoding(response: globalThis.Response): globalThis.Response {
  const headers = new globalThis.Headers(response.headers);
  headers.delete('content-encoding');
  headers.delete('content-length');
  return new globalThis.Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
