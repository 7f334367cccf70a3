/**
 * Response compression: gzip, deflate, Brotli and zstd with node:zlib, negotiated by
 * `Accept-Encoding`, streamed with a flush whenever the app makes the client wait.
 *
 * @module
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { type App, type AppLike, type Body, type Environ, toApp } from '../gateway/types.ts';
import { type BodyIterator, checkChunk, closeBody, closingSource, concatBytes, isThenable, openBody } from '../gateway/body.ts';
import { isEventStreamType } from '../gateway/shutdown.ts';
import { logRequestError } from '../gateway/log.ts';
import { unlessAbort } from '../gateway/abort.ts';
import { hasNoContent } from '../gateway/status.ts';
import { HeaderList, appendVary } from '../http/header-list.ts';
import { chooseCoding } from '../http/coding-choice.ts';
import { type StartedApp, callAppKeepingHead, passHead } from '../gateway/call-app.ts';
import { passingFirstStepFailure } from '../gateway/first-step-failure.ts';
import { keepRelayed } from '../gateway/relayed.ts';
import { parseHttpDate } from '../http/dates.ts';
import { checkDeclaredLength, checkNotLonger, declaredLengthOf, refusesDeclaredLength } from '../gateway/head-rules.ts';
import { parseContentRange } from '../http/range.ts';
import { raceImmediate } from '../gateway/race-immediate.ts';
import { compressibleLoaded, isCompressible, loadCompressible, preloadCompressible } from './compressible-loader.ts';
import {
  isNoTransform,
  markTransformed,
  weakenDatedNotModified,
  weakenNotModified,
} from './body-filter.ts';
import { type Route, routeOf, withoutFields, withoutRange } from './ask-without-range.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';

/** A content coding {@link compress} can apply. */
export type Coding = 'br' | 'gzip' | 'deflate' | 'zstd';

/** Options of {@link compress}. */
export interface CompressOptions {
  /**
   * The codings offered, most preferred first: when the client weighs several equally, the
   * first wins. Default `['br', 'gzip', 'deflate']`: `zstd` (RFC 8878, the `zstd` coding of RFC
   * 9659) is opt-in, as with nginx and Express, and needs a node:zlib that has it (Node 22.15,
   * 23.8 and later). An empty list is a `TypeError` (it would compress nothing).
   */
  encodings?: readonly Coding[] | undefined;
  /**
   * Bodies smaller than this many bytes are sent as they are; default 1024. Applies when the
   * size is known (`Content-Length`, or a body already in memory); a stream of unknown size is
   * always compressed.
   */
  threshold?: number | undefined;
  /** gzip/deflate level, 0 (none) to 9 (best), or -1 for zlib's default (6). Default -1. */
  level?: number | undefined;
  /**
   * Brotli quality, 0 to 11. Default 4: on-the-fly, 11 costs far more CPU than it saves. The
   * window is 2^19 bytes (512 KiB, nginx's `brotli_window` default), so a stream being
   * compressed holds about an eighth of the memory of brotli's default 4 MiB window.
   */
  brotliQuality?: number | undefined;
  /**
   * zstd level, 1 (fastest) to 19 (best). Default 3, zstd's own default. The window is 2^19
   * bytes (512 KiB, as brotli's here) instead of the 2 MiB level 3 takes for a stream of
   * unknown size, well under the 8 MiB a client must accept (RFC 9659 §3), so a stream being
   * compressed holds about 2 MiB at level 3 (3.7 MiB with zstd's own window).
   */
  zstdLevel?: number | undefined;
  /**
   * Decides from the `Content-Type` whether a response is worth compressing. Default: the
   * `compressible` package (mime-db's flag, plus `text/*`, `+json`, `+text`, `+xml`), so
   * images, video, archives and unknown types are left alone.
   */
  filter?: ((contentType: string, environ: Environ) => boolean) | undefined;
}

/** Every option of {@link CompressOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const COMPRESS_OPTIONS = { encodings: true, threshold: true, level: true, brotliQuality: true, zstdLevel: true, filter: true } as const satisfies OptionNames<CompressOptions>;

const DEFAULT_ENCODINGS: readonly Coding[] = ['br', 'gzip', 'deflate'];
/** Large enough that zlib never waits for us to read before finishing a flush. */
const OUTPUT_BUFFER = 2 ** 30;

const oneShot: Record<Coding, (input: Uint8Array, options: zlib.ZlibOptions | zlib.BrotliOptions | zlib.ZstdOptions) => Promise<Buffer>> = {
  br: promisify(zlib.brotliCompress),
  gzip: promisify(zlib.gzip),
  deflate: promisify(zlib.deflate),
  // Looked up when called: node:zlib has no zstd before Node 22.15 and 23.8 (refused by `compress`).
  zstd: (input, options) => promisify(zlib.zstdCompress)(input, options as zlib.ZstdOptions),
};

/** True when this node:zlib encodes zstd (Node 22.15, 23.8 and later). */
const hasZstd = (): boolean => typeof zlib.createZstdCompress === 'function' && typeof zlib.zstdCompress === 'function';

/**
 * Compresses responses for clients that ask for it (RFC 9110 §8.4.1, §12.5.3).
 *
 * The coding is the one the client's `Accept-Encoding` weighs highest among `encodings`,
 * ties going to the earlier in `encodings` (so `br` before `gzip` before `deflate`; `zstd`
 * only when listed, where it is listed); nothing is
 * compressed when the header is absent or malformed (curl and old clients), when
 * `identity` is weighed higher, or when no offered coding is acceptable.
 *
 * A response passes through untouched when it is informational, 204 or 205 (RFC 9110
 * §15.3.6: no content, not even the 20 bytes of an empty gzip); when it has a
 * `Content-Encoding` already (other than `identity`); when its `Cache-Control` has
 * `no-transform` (RFC 9111 §5.2.2.6); when it has no `Content-Type` or `filter` refuses it; or
 * when its `Content-Length` is one the server refuses (not digits alone, or given twice: left
 * for the server's 500, whatever the client asked for).
 * Otherwise `Vary: Accept-Encoding` is added (through `vary`), even if this response ends up
 * uncompressed: a body smaller than `threshold`, a client that did not ask, or a part (206, or
 * a `Content-Range`), never compressed since its range addresses the identity bytes but
 * sent with the `Vary` of the 200 it is part of (RFC 9110 §15.3.7); but to a download
 * resumed by date (`If-Range: <Last-Modified>`, which the coded 200 kept), a part of a whole
 * this client would get coded is replaced by that whole, coded (the app is asked again
 * without `Range` and `If-Range`): the client's first bytes may be coded ones. Parts of
 * several ranges (`multipart/byteranges`) do not tell the whole's type: the whole is asked
 * for, and when it is not coded after all (an image) the parts are asked for again. A HEAD answer
 * gets the fields GET would get (RFC 9110 §9.3.2), without the `Content-Length` only
 * compressing would tell. When compressing, `Content-Encoding` is set; `Content-Length` and
 * `Accept-Ranges` are dropped (byte ranges would address the identity bytes, as nginx does;
 * the body must still keep to that length, as the server checks it: see below),
 * and so are `Content-Digest`, `Repr-Digest`, `Digest` and `Content-MD5` (RFC 9530: digests
 * of the bytes with their coding);
 * a strong `ETag` becomes weak (`W/"…"`), since the bytes differ but the meaning does not; one
 * that is no entity tag even read leniently (a list) is dropped, as nginx drops it.
 *
 * A 304 carries the validator and the `Vary` the 200 to the same request would carry (RFC
 * 9110 §15.4.5): to a request whose `If-None-Match` names the weakened `W/"x"` of the app's
 * strong `"x"` (and not `"x"`), it is sent with `W/"x"`, without the fields compressing
 * drops, and with `Vary: Accept-Encoding`. Any other 304 to a GET or HEAD gets that `Vary`
 * too, unless it has `Cache-Control: no-transform`, a `Vary` of `*` or naming
 * `Accept-Encoding` already, or a `Content-Type` that `filter` refuses (an upstream's 304 of an
 * image). A 304 usually has no type (tsgi's own have none), so it cannot tell whether its 200
 * was compressible: the app is not asked again, and the 304 of an image without a type gets a
 * `Vary` its 200 lacked (a cache merges it into the stored 200, RFC 9111 §4.3.4, at worst
 * keeping one copy per coding). Such a 304 to a request without `If-None-Match` (revalidated by
 * `If-Modified-Since` alone), from a client that takes a coding of `encodings`, is sent with
 * `W/"x"` for the app's strong `"x"` too, without the fields compressing drops: the request
 * does not tell which 200 the client holds, and a cache updates only the stored responses
 * that a strong tag in the 304 names (RFC 9111 §4.3.4), so `"x"` would refresh no coded 200
 * (stored with `W/"x"`), where a weak tag selects by weak comparison, which both pass (an
 * identity 200 refreshed by it keeps `W/"x"`).
 *
 * A body already in memory (an array, e.g. from a `Response`) is compressed in one go and
 * sent with a `Content-Length`; its chunks are checked as the server checks them (a string
 * in it is the server's `TypeError`, a 500, whatever the client asked). A streamed body is
 * compressed as it comes and flushed (`Z_SYNC_FLUSH`, `BROTLI_OPERATION_FLUSH`, `ZSTD_e_flush`) and sent
 * whenever its next chunk is not there by the event loop's next turn (`setImmediate`), and
 * after every 16 KiB of content it had at once: server-sent events and long polls arrive one
 * by one, while the rows of an export yielded a microtask apart share a flush instead of
 * costing one each. The app is never read more than one chunk ahead of the client
 * (backpressure). An error from the app's body
 * or from zlib propagates, so the server aborts the connection instead of ending the body
 * cleanly, and so does a streamed body that ends short of the app's `Content-Length` or runs
 * past it (a `TypeError`, as the server's own check; bytes in memory that do not add up to it
 * are passed on uncompressed, for the server to refuse); when the client leaves, the app's
 * body is closed (`return()`) at once, also while it waits for its next event (an idle event
 * stream). A body that fails before its first chunk, once the app gave its head, is passed on
 * as it came (that head, untouched, then the failure), so the server answers it as without
 * `compress`: its 500 or the exception's answer, keeping the head's fields of no
 * representation (`X-Request-Id`, `Access-Control-*`: docs/spec.md §7.4).
 *
 * @example
 * ```ts
 * import { compress } from 'tsgi/middleware';
 *
 * export const app = compress(site);                                  // br, gzip, deflate
 * export const api = compress(apiApp, { encodings: ['gzip'], threshold: 256 });
 * export const modern = compress(site, { encodings: ['zstd', 'br', 'gzip'] });     // zstd first
 * ```
 *
 * @throws TypeError (at once) for an empty `encodings` or an unknown coding in it, a coding whose encoder
 *   this runtime's node:zlib cannot make (workerd with `no_nodejs_zlib`; the message names the
 *   reason), `zstd` where node:zlib has no zstd (before Node 22.15 and 23.8), or a `threshold`,
 *   `level`, `brotliQuality` or `zstdLevel` out of range.
 */
export function compress(app: AppLike, options: CompressOptions = {}): App {
  const inner = toApp(app);
  checkOptions('compress', options, COMPRESS_OPTIONS);
  const encodings = [...(options.encodings ?? DEFAULT_ENCODINGS)];
  // None would never compress, yet add `Vary: Accept-Encoding` to every answer it would have.
  if (encodings.length === 0) throw new TypeError("compress: encodings must name at least one coding ('br', 'gzip', 'deflate', 'zstd'); to compress nothing, leave compress out");
  for (const coding of encodings) {
    if (!Object.hasOwn(oneShot, coding)) throw new TypeError(`compress: unknown coding ${JSON.stringify(coding)}`);
    if (coding === 'zstd' && !hasZstd()) throw new TypeError('compress: this node:zlib cannot encode zstd (Node 22.15 and 23.8 can)');
    const reason = unusable(coding);
    if (reason !== undefined) throw new TypeError(`compress: this runtime's node:zlib cannot encode ${coding} (${reason})`);
  }
  const threshold = options.threshold ?? 1024;
  if (!(threshold >= 0)) throw new TypeError('compress: threshold must be a number of bytes >= 0');
  const level = options.level ?? zlib.constants.Z_DEFAULT_COMPRESSION;
  if (!Number.isInteger(level) || level < -1 || level > 9) throw new TypeError('compress: level must be an integer from -1 to 9');
  const quality = options.brotliQuality ?? 4;
  if (!Number.isInteger(quality) || quality < 0 || quality > 11) {
    throw new TypeError('compress: brotliQuality must be an integer from 0 to 11');
  }
  const zstdLevel = options.zstdLevel ?? 3;
  if (!Number.isInteger(zstdLevel) || zstdLevel < 1 || zstdLevel > 19) throw new TypeError('compress: zstdLevel must be an integer from 1 to 19');
  // The default filter's package loads now, in the background (compressible-loader.ts).
  const custom = options.filter;
  if (custom === undefined) preloadCompressible();
  const filter = custom ?? isCompressible;
  const settings: Settings = { level, quality, zstdLevel };
  const choice: Choice = { encodings, threshold, filter };

  return passingFirstStepFailure(async (environ, startResponse) => {
    // A request sooner than the load waits for it; a failed load is this request's 500.
    if (custom === undefined && compressibleLoaded() === undefined) await loadCompressible();
    // Read before the app runs: a layer below may change it while it calls its own app
    // (`decodeContent` narrows it for the upstream), and the client's field is what counts here.
    const acceptEncoding = environ.HTTP_ACCEPT_ENCODING as string | undefined;
    // Where the request was routed from (a `mount` below moves its prefix), for asking again.
    const route = resumesByDate(environ) ? routeOf(environ) : null;
    let started = await callAppKeepingHead(inner, environ);
    if (route !== null) started = await resumedAnswer(inner, environ, route, acceptEncoding, started, choice);
    const headers = new HeaderList(started.headers);
    const known = Array.isArray(started.body) ? (started.body as Uint8Array[]) : null;
    // A `Content-Length` the server refuses (its 500): left for it to refuse, not dropped by a
    // coding or by a 304's weakened tag (`decide` reads the field of any other answer itself).
    const decision = !started.status.startsWith('304')
      ? decide(environ, acceptEncoding, started.status, headers, known, choice)
      : refusesDeclaredLength(headers.list)
        ? NONE
        : decideNotModified(environ, acceptEncoding, headers, choice);
    if (decision.vary) appendVary(headers.list, 'Accept-Encoding');
    if (decision.coding === null) {
      passHead(started, startResponse, decision.vary ? headers.list : started.headers);
      return started.body;
    }
    const coding = decision.coding;
    markTransformed(headers);
    headers.delete('content-encoding');
    headers.set('Content-Encoding', coding);
    if (environ.REQUEST_METHOD === 'HEAD') {
      // The fields GET would have (RFC 9110 §9.3.2); the length, known only once compressed, is left out.
      started.close();
      startResponse(started.status, keepRelayed(started.headers, headers.list));
      return [];
    }
    if (known !== null) {
      // Checked as the server checks them: zlib would take a string too, and a gzip client only would get the page.
      for (const chunk of known) checkChunk(chunk);
      const input = concatBytes(known, decision.knownSize);
      const output = await oneShot[coding](input, zlibOptions(coding, settings, input.byteLength));
      passHead(started, startResponse, headers.list);
      return [output];
    }
    passHead(started, startResponse, headers.list);
    // An event stream ends at the server's shutdown (docs/spec.md §2.6): here, where its coding can be finished.
    const type = headers.get('content-type');
    const signal = type !== null && isEventStreamType(type) ? environ['tsgi.shutdown_signal'] : undefined;
    const declared = decision.declared ?? -1;
    if (signal === undefined) return closingSource(compressStream(started.body, coding, settings, declared), started.close);
    const closed = new AbortController();
    const log = (error: unknown) =>
      logRequestError(environ['tsgi.errors'], environ, ' (compress, closing an event stream)', error);
    const close = () => {
      closed.abort();
      return started.close();
    };
    return closingSource(compressStream(started.body, coding, settings, declared, { signal, closed: closed.signal, log }), close);
  });
}

interface Settings {
  level: number;
  quality: number;
  zstdLevel: number;
}

/**
 * True for a GET or HEAD with `Range` whose `If-Range` is a date. The client's pieces may be
 * of a coded 200: that 200 kept the app's `Last-Modified` (only its `ETag` is made weak, which
 * `If-Range` never matches), so the date holds for the app, whose 206 counts identity bytes.
 */
function resumesByDate(environ: Environ): boolean {
  if (typeof environ.HTTP_RANGE !== 'string' || (environ.REQUEST_METHOD !== 'GET' && environ.REQUEST_METHOD !== 'HEAD')) return false;
  const ifRange = typeof environ.HTTP_IF_RANGE === 'string' ? environ.HTTP_IF_RANGE.trim() : '';
  return !ifRange.startsWith('"') && !ifRange.startsWith('W/') && parseHttpDate(ifRange) !== null;
}

/**
 * Whether `started` is part of a whole that this client would get coded: 'yes' for one part (a
 * 206, or a `Content-Range`) whose fields, as the 200's (`Content-Length` the complete length),
 * pass {@link decide} with a coding; 'maybe' for a `multipart/byteranges` 206 to a client that
 * takes a coding, whose parts carry the type, so only the whole's fields can tell; else null.
 */
function partOfCoded(environ: Environ, acceptEncoding: string | undefined, started: StartedApp, options: Choice): 'yes' | 'maybe' | null {
  const headers = new HeaderList(started.headers);
  if (started.status.startsWith('206') && isByteranges(headers.get('content-type'))) {
    return chooseCoding(acceptEncoding, options.encodings) === null ? null : 'maybe';
  }
  const part = parseContentRange(headers.get('content-range'));
  if (part === null || part.range === null) return null;
  headers.delete('content-range');
  if (part.size === null) headers.delete('content-length');
  else headers.set('Content-Length', part.size);
  return decide(environ, acceptEncoding, '200 OK', headers, null, options).coding !== null ? 'yes' : null;
}

/** True for a `Content-Type` of `multipart/byteranges` (a 206 of several ranges). */
function isByteranges(type: string | null): boolean {
  return type !== null && type.split(';')[0]!.trim().toLowerCase() === 'multipart/byteranges';
}

/**
 * What to send for `first`, the answer to a download resumed by date ({@link resumesByDate}):
 * `first` itself, unless it is part of a whole this client would get coded
 * ({@link partOfCoded}); then the answer to the request without `Range` and `If-Range` (a 200
 * is a valid answer to a range request, RFC 9110 §14.2). `first` is closed before the app is
 * called again: what its body holds (a file, the one connection of a pool, a lock its
 * `finally` releases) is let go first, or a second call waiting for it would wait for itself.
 * When only the whole could tell (several ranges) and it is not coded after all (an image),
 * the parts are asked for again, a third call. The app is called through {@link withoutRange},
 * as the body filters call it: on `environ` itself, routed from `route`, both fields put back
 * once its status is known.
 */
async function resumedAnswer(app: App, environ: Environ, route: Route, acceptEncoding: string | undefined, first: StartedApp, options: Choice): Promise<StartedApp> {
  const part = partOfCoded(environ, acceptEncoding, first, options);
  if (part === null) return first;
  // Not awaited: a generator's `finally` runs at once up to its first `await`; one that never
  // settles must not hold the request.
  first.close();
  const whole = await withoutRange(environ, route, () => callAppKeepingHead(app, environ));
  if (part === 'yes' || isCoded(environ, acceptEncoding, whole, options)) return whole;
  whole.close();
  return withoutFields(environ, route, [], () => callAppKeepingHead(app, environ));
}

/** True when {@link decide} gives `started`, an answer that is no 304, a coding. */
function isCoded(environ: Environ, acceptEncoding: string | undefined, started: StartedApp, options: Choice): boolean {
  const known = Array.isArray(started.body) ? (started.body as Uint8Array[]) : null;
  return !started.status.startsWith('304') && decide(environ, acceptEncoding, started.status, new HeaderList(started.headers), known, options).coding !== null;
}

/** What {@link decide} weighs a response against: the options of {@link compress}, checked. */
interface Choice {
  encodings: Coding[];
  threshold: number;
  filter: (type: string, environ: Environ) => boolean;
}

interface Decision {
  /** The coding to apply, or null. */
  coding: Coding | null;
  /** Whether to add `Vary: Accept-Encoding`. */
  vary: boolean;
  /** The summed length in bytes of the body's chunks in memory, when they were counted (no valid `Content-Length`). */
  knownSize?: number | undefined;
  /** The app's `Content-Length`, which a streamed body must keep to (the server's check, lost with the field); -1 for none. */
  declared?: number | undefined;
}

const NONE: Decision = { coding: null, vary: false };
/** Not compressed, but `Vary: Accept-Encoding` added. */
const VARY_ONLY: Decision = { coding: null, vary: true };

function decide(
  environ: Environ,
  acceptEncoding: string | undefined,
  status: string,
  headers: HeaderList,
  known: Uint8Array[] | null,
  options: Choice,
): Decision {
  const code = Number(status.slice(0, 3));
  // 205 too: it must carry no content (RFC 9110 §15.3.6), not even the coding of an empty one.
  if (!(code >= 200) || hasNoContent(code)) return NONE;
  // A part (206, or a `Content-Range`) is sent as it is: its range addresses the identity bytes.
  const partial = code === 206 || headers.has('content-range');
  const encoding = headers.getAll('content-encoding').join(',').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') return NONE;
  if (isNoTransform(headers)) return NONE;
  const type = headers.get('content-type');
  // Several ranges: each part carries the type (RFC 9110 §14.6), so whether the 200 would be
  // compressed is not known here, and its `Vary` is sent as it may have been.
  if (partial && isByteranges(type)) return VARY_ONLY;
  if (type === null || !options.filter(type, environ)) return NONE;
  // The 200 it is part of would vary by `Accept-Encoding`, and a 206 carries that 200's `Vary`
  // (RFC 9110 §15.3.7), so a cache does not answer a client of another coding with it.
  if (partial) return VARY_ONLY;
  const declared = declaredLengthOf(headers.list);
  // One the server refuses (its 500, whatever the client asked for) is left to it, not dropped.
  if (declared === -2) return NONE;
  let size = declared === -1 ? null : declared;
  let knownSize: number | undefined;
  const inMemory = known === null ? -1 : known.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  // A HEAD answer's empty body says nothing about the GET body, but one a raw app sent anyway
  // without a length is the GET body, whose length the server reads too (docs/spec.md §7.2).
  if (known !== null && (environ.REQUEST_METHOD !== 'HEAD' || (declared === -1 && inMemory > 0))) {
    knownSize = inMemory;
    // Bytes that belie their length are the server's to refuse (a 500), not compressed into a whole.
    if (declared !== -1 && knownSize !== declared) return NONE;
    size = knownSize;
  }
  if (size !== null && size < options.threshold) return VARY_ONLY;
  return { coding: chooseCoding(acceptEncoding, options.encodings), vary: true, knownSize, declared };
}

/**
 * The decision for a 304: it carries the validator and the `Vary` of the 200 it stands for
 * (RFC 9110 §15.4.5). The validator sent back tells of a compressed 200 ({@link
 * weakenNotModified}, which sets its `ETag`). Otherwise the 304, which usually has no type,
 * does not tell whether its 200 was one `compress` adds `Vary` to; the app is not asked again
 * (a second call would cost its work for a 200 on every such revalidation), so the `Vary` is
 * added unless the 304 itself tells otherwise: no GET or HEAD, `Vary: Accept-Encoding` (or
 * `*`) already, `Cache-Control: no-transform`, or a `Content-Type` that `filter` refuses. A
 * 304 given that `Vary`, to a request without `If-None-Match` (or with `*`) from a client that
 * takes one of the codings, gets a strong `ETag` weakened ({@link weakenDatedNotModified}): the
 * client may hold the coded 200, which only a weak tag refreshes (RFC 9111 §4.3.4).
 */
function decideNotModified(
  environ: Environ,
  acceptEncoding: string | undefined,
  headers: HeaderList,
  options: Choice,
): Decision {
  if (weakenNotModified(environ, headers)) return VARY_ONLY;
  const method = environ.REQUEST_METHOD;
  if ((method !== 'GET' && method !== 'HEAD') || variesByCoding(headers) || isNoTransform(headers)) return NONE;
  const type = headers.get('content-type');
  if (type !== null && !options.filter(type, environ)) return NONE;
  // No `If-None-Match` tag to tell which 200 the client holds: a client of a coding may hold the
  // coded one, which a weak tag refreshes and the app's strong one does not (RFC 9111 §4.3.4).
  const coded = chooseCoding(acceptEncoding, options.encodings) !== null;
  if (coded) weakenDatedNotModified(environ, headers);
  return VARY_ONLY;
}

/** True when the response's `Vary` names `Accept-Encoding` or is `*`. */
function variesByCoding(headers: HeaderList): boolean {
  return headers
    .getAll('vary')
    .flatMap((value) => value.split(','))
    .some((name) => {
      const field = name.trim().toLowerCase();
      return field === '*' || field === 'accept-encoding';
    });
}

/**
 * The brotli window, log2 bytes: 2^19 (512 KiB, nginx's `brotli_window` default) instead of
 * brotli's 4 MiB, so each stream being compressed holds an eighth of the memory, for a ratio a
 * web page barely notices.
 */
const BROTLI_WINDOW = 19;

/**
 * The zstd window, log2 bytes: 2^19 (512 KiB), as brotli's, instead of the 2 MiB zstd's level 3
 * takes for a stream of unknown size (and 8 MiB at 19, the most RFC 9659 §3 lets the `zstd`
 * coding use): each stream being compressed holds about 2 MiB at level 3 with its tables and
 * buffers, against 3.7 MiB.
 */
const ZSTD_WINDOW = 19;

function zlibOptions(coding: Coding, settings: Settings, size?: number): zlib.ZlibOptions | zlib.BrotliOptions | zlib.ZstdOptions {
  if (coding === 'zstd') {
    return { params: { [zlib.constants.ZSTD_c_compressionLevel]: settings.zstdLevel, [zlib.constants.ZSTD_c_windowLog]: ZSTD_WINDOW } };
  }
  if (coding !== 'br') return { level: settings.level };
  const params: Record<number, number> = { [zlib.constants.BROTLI_PARAM_QUALITY]: settings.quality, [zlib.constants.BROTLI_PARAM_LGWIN]: BROTLI_WINDOW };
  if (size !== undefined) params[zlib.constants.BROTLI_PARAM_SIZE_HINT] = size;
  return { params };
}

/** Per coding, why this runtime's node:zlib cannot make its encoder (the error's message), or `undefined` when it can: asked once. */
const UNUSABLE = new Map<Coding, string | undefined>();

/**
 * Why an encoder of `coding` cannot be made here, or `undefined`: one is made and destroyed the
 * first time a `compress` lists the coding. workerd's node:zlib without its `nodejs_zlib` flag
 * (`no_nodejs_zlib`) has every function, each throwing when called.
 */
function unusable(coding: Coding): string | undefined {
  if (!UNUSABLE.has(coding)) {
    let reason: string | undefined;
    try {
      createCompressor(coding, { level: 1, quality: 0, zstdLevel: 1 }).destroy();
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
    UNUSABLE.set(coding, reason);
  }
  return UNUSABLE.get(coding);
}

type Compressor = zlib.Gzip | zlib.Deflate | zlib.BrotliCompress | zlib.ZstdCompress;

function createCompressor(coding: Coding, settings: Settings): Compressor {
  const options = { ...zlibOptions(coding, settings), readableHighWaterMark: OUTPUT_BUFFER };
  if (coding === 'br') return zlib.createBrotliCompress(options);
  if (coding === 'zstd') return zlib.createZstdCompress(options as zlib.ZstdOptions);
  return coding === 'gzip' ? zlib.createGzip(options) : zlib.createDeflate(options);
}

/**
 * Everything the compressor holds, as one buffer (`null` when it holds nothing). Node's
 * `read()` answers the whole buffer at once; Bun's and Deno's `node:zlib` answer one buffered
 * chunk per call (a flush's gzip header, then its data), so a single `read()` there sent each
 * chunk's bytes one chunk late.
 */
function readAll(z: Compressor): Buffer | null {
  const first = z.read() as Buffer | null;
  if (first === null || z.readableLength === 0) return first;
  const parts = [first];
  for (let part = z.read() as Buffer | null; part !== null; part = z.read() as Buffer | null) parts.push(part);
  return Buffer.concat(parts);
}

/** Each coding's flush (all output so far made decodable, the coding going on), read when used: zstd's constants may be absent. */
const FLUSH: Record<Coding, () => number> = {
  br: () => zlib.constants.BROTLI_OPERATION_FLUSH,
  gzip: () => zlib.constants.Z_SYNC_FLUSH,
  deflate: () => zlib.constants.Z_SYNC_FLUSH,
  zstd: () => zlib.constants.ZSTD_e_flush,
};

/** What {@link nextOrStop} answers once the shutdown began, or the stream was closed. */
const STOP: unique symbol = Symbol('stop');

type Step = IteratorResult<Uint8Array>;

/** An event stream's shutdown, as {@link compressStream} heeds it. */
interface Shutdown {
  /** `tsgi.shutdown_signal`. */
  signal: AbortSignal;
  /**
   * This stream's own signal, aborted when its reader closes it (the client left): a step left
   * waiting then lets go of `signal`, which outlives every request (its listener would keep
   * this one alive for as long as the app's step never settles).
   */
  closed: AbortSignal;
  /** Where a failure of the body's `return()`, or of the step left pending, goes. */
  log: (error: unknown) => void;
}

/**
 * Compresses `body` as it comes: the chunks it has at once (its next one settles before a
 * `setImmediate`) are gathered, up to {@link BATCH} bytes, then written and flushed, and the
 * output yielded; the step asked for to tell is the next one taken. Closing this generator
 * early closes `body` and frees the compressor. With `declared` (the app's `Content-Length`,
 * else -1), a body that proves longer, or ends shorter, throws the server's `TypeError`
 * instead of finishing the coding (the field is dropped, so the server no longer checks it).
 *
 * With `shutdown` (an event stream under `tsgi.shutdown_signal`), when the signal aborts (a
 * turn of the event loop after this stream began for one begun once it had, so that an event
 * the body has at once, the one a layer took to answer the head, is sent), even
 * while the body waits for its next event: the body is closed (`return()`, not waited for: a
 * generator takes it only once its current wait ends), and the coding is finished, its last
 * bytes yielded as one chunk (with the output of the chunks in hand), so the server ends the
 * response at once and the client decodes a whole stream. A failure of that `return()`, or
 * of the step left pending, goes to `shutdown.log`. Closed by its reader (`shutdown.closed`,
 * the client left) while the body's step is pending, it stops waiting the same way, so the
 * step, which may never settle, holds nothing through the shutdown's signal.
 */
async function* compressStream(body: Body, coding: Coding, settings: Settings, declared: number, shutdown?: Shutdown): AsyncGenerator<Uint8Array, void, undefined> {
  const z = createCompressor(coding, settings);
  const flushKind = FLUSH[coding]();
  let failure: unknown;
  z.on('error', (error) => {
    failure ??= error;
  });
  const step = (chunk: Uint8Array) =>
    new Promise<Buffer | null>((resolve, reject) => {
      const onError = (error: unknown) => reject(error);
      z.once('error', onError);
      z.write(chunk);
      z.flush(flushKind, () => {
        z.off('error', onError);
        if (failure !== undefined) reject(failure);
        else resolve(readAll(z));
      });
    });
  // A stream made once the shutdown began ends a turn of the event loop later, as the server
  // ends a plain one (`StreamStop`): an event it has at once is sent, not lost.
  let turn: ReturnType<typeof setTimeout> | undefined;
  if (shutdown?.signal.aborted === true) {
    const late = new AbortController();
    turn = setTimeout(() => late.abort(), 0);
    shutdown = { signal: late.signal, closed: shutdown.closed, log: shutdown.log };
  }
  const iterator = openBody(body);
  /** True once the body needs no closing here: it ended, or the shutdown closed it. */
  let ended = false;
  /** Output not yet yielded: at the shutdown, it goes out with the end of the coding. */
  const held: Buffer[] = [];
  let throwing = false;
  /** True once a chunk went out (the head with it). */
  let sent = false;
  /** The body's bytes read so far, checked against `declared`. */
  let read = 0;
  /** The body's chunks not yet written to the compressor: the ones it had at once. */
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  /** The body's next step, asked for while deciding whether to flush. */
  let ahead: ReturnType<typeof nextOrStop> | undefined;
  try {
    for (;;) {
      const next = await (ahead ?? nextOrStop(iterator, shutdown));
      ahead = undefined;
      if (next === STOP) break;
      if (next.done) {
        ended = true;
        // Short of its `Content-Length`: failed, not finished, so the client sees a cut as without compress.
        checkDeclaredLength(declared, read, false);
        break;
      }
      const chunk = checkChunk(next.value);
      read += chunk.byteLength;
      checkNotLonger(declared, read);
      if (chunk.byteLength === 0 && pendingBytes === 0) {
        // The app's way to send its head before any content (an event stream waiting for its
        // first event, spec §6): passed on while nothing was sent, so the head goes now.
        if (!sent) {
          sent = true;
          yield chunk;
        }
        continue;
      }
      // An empty chunk after content held for this flush adds nothing, but the flush is still
      // decided by whether the step after it is there at once.
      if (chunk.byteLength > 0) pending.push(chunk);
      pendingBytes += chunk.byteLength;
      if (pendingBytes < BATCH) {
        // A chunk the body has at once (the next row of a batch a cursor fetched) joins this
        // flush; one it has to wait for (the next batch, the next event) does not wait for it.
        ahead = nextOrStop(iterator, shutdown);
        if (!isThenable(ahead) || (await settlesAtOnce(ahead))) continue;
      }
      const output = await step(concatBytes(pending, pendingBytes));
      pending = [];
      pendingBytes = 0;
      if (output === null || output.byteLength === 0) continue;
      sent = true;
      if (shutdown?.signal.aborted === true) {
        held.push(output);
        break;
      }
      yield output;
    }
    if (!ended) {
      ended = true;
      void closeBody(iterator, shutdown!.log);
    }
    if (pendingBytes > 0) z.write(concatBytes(pending, pendingBytes));
    z.end();
    for await (const output of z as AsyncIterable<Buffer>) held.push(output);
    if (failure !== undefined) throw failure;
    if (held.length > 0) yield Buffer.concat(held);
  } catch (error) {
    throwing = true;
    // The body failed (or proved longer or shorter than declared) after chunks it had at once,
    // held for this flush, once the answer is under way (a chunk went out): coded and flushed
    // (a sync flush, the coding not ended) before the failure goes on, so the client gets every
    // byte the body gave before it, as without compress, then the cut: a truncated coded
    // stream. Not before anything went out: the failure then comes at the body's first step,
    // and the layers above (`errors`) and the server still answer a whole 500 in its place. Not
    // after a failure of zlib's own.
    if (sent && pendingBytes > 0 && failure === undefined) {
      const output = await step(concatBytes(pending, pendingBytes)).catch(() => null);
      pending = [];
      pendingBytes = 0;
      if (output !== null && output.byteLength > 0) yield output;
    }
    throw error;
  } finally {
    clearTimeout(turn);
    z.destroy();
    if (!ended) {
      // Closed early (the client left, or an error): close the body too, as `for await` would.
      let closeFailure: { error: unknown } | undefined;
      await closeBody(iterator, (error) => (closeFailure = { error }));
      if (closeFailure !== undefined && !throwing) throw closeFailure.error;
    }
  }
}

/**
 * Input bytes after which a flush is due even when the body has more at once: a progress bar
 * moves every 16 KiB of content, and a body read 16 KiB or more at a time (a file) is flushed
 * chunk by chunk, as before.
 */
const BATCH = 16 * 1024;

/** True when `step` settles before the event loop's next turn, rejected or not (its failure is for whoever awaits it). */
const settlesAtOnce = (step: PromiseLike<unknown>): Promise<boolean> => raceImmediate(step).then((value) => value !== undefined, () => true);

/**
 * The body's next step, or {@link STOP} once the shutdown's signal aborted or the stream was
 * closed (a step then left pending that fails is logged, but for an abort: the body stopping
 * on the signal as asked). Either way the listener on the shutdown's signal is removed at
 * once, not when the step settles, which it may never do.
 */
function nextOrStop(iterator: BodyIterator, shutdown: Shutdown | undefined): Step | typeof STOP | PromiseLike<Step | typeof STOP> {
  if (shutdown?.signal.aborted === true || shutdown?.closed.aborted === true) return STOP;
  const next = iterator.next() as Step | PromiseLike<Step>;
  if (shutdown === undefined || !isThenable<Step>(next)) return next;
  const { signal, closed, log } = shutdown;
  return new Promise<Step | typeof STOP>((resolve, reject) => {
    let stopped = false;
    const forget = () => {
      signal.removeEventListener('abort', onAbort);
      closed.removeEventListener('abort', onAbort);
    };
    function onAbort() {
      stopped = true;
      forget();
      resolve(STOP);
    }
    signal.addEventListener('abort', onAbort, { once: true });
    closed.addEventListener('abort', onAbort, { once: true });
    next.then(
      (value) => {
        forget();
        resolve(value);
      },
      (error: unknown) => {
        forget();
        if (stopped) unlessAbort(log)(error); // an abort: the body stopping on the signal as asked
        else reject(error);
      },
    );
  });
}
