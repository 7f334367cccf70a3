/**
 * Decoding compressed response bodies ({@link decodeContent}), as WebOb's
 * `Response.decode_content()`, streamed.
 *
 * @module
 */
import zlib from 'node:zlib';
import { type App, type AppLike, type Body, type Environ, toApp } from '../gateway/types.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';
import { chooseCoding } from '../http/coding-choice.ts';
import { HeaderList, appendVary } from '../http/header-list.ts';
import { responseMediaType } from './response-type.ts';
import { concatBytes } from '../gateway/body.ts';
import { type StartedApp, callAppKeepingHead, passHead } from '../gateway/call-app.ts';
import { passingFirstStepFailure } from '../gateway/first-step-failure.ts';
import { bodyFilter } from '../middleware/body-filter.ts';
import { decoderOutput } from '../middleware/decoder-output.ts';
import { GzipMembers } from '../middleware/gzip-members.ts';
import { WINDOW_TOO_LARGE, ZstdFrames, isWindowTooLarge } from '../middleware/zstd-decoder.ts';
import { HTTPBadGateway } from '../exceptions/server-errors.ts';
import { zlibError } from '../middleware/zlib-error.ts';
import { narrowAcceptEncoding } from './accept-codings.ts';
import { isTextType } from './text-types.ts';

type Decoding = 'gzip' | 'deflate' | 'br' | 'zstd';
const CODINGS: Record<string, Decoding> = { gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate', br: 'br' };
// zstd (RFC 8878), which Chrome and Firefox offer and Caddy or nginx's zstd module answer with:
// node:zlib decodes it from Node 22.15 and 23.8 on. On an older Node it passes through, as any
// other coding does.
if (typeof zlib.createZstdDecompress === 'function') CODINGS.zstd = 'zstd';
/** The codings offered upstream for `*` or an absent `Accept-Encoding` (`x-gzip` is kept only when the client names it). */
const OFFERED = Object.keys(CODINGS).filter((name) => name !== 'x-gzip');
/** The codings kept in the `Accept-Encoding` sent upstream when the client names them. */
const DECODABLE = Object.keys(CODINGS);

/** What {@link decodeContent} makes of an encoded answer: the coding it would decode, and whether only for a client that does not take it. */
interface Judgement {
  coding: Decoding;
  forClient: boolean;
}

/** The judgement of each answer {@link askingDecodable} judged, by the header list it passed on with it (its own). */
type Judgements = WeakMap<ReadonlyArray<readonly [string, string]>, Judgement>;

/** Options of {@link decodeContent}. */
export interface DecodeContentOptions {
  /**
   * Decides from the `Content-Type` (the lower-case essence, `text/html`) whether a filter
   * above reads the body, so that it is decoded for every client. A response it refuses (a
   * PDF, an image, a type-less body, one whose `Content-Type` is not one media type: two
   * fields or a list) is decoded only for a client whose `Accept-Encoding` does
   * not take its coding (as nginx's `gunzip on`); a client that takes it gets the upstream's
   * bytes, `Content-Length`, strong `ETag` and `206` parts as they came. Either way such a
   * response gets `Vary: Accept-Encoding`. Called once per answer in a coding decodeContent
   * reads (a range request whose part is replaced by the whole has two answers), with the
   * client's own `Accept-Encoding` in `environ`; never for another answer. Default: the text
   * `replaceText` reads (`text/*`, HTML included, JSON, JavaScript, XML, XHTML); `() => true`
   * decodes every response.
   */
  filter?: ((contentType: string, environ: Environ) => boolean) | undefined;
}

/** Every option of {@link DecodeContentOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const DECODE_CONTENT_OPTIONS = { filter: true } as const satisfies OptionNames<DecodeContentOptions>;

/**
 * Decodes response bodies sent with `Content-Encoding: gzip` (or `x-gzip`), `deflate` (zlib or
 * raw, as servers send both), `br` or `zstd` (where node:zlib has it: Node 22.15, 23.8 and
 * later), so a filter between it and the client can read the
 * text, and drops the `Content-Encoding` field; put `compress` on top to encode the result
 * again for clients that ask. Like every body filter, it drops `Content-Length` (coded bytes
 * that do not keep to it still fail, as without a filter),
 * `Accept-Ranges` and the digest fields, makes a strong `ETag` weak (a HEAD answer gets those
 * fields and loses its `Content-Encoding` too, as GET would), and leaves 204 and 304 answers
 * alone, and so a response whose `Cache-Control` has `no-transform` (RFC 9110 §7.7: a proxy
 * must not transform its content, coding included; it passes encoded, fields and bytes as they
 * came); a 206 of an encoded body (or a 416) to a range request is replaced by the
 * whole, decoded (the app is asked again without `Range`), so a client never gets encoded
 * bytes where the whole would be decoded. A body with another coding, or several, passes
 * through untouched. A gzip body of several members (RFC 1952 §2.2) is decoded whole, member
 * by member; bytes after the last member that start no member end the body there, unread, as
 * browsers ignore them (they read the first member only), where node:zlib's gunzip would fail.
 * A zstd body of several frames (RFC 8878 §3.1) is decoded whole, frame after frame; bytes
 * after the last frame that start no frame end the body there too, unread; a frame cut short
 * by the end of the body is corrupt data on every Node (Node 22's decoder does not report one:
 * the frames' structure is followed as the bytes pass).
 *
 * So that the app below (a `proxy`) is not answered in a coding it cannot decode, which would
 * pass every filter above untouched, the request's `Accept-Encoding` is narrowed while the app
 * is called: codings other than those above are left out, weights kept (`dcz, gzip;q=0.8` →
 * `gzip;q=0.8`); `*` stands for the codings above; an absent field (any coding acceptable,
 * RFC 9110 §12.5.3) becomes `gzip, deflate, br` (and `zstd`); and when nothing is left,
 * `identity`. Once the app's status is known (it returned, or for an app that starts its answer
 * lazily, in its body, that body made its first chunk), or it threw, the client's own value
 * (or its absence) is put back in the environ, so `compress` above negotiates with the
 * client's field. (nginx's advice for `sub_filter` is `proxy_set_header Accept-Encoding ""`,
 * which asks for identity only.) An app that reads `HTTP_ACCEPT_ENCODING` later, while the
 * rest of its body is read, sees the client's value.
 *
 * The body is decoded as it streams, in pieces of zlib's size (16 KiB, never much more than
 * 64 KiB however far a chunk inflates): the output of each chunk the app yields is sent before
 * the next is asked for, and the decoder pauses while the client has not taken what it made,
 * so a small body that inflates to gigabytes costs no more memory than a small one; a zstd
 * frame whose window is past 8 MiB (the most RFC 9659 §3 lets the coding use; zstd's own bound,
 * 128 MiB, held per response) is refused as corrupt data is. Corrupt
 * data makes the body throw an `HTTPBadGateway` (502) whose logged line names the coding and
 * the decoder's reason (`decodeContent: the response body is not valid gzip (incorrect header
 * check)`), so the server cuts the connection, or answers 502 if the head is not out yet.
 *
 * Only the text the filters read (`filter`: by default `text/*`, JSON, JavaScript, XML) is
 * decoded for every client; another type (a gzip'd PDF from an Apache that gzips every type) is
 * passed on still encoded, with its length and ranges, to a client that takes its coding, and
 * decoded for one that does not, with `Vary: Accept-Encoding` either way.
 *
 * @throws TypeError when built, for an unknown option.
 * @example
 * ```ts
 * import { compress } from 'tsgi/middleware';
 * import { decodeContent, proxy, rewriteHtml } from 'tsgi/proxy';
 *
 * // The upstream gzips; the rewriter reads text; compress encodes for the client again.
 * export const app = compress(rewriteHtml(decodeContent(proxy(OLD)), { elements: { … } }));
 * ```
 */
export function decodeContent(app: AppLike, options: DecodeContentOptions = {}): App {
  checkOptions('decodeContent', options, DECODE_CONTENT_OPTIONS);
  const filter = options.filter ?? isTextType;
  if (typeof filter !== 'function') throw new TypeError('decodeContent: filter must be a function (contentType, environ) => boolean');
  /** The coding decodeContent would decode, and whether only for a client that does not take it. */
  const judge = (headers: HeaderList, environ: Environ): Judgement | null => {
    const values = headers.getAll('content-encoding');
    if (values.length !== 1) return null;
    const coding = CODINGS[values[0]!.trim().toLowerCase()];
    if (coding === undefined) return null;
    const type = responseMediaType(headers).type;
    return { coding, forClient: type === '' || !filter(type, environ) };
  };
  // Each answer is judged once, below (`filter` called once): the filter reads the judgement of its head.
  const judgements: Judgements = new WeakMap();
  return bodyFilter(askingDecodable(toApp(app), judge, judgements), (headers, environ, given) => {
    const judged = judgements.get(given);
    if (judged === undefined) return null;
    const { coding, forClient } = judged;
    // No filter reads it: decoded only for a client that does not take the coding (the
    // client's Accept-Encoding is back in the environ once the app's head is known).
    if (forClient && chooseCoding(clientCodings(environ), [coding]) !== null) return null;
    headers.delete('content-encoding');
    return (body) => decodeStream(body, coding);
  });
}

/**
 * `body` decoded from the coding `contentEncoding` names (`gzip`, `x-gzip`, `deflate`, `br`,
 * `zstd` where node:zlib has it; case-insensitive), streamed as {@link decodeContent} decodes
 * it: each chunk's output before the next chunk is asked for, `body` closed when the result is.
 * What a browser does to the body before its `EventSource` reads it (`TestResponse.events()`),
 * as Chromium does it: of a gzip body the first member only (what follows it unread), and a
 * zstd body with bytes after its last frame that start none fails.
 *
 * @returns the decoded stream, or `null` for another coding (several codings included).
 * @throws (the iteration rejects with) HTTPBadGateway for data not valid in that coding.
 */
export function decodedBody(body: Body, contentEncoding: string): AsyncGenerator<Uint8Array, void, undefined> | null {
  const coding = CODINGS[contentEncoding.trim().toLowerCase()];
  return coding === undefined ? null : decodeStream(body, coding, true);
}

/**
 * `app` called with the request's `Accept-Encoding` narrowed to the codings decodeContent
 * reads ({@link narrowAcceptEncoding}), on the environ itself (docs/spec.md §8), until its
 * status is known ({@link callApp}: an app that starts its answer lazily, in its body, has
 * started it), and the client's value put back then, or when `app` throws. Each answer is
 * judged here, once (`judge`, with the client's value back): an encoded one is passed on with
 * a header list of its own, under which its judgement is kept in `judgements` for the filter
 * above; one `judge` would decode only for a client that does not take its coding gets
 * `Vary: Accept-Encoding`.
 */
function askingDecodable(app: App, judge: (headers: HeaderList, environ: Environ) => Judgement | null, judgements: Judgements): App {
  return passingFirstStepFailure(async (environ, startResponse) => {
    const client = environ.HTTP_ACCEPT_ENCODING;
    environ.HTTP_ACCEPT_ENCODING = narrowAcceptEncoding(typeof client === 'string' ? client : undefined, DECODABLE, OFFERED);
    let started: StartedApp;
    try {
      started = await callAppKeepingHead(app, environ);
    } finally {
      // `delete`, not `undefined`: an `HTTP_*` key holds a string when present.
      if (client === undefined) delete environ.HTTP_ACCEPT_ENCODING;
      else environ.HTTP_ACCEPT_ENCODING = client;
    }
    const headers = new HeaderList(started.headers);
    const judged = judge(headers, environ);
    if (judged === null) {
      passHead(started, startResponse);
      return started.body;
    }
    // Decoded or not as the client's Accept-Encoding takes the coding: the answer varies on it.
    if (judged.forClient) appendVary(headers.list, 'Accept-Encoding');
    judgements.set(headers.list, judged);
    passHead(started, startResponse, headers.list);
    return started.body;
  });
}

/** The client's `Accept-Encoding`, `undefined` when it sent none. */
function clientCodings(environ: Environ): string | undefined {
  const value = environ.HTTP_ACCEPT_ENCODING;
  return typeof value === 'string' ? value : undefined;
}

/** A zlib header (RFC 1950 §2.2): deflate method, and a check value that divides by 31. */
function isZlibHeader(first: Uint8Array): boolean {
  return first.byteLength >= 2 && (first[0]! & 0x0f) === 8 && ((first[0]! << 8) | first[1]!) % 31 === 0;
}

type Decoder = zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress;

/**
 * The decoder for `coding`; `first` (at least 2 bytes, unless the body is shorter) tells zlib
 * deflate from raw. Its output comes in zlib's chunks (16 KiB), and it stops decoding while
 * 16 KiB of output wait unread (the streams' default high-water mark): that is the backpressure.
 */
function decoder(coding: 'deflate' | 'br', first: Uint8Array): Decoder {
  if (coding === 'br') return zlib.createBrotliDecompress();
  return isZlibHeader(first) ? zlib.createInflate() : zlib.createInflateRaw();
}

/**
 * Decodes `body` as a stream, in pieces of never much more than 64 KiB: an input chunk is written to
 * the decoder, its output yielded as the decoder produces it, and the next input chunk is
 * asked for only once all of it has been taken, so neither the app nor the decoder runs ahead
 * of the consumer. The decoder is chosen at the first 2 bytes (deflate: zlib or raw); closing
 * the result early closes `body` (the `for await` does).
 */
async function* decodeStream(body: Body, coding: Decoding, asChromium = false): AsyncGenerator<Uint8Array, void, undefined> {
  if (coding === 'gzip' || coding === 'zstd') {
    yield* framedStream(body, coding, asChromium);
    return;
  }
  let z: Decoder | undefined;
  try {
    for await (const chunk of leading(body, 2)) {
      // The app's empty first chunk sends its head before any content (spec §6; `proxy` does
      // so for an event stream): passed on, so the head is not held until the first event.
      if (chunk.byteLength === 0) {
        yield chunk;
        continue;
      }
      if (z === undefined) {
        z = decoder(coding, chunk);
        // Failures are read from z.errored (and the end's iterator): an 'error' event after the
        // listeners of decoderOutput() are gone must not become an uncaught exception.
        z.on('error', ignore);
      }
      yield* decoderOutput(z, chunk, (error) => corrupt(coding, error));
    }
    if (z === undefined) return;
    z.end();
    const rest = (z as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    for (;;) {
      const step = await rest.next().catch((error: unknown) => Promise.reject(corrupt(coding, error)));
      if (step.done) return;
      yield step.value;
    }
  } finally {
    z?.destroy();
  }
}

/**
 * {@link decodeStream} for gzip, member by member ({@link GzipMembers}), and zstd, frame by
 * frame ({@link ZstdFrames}): concatenated members (RFC 1952 §2.2) and frames (RFC 8878
 * §3.1) are all decoded, as gunzip and zstd decode them. Bytes after the last gzip member that
 * start no member end the body there, the rest unread, as browsers ignore them (Chrome and
 * Firefox read the first member and drop whatever follows it), and so do bytes after the last
 * zstd frame that start no frame.
 *
 * `asChromium` reads the body as Chromium does (checked by test/browser/browser-network.test.ts):
 * the first gzip member only, whatever follows it; every zstd frame, and bytes after the last
 * that start no frame are corrupt data (a network error there).
 */
async function* framedStream(body: Body, coding: 'gzip' | 'zstd', asChromium: boolean): AsyncGenerator<Uint8Array, void, undefined> {
  const fail = (error: unknown) => corrupt(coding, error);
  const decoding = coding === 'gzip' ? new GzipMembers(fail, asChromium) : new ZstdFrames(fail);
  const ended = (): void => {
    if (asChromium && coding === 'zstd' && decoding.trailing !== 'none') throw fail(zlibError('unknown frame descriptor'));
  };
  try {
    let started = false;
    for await (const chunk of leading(body, 2)) {
      if (chunk.byteLength === 0) {
        yield chunk;
        continue;
      }
      started = true;
      yield* decoding.output(chunk);
      if (decoding.trailing !== 'none') return ended();
    }
    if (started) yield* decoding.output(null);
    ended();
  } finally {
    decoding.destroy();
  }
}

/**
 * The non-empty chunks of `body`, the first ones joined until they hold at least `size` bytes
 * (or the whole body, when it is shorter): enough to read a header from. An empty first chunk
 * of `body` is kept, as the first.
 */
async function* leading(body: Body, size: number): AsyncGenerator<Uint8Array, void, undefined> {
  const head: Uint8Array[] = [];
  let length = 0;
  let first = true;
  for await (const chunk of body) {
    if (chunk.byteLength === 0) {
      if (first) yield chunk;
      first = false;
      continue;
    }
    first = false;
    if (length >= size) {
      yield chunk;
      continue;
    }
    head.push(chunk);
    length += chunk.byteLength;
    if (length >= size) yield concatBytes(head.splice(0), length);
  }
  if (head.length > 0) yield concatBytes(head, length);
}

function ignore(): void {}

/**
 * The error for a body the decoder refused: a 502 (RFC 9110 §15.6.3, an invalid response from
 * the server behind this gateway, as the proxy answers any malformed answer), whose page names
 * the coding and whose `stack`, the line the server logs, adds the decoder's reason.
 */
function corrupt(coding: Decoding, error: unknown): HTTPBadGateway {
  const reason = error instanceof Error ? error.message : String(error);
  const page = isWindowTooLarge(error) ? `The response body's ${WINDOW_TOO_LARGE}.` : `The response body is not valid ${coding}.`;
  const exception = new HTTPBadGateway(page, { cause: error });
  exception.stack = `${exception.name} ${exception.code}: decodeContent: the response body is not valid ${coding} (${reason})`;
  return exception;
}
