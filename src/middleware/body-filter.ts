/**
 * The shared rule of middleware that change a response body (`compress`, and the response
 * filters of `tsgi/proxy`): which responses may be changed, and what the change does to the
 * header fields that describe the bytes.
 *
 * @module
 */
import { type App, type AppLike, type Body, type Environ, toApp } from '../gateway/types.ts';
import { type StartedApp, callAppKeepingHead, passHead } from '../gateway/call-app.ts';
import { passingFirstStepFailure } from '../gateway/first-step-failure.ts';
import { checkChunk, closingSource, isAsyncIterable } from '../gateway/body.ts';
import { wrapBody } from '../gateway/body-watch.ts';
import { checkDeclaredLength, checkNotLonger, declaredLengthOf } from '../gateway/head-rules.ts';
import { isBodilessStatus } from '../gateway/status.ts';
import { HeaderList } from '../http/header-list.ts';
import { parseMediaType } from '../http/media-type.ts';
import { cacheControlOf } from '../http/shared-cache.ts';
import { EtagSet, formatEtag, parseEtag } from '../http/etag.ts';
import { namesVersioned, unversionedIfNoneMatch, versionedEtag } from './etag-version.ts';
import { type Route, routeOf, withoutRange } from './ask-without-range.ts';

/**
 * True when a filter may change the body of this response, or for HEAD the fields of the GET
 * answer it stands for: not for 1xx, 204 and 304 (no content), 206 or anything with
 * `Content-Range` (a part cannot be transformed on its own: {@link bodyFilter} asks for the
 * whole instead). A HEAD answer is transformable: it has no body, but its fields must be the
 * ones the filtered GET answer has (RFC 9110 §9.3.2), not the app's `Content-Length` and strong
 * `ETag` of bytes the client would never get.
 */
export function isTransformable(code: number, headers: HeaderList): boolean {
  return code >= 200 && !isBodilessStatus(code) && code !== 206 && !headers.has('content-range');
}

/**
 * True when the response's `Cache-Control` has `no-transform` (RFC 9111 §5.2.2.6; its lines
 * taken together, any case): an intermediary must not transform its content (RFC 9110 §7.7),
 * so no filter changes its body, coding included, nor the fields that describe it.
 */
export function isNoTransform(headers: HeaderList): boolean {
  return headers.has('cache-control') && cacheControlOf(headers).noTransform;
}

/**
 * The integrity fields computed over the bytes sent, which any change of the body (a content
 * coding added or removed, or the text rewritten) makes wrong:
 * - `Content-Digest` (RFC 9530 §2): of the content, the bytes as sent, codings applied;
 * - `Repr-Digest` (RFC 9530 §3): of the selected representation data, which includes its
 *   content coding (RFC 9110 §8.1), so compressing changes it too;
 * - `Digest` (RFC 3230 §4.3.2, obsoleted by RFC 9530): of the instance, after content coding;
 * - `Content-MD5` (RFC 1864; RFC 2616 §14.15, dropped by RFC 7231 Appendix B): of the body,
 *   after content coding.
 */
const DIGEST_FIELDS = ['content-digest', 'repr-digest', 'digest', 'content-md5'];

/** Drops the fields that describe the original bytes: their length, ranges over them, their digests. */
function dropByteFields(headers: HeaderList): void {
  headers.delete('content-length');
  headers.delete('accept-ranges');
  for (const name of DIGEST_FIELDS) headers.delete(name);
}

/**
 * True for bytes in memory (an array body) that do not add up to the app's `declared`
 * `Content-Length` (-1: none): the server refuses them (a 500) when they reach it as they
 * are, with the field, so a filter leaves them alone rather than make a whole of them.
 */
function beliesLength(body: Body, declared: number): boolean {
  if (declared === -1 || !Array.isArray(body)) return false;
  return body.reduce((sum: number, chunk: unknown) => sum + (chunk instanceof Uint8Array ? chunk.byteLength : 0), 0) !== declared;
}

/**
 * `body`, throwing the server's `TypeError` (`the app declared Content-Length: …`) once it
 * proves longer than `declared` bytes (at that chunk) or ends shorter (at its end), as the
 * server's own check of the field does: a filter that dropped the field must not end short or
 * long bytes as a complete-looking answer. The body is closed (its `return()`) when it proves
 * longer. Bodies without a declared length (-1) are answered as they are.
 */
function keepingLength(body: Body, declared: number): Body {
  if (declared === -1) return body;
  let read = 0;
  return wrapBody(body, {
    chunk: (chunk) => {
      read += checkChunk(chunk).byteLength;
      checkNotLonger(declared, read);
    },
    end: () => checkDeclaredLength(declared, read, false),
  });
}

/**
 * Marks the fields of a response whose body is being changed: `Content-Length` and
 * `Accept-Ranges` are dropped (the new length is unknown, and byte ranges would address the
 * old bytes), and so are `Content-Digest`, `Repr-Digest`, `Digest` and `Content-MD5` (digests
 * of the old bytes, RFC 9530); a strong `ETag` becomes weak (`W/"…"`): the bytes differ, the
 * meaning does not (RFC 9110 §8.8.1). The tag is written as the entity tag `parseEtag` reads
 * (`abc` and `W/abc` become `W/"abc"`, `w/"x"` becomes `W/"x"`); one it does not read (a list,
 * a space inside the quotes, an empty field) is dropped, as nginx drops a tag it cannot weaken.
 */
export function markTransformed(headers: HeaderList): void {
  dropByteFields(headers);
  if (!headers.has('etag')) return;
  const parsed = parseEtag(headers.get('etag'));
  if (parsed === null) headers.delete('etag');
  else headers.set('ETag', formatEtag(parsed.tag, true));
}

/**
 * The `ETag` of a 304 as the client's stored response has it, when that response was one a
 * filter transformed: for a `304` with a strong `"x"` to a request whose `If-None-Match`
 * holds `W/"x"` (the tag {@link markTransformed} gave the 200) and not `"x"` itself, sets
 * `ETag: W/"x"`, drops the fields {@link markTransformed} dropped from that 200
 * (`Content-Length`, `Accept-Ranges`, the digests), and answers true; otherwise changes
 * nothing and answers false.
 *
 * A 304 carries the `ETag` the 200 would have carried (RFC 9110 §15.4.5), and a cache
 * updates only the stored response whose strong validator the 304 names (RFC 9111 §4.3.4):
 * the app's `"x"` would name none. A 304 has no content type, so the filter cannot tell
 * from the answer whether it would have transformed the 200; the validator the client
 * sent tells which 200 it keeps.
 */
export function weakenNotModified(environ: Environ, headers: HeaderList): boolean {
  const etag = parseEtag(headers.get('etag'));
  if (etag === null || etag.weak) return false;
  let weak = false;
  for (const tag of new EtagSet(environ.HTTP_IF_NONE_MATCH as string | undefined).tags) {
    if (tag.tag !== etag.tag) continue;
    if (!tag.weak) return false;
    weak = true;
  }
  if (!weak) return false;
  setTransformedValidator(headers, formatEtag(etag.tag, true));
  return true;
}

/**
 * {@link weakenNotModified} for a `304` to a GET or HEAD whose `If-None-Match` names no tag: none
 * (a revalidation by `If-Modified-Since` alone, as `curl -z` and caches keeping dates only send)
 * or `*` (RFC 9110 §13.1.2: any current representation): when its `ETag`
 * is strong (`"x"`) and it has no `Cache-Control: no-transform`, sets `ETag: W/"x"`, drops the
 * fields {@link markTransformed} drops, and answers true; otherwise changes nothing and
 * answers false. For a filter that would transform the 200: the caller decides.
 *
 * Such a request does not tell which 200 the client holds. The 304 carries the validator the
 * 200 to the same request would carry (RFC 9110 §15.4.5), `W/"x"` for a transformed one; and a
 * cache updates only the stored responses a strong validator in the 304 names (RFC 9111
 * §4.3.4), so the app's `"x"` would refresh nothing where the transformed 200 is stored. A weak
 * validator selects by weak comparison, which `"x"` and `W/"x"` both pass: the 304 refreshes
 * the stored 200, transformed or not (an untransformed one then keeps the weak tag).
 */
export function weakenDatedNotModified(environ: Environ, headers: HeaderList): boolean {
  const named = environ.HTTP_IF_NONE_MATCH as string | undefined;
  if (named !== undefined && named.trim() !== '*') return false;
  const method = environ.REQUEST_METHOD;
  if ((method !== 'GET' && method !== 'HEAD') || isNoTransform(headers)) return false;
  const etag = parseEtag(headers.get('etag'));
  if (etag === null || etag.weak) return false;
  setTransformedValidator(headers, formatEtag(etag.tag, true));
  return true;
}

/**
 * Gives a 304 the validator of a transformed 200: `etag` (a weak `ETag` value, `W/"x"`), and
 * none of the fields {@link markTransformed} dropped from that 200 (a cache merges the 304's
 * fields into the stored one, RFC 9111 §3.2: the app's would tell it of byte ranges and
 * digests of other bytes).
 */
function setTransformedValidator(headers: HeaderList, etag: string): void {
  headers.set('ETag', etag);
  dropByteFields(headers);
}

/**
 * {@link weakenNotModified} for a filter with a version: for a `304` whose `ETag` (`"x"` or
 * `W/"x"`) is named with `version` folded in (`W/"x~v2"`) by the request's `If-None-Match`, sets
 * that tag, weak, as the 200 the client keeps had it, drops the fields that 200 did not have,
 * and answers true; otherwise changes nothing and answers false.
 */
function versionNotModified(environ: Environ, headers: HeaderList, version: string): boolean {
  const etag = parseEtag(headers.get('etag'));
  if (etag === null || !namesVersioned(environ.HTTP_IF_NONE_MATCH as string | undefined, etag, version)) return false;
  setTransformedValidator(headers, versionedEtag(etag, version));
  return true;
}

/**
 * Decides, from the fields of a transformable response (which it may change further), whether
 * to transform its body: answers the transformation, or null to leave the response alone.
 * `given` is the header list as the app gave it to `startResponse` (the same array, not to be
 * changed): what a layer below noted about this answer can be looked up by it.
 */
export type ChooseTransform = (headers: HeaderList, environ: Environ, given: ReadonlyArray<readonly [string, string]>) => ((body: Body) => Body) | null;

/** Options of {@link bodyFilter}. */
export interface BodyFilterOptions {
  /**
   * True (the default) for a filter that changes the content itself (rewriting or decoding
   * it), so that a part of the original bytes would not fit the transformed whole. Then a GET
   * (or HEAD) with `Range` answered with a part (206, or any answer with `Content-Range`) whose whole
   * the filter would transform, or with a 416 (a range measured against the original length),
   * is asked for again without `Range` and `If-Range`, and the whole 200 is transformed and
   * sent instead: a 200 is a valid answer to a range request (RFC 9110 §14.2). When only the
   * whole's fields can tell whether it would be transformed (a 416, a `multipart/byteranges`
   * 206), the app is asked again to see, and the first answer is sent if not. False for a
   * filter that only adds a content coding (`compress`): ranges address the identity
   * representation, so a 206 of identity bytes is right.
   */
  changesContent?: boolean | undefined;
  /**
   * True for a filter that rewrites what the content says (`rewriteHtml`, `replaceText`), not
   * only its coding: the app's `Last-Modified` dates the upstream's page, not the rewritten one,
   * which changes when the rules do, so it is dropped from the transformed response and from a
   * 304 that may answer for one: one whose `ETag` is weak, or made weak here (nginx's
   * `sub_filter_last_modified off`, its default). Default false: decoding or compressing keeps
   * the content, and the date. It also tells which 200 a revalidation by date alone stands
   * for (see {@link bodyFilter}): with it, one the filter left alone, as what it transformed
   * had no date.
   */
  dropsLastModified?: boolean | undefined;
  /**
   * A version of the filter's rules (checked by `checkVersion` of etag-version.ts), folded into
   * the weak `ETag` of each transformed response (`W/"x"` → `W/"x~v2"`). A tag carrying it in
   * the request's `If-None-Match` is sent to the app with its own beside it (`W/"x~v2", W/"x"`)
   * while it is called (see `unversionedIfNoneMatch` of etag-version.ts),
   * and the 304 the app answers carries the versioned tag again; a tag of another version
   * matches nothing the app sends, so the page is sent again, transformed by these rules.
   */
  etagVersion?: string | undefined;
}

/**
 * A body-filter middleware: calls `app`, and for a transformable response ({@link
 * isTransformable}) without `Cache-Control: no-transform` ({@link isNoTransform}) for which
 * `transformation` answers a transformation, marks the fields
 * ({@link markTransformed}) and sends the transformed body (to HEAD: the marked fields, and no
 * body). Anything else passes through with
 * its fields and body untouched, still streamed. The transformed body must keep to the app's
 * `Content-Length` all the same, as the server checks it: a stream that ends short of it or
 * runs past it throws the server's `TypeError` (a logged 500 before the head, a cut connection
 * after it), and bytes in memory that do not add up to it pass untransformed, with the field,
 * for the server to refuse. A body that fails before its first chunk, once the app gave its
 * head, is passed on as it came (that head, untouched, then the failure): the server answers
 * it as without the filter, keeping the head's fields of no representation (docs/spec.md
 * §7.4). With `changesContent` (the default), a part
 * of a response it would transform is replaced by the transformed whole (see
 * {@link BodyFilterOptions.changesContent}), which costs the app a second call.
 *
 * A 304 carries the validator of the transformed 200 the client holds: the `If-None-Match`
 * tells which ({@link weakenNotModified}, and the version's tag). Without one (a revalidation by
 * `If-Modified-Since` alone), a filter that keeps the date (no `dropsLastModified`:
 * `decodeContent`) weakens a strong `ETag` ({@link weakenDatedNotModified}), since the 200 it
 * transformed went out with its date and the weak tag, which the app's strong one would not
 * refresh in a cache (RFC 9111 §4.3.4); one that drops the date (`rewriteHtml`, `replaceText`)
 * leaves such a 304 alone: the client's date is of a response it did not transform (an image).
 */
export function bodyFilter(app: AppLike, transformation: ChooseTransform, options: BodyFilterOptions = {}): App {
  const inner = toApp(app);
  // RFC 9110 §7.7: a response with `no-transform` (a part too: its whole has it) passes as it came.
  const choose: ChooseTransform = (headers, environ, given) => (isNoTransform(headers) ? null : transformation(headers, environ, given));
  const changesContent = options.changesContent ?? true;
  const dropsLastModified = options.dropsLastModified ?? false;
  const version = options.etagVersion;
  return passingFirstStepFailure(async (environ, startResponse) => {
    // Where the request was routed to before the app ran (a `mount` below moves the prefix into
    // `SCRIPT_NAME`): the request for the whole of a part is routed from the same place.
    // HEAD too: an app that honours Range on HEAD (some do) would otherwise describe a part of
    // the original bytes where GET sends the whole, transformed.
    const method = environ.REQUEST_METHOD;
    const route = changesContent && (method === 'GET' || method === 'HEAD') && typeof environ.HTTP_RANGE === 'string' ? routeOf(environ) : null;
    // The client's validators of this version, as the app's own while it is called; put back
    // before anything is sent, so the layers above read the client's field.
    const ifNoneMatch = environ.HTTP_IF_NONE_MATCH as string | undefined;
    const unversioned = version !== undefined && typeof ifNoneMatch === 'string' ? unversionedIfNoneMatch(ifNoneMatch, version) : null;
    let answer: Answer;
    if (unversioned !== null) environ.HTTP_IF_NONE_MATCH = unversioned;
    try {
      answer = await answerOf(inner, environ, choose);
      if (route !== null) answer = await wholeForPart(inner, environ, route, answer, choose);
    } finally {
      if (unversioned !== null) environ.HTTP_IF_NONE_MATCH = ifNoneMatch;
    }
    const { started, headers } = answer;
    // A `Content-Length` the server refuses (-2), and bytes in memory that belie their length,
    // are the server's to refuse (a 500), not dropped or made a whole.
    const declared = declaredLengthOf(headers.list);
    const refused = declared === -2;
    const transform = refused || (environ.REQUEST_METHOD !== 'HEAD' && beliesLength(started.body, declared)) ? null : answer.transform;
    if (transform === null) {
      // The tag of these rules first: a client holding a page of no version as well (cached
      // before the version was set) is told the current one is fresh, not the old one.
      const notModified = !refused && statusCode(started.status) === 304;
      const variant =
        notModified &&
        ((version !== undefined && versionNotModified(environ, headers, version)) ||
          weakenNotModified(environ, headers) ||
          // By a date alone: a filter that drops the date sent it with nothing it transformed.
          (!dropsLastModified && weakenDatedNotModified(environ, headers)));
      // Any 304 with a weak tag may be one of a rewritten page (the upstream's tag was weak, or a
      // filter below weakened it), which had no Last-Modified; a 304 with a tag needs none
      // (RFC 9110 §15.4.5), so an untransformed page loses nothing. A strong tag is never one
      // of a rewritten page: that 304 is left as it is.
      const dropDate = dropsLastModified && notModified && headers.has('last-modified') && (variant || parseEtag(headers.get('etag'))?.weak === true);
      if (dropDate) headers.delete('last-modified');
      passHead(started, startResponse, variant || dropDate ? headers.list : started.headers);
      return started.body;
    }
    markTransformed(headers);
    if (dropsLastModified) headers.delete('last-modified');
    const etag = version === undefined ? null : parseEtag(headers.get('etag'));
    if (etag !== null) headers.set('ETag', versionedEtag(etag, version!));
    passHead(started, startResponse, headers.list);
    // HEAD: the fields a GET would get, and no body. Not the app's: a raw app that returns its GET
    // body to HEAD too would have the server frame the head with the untransformed length
    // (docs/spec.md §7.2), which RFC 9110 §8.6 forbids; the transformed one is known only by transforming.
    if (environ.REQUEST_METHOD === 'HEAD') {
      started.close();
      return [];
    }
    // The field is gone, and with it the server's check: a stream must still keep to it.
    const body = transform(keepingLength(started.body, declared));
    // A transformation closed before its first chunk must still close the app's body.
    return isAsyncIterable(body) ? closingSource(body, started.close) : body;
  });
}

/** An app's answer, and what a filter would do with it. */
interface Answer {
  started: StartedApp;
  /** A copy of its fields, as `choose` left them. */
  headers: HeaderList;
  /** The transformation `choose` answered, or null when the body stays as it is. */
  transform: ((body: Body) => Body) | null;
}

/** Calls `app`, and asks `choose` about the answer when it is transformable. */
async function answerOf(app: App, environ: Environ, choose: ChooseTransform): Promise<Answer> {
  const started = await callAppKeepingHead(app, environ);
  const headers = new HeaderList();
  headers.list.push(...started.headers);
  const transform = isTransformable(statusCode(started.status), headers) ? choose(headers, environ, started.headers) : null;
  return { started, headers, transform };
}

/**
 * `first`, or the answer to the same request without `Range` and `If-Range` when `first` is a
 * part (or a 416) of what the filter would transform ({@link partOf}); the answer not sent is
 * closed. A part known to be replaced is closed before the app is called again, so what its
 * body holds (a file, the one connection of a pool) is free for the second call.
 */
async function wholeForPart(app: App, environ: Environ, route: Route, first: Answer, choose: ChooseTransform): Promise<Answer> {
  const part = partOf(environ, first, choose);
  if (part === null) return first;
  // Not awaited: a generator's `finally` runs at once up to its first `await`.
  if (part === 'yes') first.started.close();
  let whole: Answer;
  try {
    whole = await wholeOf(app, environ, route, choose);
  } catch (error) {
    first.started.close();
    throw error;
  }
  if (part === 'maybe' && whole.transform === null) {
    whole.started.close();
    return first;
  }
  first.started.close();
  return whole;
}

/**
 * Whether `answer` to a GET or HEAD with `Range` stands for a whole the filter transforms: 'yes' for a
 * part (206, or `Content-Range`) whose fields `choose` would transform (asked on a copy),
 * 'maybe' when only the whole's fields can tell (a 416, whose fields are an error page's; a
 * `multipart/byteranges` 206, whose parts carry the type), null otherwise.
 */
function partOf(environ: Environ, answer: Answer, choose: ChooseTransform): 'yes' | 'maybe' | null {
  const code = statusCode(answer.started.status);
  if (code === 416) return 'maybe';
  if (code !== 206 && !answer.headers.has('content-range')) return null;
  if (parseMediaType(answer.headers.get('content-type')).type === 'multipart/byteranges') return 'maybe';
  return choose(new HeaderList(answer.headers), environ, answer.started.headers) === null ? null : 'yes';
}

/**
 * The answer to the request for the whole: the app asked again without `Range` and `If-Range`,
 * routed from `route` ({@link withoutRange}), and `choose` asked about it before both are put back.
 */
async function wholeOf(app: App, environ: Environ, route: Route, choose: ChooseTransform): Promise<Answer> {
  return withoutRange(environ, route, () => answerOf(app, environ, choose));
}

/** The code of a status line (`"206 Partial Content"` → 206). */
function statusCode(status: string): number {
  return Number(status.slice(0, 3));
}
