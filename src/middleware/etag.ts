/**
 * Entity tags for answers held in memory, and the 304s they allow: Express's default `etag`
 * setting with `req.fresh`, Hono's `etag()`, Django's `ConditionalGetMiddleware`.
 *
 * @module
 */
import { type App, type AppLike, type Body, type StartResponse, toApp } from '../gateway/types.ts';
import { keepRelayed } from '../gateway/relayed.ts';
import { type StartedApp, callAppKeepingHead, passHead } from '../gateway/call-app.ts';
import { passingFirstStepFailure } from '../gateway/first-step-failure.ts';
import { concatBytes } from '../gateway/body.ts';
import { declaredLengthOf } from '../gateway/head-rules.ts';
import { HeaderList } from '../http/header-list.ts';
import { strongEtag } from '../http/etag.ts';
import { cacheControlOf } from '../http/shared-cache.ts';
import { servePlanned } from '../response/conditional.ts';
import { type OptionNames, booleanOption, checkOptions } from '../gateway/option-names.ts';
import { type Route, routeOf, withoutFields } from './ask-without-range.ts';

/**
 * What an app without a tag of its own judged wrongly: it served `Range` and `If-Match` before
 * this layer tagged. The other preconditions go too: without `If-Match` the app would judge
 * `If-Unmodified-Since`, which a holding `If-Match` sets aside (RFC 9110 §13.2.2), and a 304 it
 * then gave would hide the whole; this layer judges them all on the tagged whole.
 */
const JUDGED_WITHOUT_TAG = ['HTTP_RANGE', 'HTTP_IF_RANGE', 'HTTP_IF_MATCH', 'HTTP_IF_UNMODIFIED_SINCE', 'HTTP_IF_NONE_MATCH', 'HTTP_IF_MODIFIED_SINCE'] as const;

/**
 * The answer to ask again for, without `Range` and the preconditions: a `206`, `416` or
 * `412` in memory with no `ETag`, as a `conditionalResponse` without a tag of its own gives
 * (served before this layer could tag the whole, so the `206` lacked the tag the `200` carries,
 * RFC 9110 §15.3.7, and an `If-Match` naming that tag was a `412`). A streamed one is kept: its
 * body may hold what a second call would wait for; so is a `206` with `Cache-Control: no-store`,
 * which this layer does not tag (a `416` or `412` does not show it: it is kept once the whole
 * asked again proves untagged).
 */
function judgedWithoutTag(started: StartedApp): boolean {
  const status = started.status;
  if (!(status.startsWith('206') || status.startsWith('416') || status.startsWith('412'))) return false;
  if (chunksOf(started.body) === null) return false;
  const headers = new HeaderList(started.headers);
  // A `no-store` answer is never tagged here: its whole would be sent as it is, the app's part,
  // 416 or 412 (no tag is current, If-Match is false) dropped for a 200.
  return !headers.has('etag') && !noStore(headers);
}

/** The statuses `servePlanned` answers of its own (a failed precondition, a range not satisfiable), not the app's head. */
const OWN_ANSWER = /^41[26]/;

/** True for an answer marked `Cache-Control: no-store`, which this layer never tags. */
function noStore(headers: HeaderList): boolean {
  return headers.has('cache-control') && cacheControlOf(headers).noStore;
}

/** Options of {@link etag}. */
export interface EtagOptions {
  /**
   * Send the tag weak (`W/"…"`), as Express does by default. Default `false`: the tag is a
   * SHA-1 of the exact bytes this layer sends (what `res.addEtag()` makes), so it is strong,
   * and `If-Range` with it can resume a download (RFC 9110 §13.1.5 needs a strong tag).
   * A `compress` (or a `tsgi/proxy` filter) outside this middleware weakens it on the
   * answers whose bytes it changes.
   */
  weak?: boolean | undefined;
}

/** Every option of {@link EtagOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const ETAG_OPTIONS = { weak: true } as const satisfies OptionNames<EtagOptions>;

/** The chunks of a body already in memory: a plain array of `Uint8Array`s; null for anything else. */
function chunksOf(body: Body): Uint8Array[] | null {
  if (!Array.isArray(body)) return null;
  for (const chunk of body) if (!(chunk instanceof Uint8Array)) return null;
  return body as Uint8Array[];
}

/**
 * True when the server sends `chunks`, the body in memory of a `200`, as the answer to the
 * request (`head`: a HEAD), so this layer may tag it and answer a conditional or range request
 * in its place: the app's `Content-Length` is one the server takes (`declaredLengthOf`) and, for
 * a GET, they add up to it (the server's 500 otherwise, which a 304, 206 or 412 of this layer's
 * would hide from a conditional request alone). For a HEAD they must be the GET body, a raw app
 * that answers HEAD as GET (the server drops the bytes, docs/spec.md §7.2): not empty (an app
 * that knows HEAD, a `Response`: they say nothing of the GET body), and adding up to the field
 * (else that GET would be the server's 500).
 */
function sentAsGiven(chunks: Uint8Array[], headers: HeaderList, head: boolean): boolean {
  const declared = declaredLengthOf(headers.list);
  if (declared === -2) return false;
  if (declared === -1 && !head) return true;
  let size = 0;
  for (const chunk of chunks) size += chunk.byteLength;
  return declared === -1 ? size > 0 : declared === size && (size > 0 || !head);
}

/**
 * Adds an `ETag` to every `200` answered to a GET (or HEAD, see below) whose body is in
 * memory, and serves it conditionally (RFC 9110 §13): a `304 Not Modified` to an
 * `If-None-Match` that names the tag (weak comparison, §13.1.2; `*` too), a `412` to an
 * `If-Match` that does not (strong comparison, §13.1.1), and `206` parts for `Range` (with
 * `If-Range` naming a strong tag). The
 * conditions are evaluated by the same code as `new Response(body, { conditionalResponse: true })`
 * (docs/conditional.md), `Last-Modified` and `If-Modified-Since` included. A 304 keeps
 * `ETag`, `Cache-Control`, `Expires`, `Vary`, `Last-Modified`, `Date`, `Content-Location`
 * and drops the content fields (RFC 9110 §15.4.5).
 *
 * The tag is `strongEtag` of the body (SHA-1, base64url, as `res.addEtag()`), computed once
 * per answer, synchronously; `W/"…"` with `weak`.
 *
 * "In memory" is a plain array of `Uint8Array` chunks: what a `Response` with a string,
 * bytes or JSON gives, or a raw app's `[bytes]`. Passed through untouched, never read: a
 * streamed body (a generator, an async iterable, a stream: its bytes are not known before
 * they are sent, and buffering them would hold a whole download in memory), a status other
 * than `200`, a method other than GET and HEAD (not even asked about: the app is called
 * directly), an answer with `Cache-Control: no-store` (nothing will revalidate it), and one
 * whose `Content-Length` the server refuses (not digits alone, or given twice; to a GET, one
 * its bytes do not add up to: its 500 for every such request, conditional or not).
 *
 * A layer between this one and the app that watches the body (`accessLog`, `lint`, a
 * `wrapBody`) hands it on as a stream: put `etag` inside such layers.
 *
 * An answer that has an `ETag` already keeps it, and is made conditional on it (as Express's
 * `res.send` and Hono's `etag()` do); nothing is hashed. An app that serves `Range` itself
 * without a tag (`conditionalResponse` and no `ETag`) answers a `206`, `416` or `412` before
 * this layer could tag the whole: such an answer, in memory and without an `ETag`, is asked for
 * again without `Range`, `If-Range` and the preconditions (`If-Match`, `If-Unmodified-Since`,
 * `If-None-Match`, `If-Modified-Since`), and this layer tags the whole, judges them on it and
 * serves the part, so the `206` carries the tag the `200` does (RFC 9110 §15.3.7) that
 * `If-Range` resumes with (§13.1.5), and an `If-Match` naming it is a `200` (its
 * `If-Unmodified-Since` set aside, §13.2.2); a whole this layer does not tag
 * (`no-store`, streamed, not a `200`) leaves the app's own answer sent. The app is called twice
 * then; a GET without `Range` or `If-Match` never is. Give streamed answers their own tag
 * and `conditionalResponse` (docs/conditional.md).
 *
 * A HEAD gets the tag GET gets when its `200`'s body is in memory and not empty: a raw app
 * that returns its GET body to HEAD too (the server drops the bytes, docs/spec.md §7.2), as
 * Werkzeug's `add_etag` and WebOb's `conditional_response` tag a HEAD response that keeps its
 * body. So `curl -I` shows the tag, and a conditional HEAD gets its `304` or `412` (never a
 * `206`: ranges are for GET, RFC 9110 §14.2; nor is the app asked again). Any other HEAD
 * passes through untouched (Django's `ConditionalGetMiddleware` leaves every HEAD alone): an
 * empty body, which a `Response` (its body is dropped for HEAD) and any app that knows HEAD
 * answer, says nothing of the GET body; a streamed one is not read; bytes that do not add up to
 * the app's `Content-Length` are not the GET body. Asking the app for a GET instead would make a
 * `proxy` below fetch the upstream's whole body and a file app open the file; RFC 9110 §9.3.2
 * lets a HEAD omit a field whose value comes from generating the content. An app that wants
 * such a HEAD tagged sets the tag itself (`res.addEtag()` with `conditionalResponse`).
 *
 * A body that fails before its first chunk, once the app gave its head, is passed on as it
 * came (that head, then the failure), so the server answers it as without `etag`, keeping the
 * head's fields of no representation (docs/spec.md §7.4).
 *
 * Place it inside `compress`: `compress(etag(app))` hashes the identity bytes, `compress`
 * weakens the tag on a compressed answer (`"x"` → `W/"x"`) and turns the 304 back into that
 * weak tag, and a revalidation costs a hash, not a compression. `etag(compress(app))` is
 * correct too (a strong tag per coding, of the coded bytes), but compresses the whole body
 * again on every revalidation to hash it.
 *
 * @example
 * ```ts
 * import { Request, Response } from 'tsgi';
 * import { compress, etag } from 'tsgi/middleware';
 *
 * const app = Request.application(() => Response.json({ hello: 'world' }));
 * // 200 with ETag: "…"; the same GET with If-None-Match: "…" → 304, no body.
 * export default compress(etag(app));
 * ```
 *
 * @throws TypeError (at once) when `weak` is not a boolean (`'true'` from an environment variable).
 */
export function etag(app: AppLike, options: EtagOptions = {}): App {
  const inner = toApp(app);
  checkOptions('etag', options, ETAG_OPTIONS);
  const weak = booleanOption('etag', 'weak', options.weak);
  return passingFirstStepFailure(async (environ, startResponse) => {
    const method = environ.REQUEST_METHOD;
    if (method !== 'GET' && method !== 'HEAD') return inner(environ, startResponse);
    // Where the request was routed from (a `mount` below moves its prefix), read only for a
    // request the app may judge without the tag: a plain GET allocates nothing more. Not for
    // HEAD: it has no ranges, and its whole asked again is seldom in memory.
    const judging = environ.HTTP_RANGE !== undefined || environ.HTTP_IF_MATCH !== undefined;
    const route: Route | null = method === 'GET' && judging ? routeOf(environ) : null;
    let started = await callAppKeepingHead(inner, environ);
    // The app's own part, 416 or 412 (in memory: nothing to close), kept until the whole asked
    // again turns out to be one this layer tags; else it is what is sent.
    let judged: StartedApp | null = null;
    if (route !== null && judgedWithoutTag(started)) {
      judged = started;
      started = await withoutFields(environ, route, JUDGED_WITHOUT_TAG, () => callAppKeepingHead(inner, environ));
    }
    const chunks = started.status.startsWith('200') ? chunksOf(started.body) : null;
    let headers: HeaderList | null = null;
    if (chunks !== null) {
      headers = new HeaderList(started.headers);
      // What the server refuses (its 500) is left to it: a 304, 206 or 412 of this layer's
      // would answer in its place for a conditional request alone.
      if (noStore(headers) || !sentAsGiven(chunks, headers, method === 'HEAD')) headers = null;
    }
    if (headers === null) {
      if (judged !== null) {
        started.close();
        started = judged;
      }
      passHead(started, startResponse);
      return started.body;
    }
    judged?.close();
    if (!headers.has('etag')) {
      const tag = strongEtag(chunks!);
      headers.set('ETag', weak ? `W/${tag}` : tag);
    }
    const body = concatBytes(chunks!);
    if (!headers.has('content-length')) headers.set('Content-Length', body.byteLength);
    // The 200, its 304, 206 or HEAD carry the app's fields: an upstream's head (`proxy`) stays
    // relayed for `lint` (`keepRelayed`); a 412 or 416 is this layer's own answer.
    const given = started.headers;
    const relay: StartResponse = (status, fields, error) =>
      startResponse(status, OWN_ANSWER.test(status) ? fields : keepRelayed(given, fields), error);
    return servePlanned({ statusCode: 200, status: started.status, headers, body, length: body.byteLength }, environ, relay);
  });
}
