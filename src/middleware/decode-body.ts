/**
 * Request bodies sent with `Content-Encoding` (gzip, deflate, br, zstd) decoded as they
 * stream, with node:zlib, both the coded and the decoded size bounded.
 *
 * @module
 */
import zlib from 'node:zlib';
import { type App, type AppLike, type Environ, toApp } from '../gateway/types.ts';
import { HTTPBadRequest, HTTPContentTooLarge, HTTPUnsupportedMediaType } from '../exceptions/client-errors.ts';
import { declaredLength } from '../http/declared-length.ts';
import { codingsOf } from '../http/codings.ts';
import { DEFAULT_FORM_LIMITS } from '../forms/limits.ts';
import { shownCodings } from '../forms/content-coding.ts';
import { isBodyReadable, readInput } from '../request/input.ts';
import { streamInput } from '../request/stream-input.ts';
import { BufferedInput, EMPTY_INPUT, spoilInput } from '../gateway/input.ts';
import { type HTTPException, isHTTPException } from '../exceptions/base.ts';
import { decoderOutput } from './decoder-output.ts';
import { GzipMembers } from './gzip-members.ts';
import { WINDOW_TOO_LARGE, ZstdFrames, createZstdDecoder, isWindowTooLarge } from './zstd-decoder.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';

/**
 * A content coding {@link decodeBody} can undo (RFC 9110 §8.4.1; zstd is RFC 8878). `gzip`
 * covers its alias `x-gzip` (RFC 9110 §8.4.1.3).
 */
export type DecodeBodyCoding = 'gzip' | 'deflate' | 'br' | 'zstd';

/** Options of {@link decodeBody}. */
export interface DecodeBodyOptions {
  /**
   * The most bytes a body may have, counted on each side of every decoder: the coded bytes
   * read from the client, and what each decoder makes of them (in `gzip, br`, the gzip data
   * and the plain data). Default 100 MiB (104 857 600), the form readers' and `tsgi serve`'s
   * body limit (`DEFAULT_FORM_LIMITS.maxBodySize`). A reader below keeps its own limit on the
   * decoded bytes (`req.json()`: 1 MiB).
   */
  maxSize?: number | undefined;
  /**
   * The codings accepted, in the order a `415`'s `Accept-Encoding` lists them. Default every
   * coding this platform's node:zlib decodes: `['gzip', 'deflate', 'br', 'zstd']`, without
   * `zstd` where zlib lacks it (Node older than 22.15 and 23.8).
   */
  codings?: readonly DecodeBodyCoding[] | undefined;
  /**
   * The most codings one body may list (`gzip, br` is two); a longer list is a `415` before
   * any decoder is made. Default 2: each coding is one more decoder held for the request, and
   * one more expansion.
   */
  maxCodings?: number | undefined;
}

/** Every option of {@link DecodeBodyOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const DECODE_BODY_OPTIONS = { maxSize: true, codings: true, maxCodings: true } as const satisfies OptionNames<DecodeBodyOptions>;

type Decoder = zlib.InflateRaw | zlib.Inflate | zlib.BrotliDecompress | zlib.ZstdDecompress;

/**
 * The node:zlib decoder of each coding, made when a reader starts reading (`deflate` is the
 * zlib format, RFC 1950); for gzip, the raw inflater of each member, whose framing
 * {@link GzipMembers} reads.
 */
const DECODERS: Record<DecodeBodyCoding, () => Decoder> = {
  gzip: () => zlib.createInflateRaw(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
  zstd: createZstdDecoder,
};

/** Per coding, why this runtime's node:zlib cannot make its decoder (the error's message), or `undefined` when it can: asked once. */
const UNUSABLE = new Map<DecodeBodyCoding, string | undefined>();

/**
 * Why a decoder of `coding` cannot be made here, or `undefined`: one is made and destroyed the
 * first time a `decodeBody` lists the coding. workerd's node:zlib without its `nodejs_zlib`
 * flag (`no_nodejs_zlib`) has every function, each throwing when called.
 */
function unusable(coding: DecodeBodyCoding): string | undefined {
  if (!UNUSABLE.has(coding)) {
    let reason: string | undefined;
    try {
      DECODERS[coding]().destroy();
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
    UNUSABLE.set(coding, reason);
  }
  return UNUSABLE.get(coding);
}

/** The request fields that describe the coded bytes and lose their meaning once they are decoded. */
const CODED_FIELDS = ['HTTP_CONTENT_ENCODING', 'CONTENT_LENGTH', 'HTTP_CONTENT_DIGEST', 'HTTP_REPR_DIGEST', 'HTTP_DIGEST', 'HTTP_CONTENT_MD5'] as const;

/**
 * Decodes request bodies sent with `Content-Encoding` (RFC 9110 §8.4) as they stream, so the
 * app's readers (`req.json()`, `req.text()`, `req.form()`, `req.stream()`, a `proxy`) read the
 * decoded bytes; Express's body parsers (`inflate: true`) and `@fastify/compress` decode
 * request bodies the same way, Werkzeug and WebOb not at all.
 *
 * A request without `Content-Encoding` passes untouched (one field looked up), and so does one
 * whose codings are all `identity`. One that has no body (`req.isBodyReadable` false: a `GET`
 * with the field, a `Content-Length: 0`) is passed on without `Content-Encoding`, whatever its
 * codings: nothing is coded, and the readers below would refuse the field with a `415`. A body
 * of no bytes (chunked) reads as empty, as it does uncoded. Otherwise the listed codings (names case-insensitive, `x-gzip` as `gzip`)
 * are undone right to left, the last applied first, and the app is called with the decoded
 * body as `tsgi.input`, `tsgi.input_terminated` set, and without `Content-Encoding`,
 * `Content-Length` (the decoded size is unknown before reading) and the digest fields
 * (`Content-Digest`, `Repr-Digest`, `Digest`, `Content-MD5`: digests of the coded bytes), so a
 * `proxy` below forwards the decoded body, chunked, with no coding. A body that streams is not
 * decoded until a reader starts: an app that never reads it starts no decoder.
 *
 * A body already held in memory (a `BufferedInput`: a layer above read it with
 * `await req.bytes()`, a webhook's signature check) is decoded whole before the app is called,
 * within `maxSize`, and passed on held (a `BufferedInput` of the decoded bytes), so the readers
 * below replay it as they replay an uncoded body kept the same way (`req.form()`, then
 * `req.bytes()`); a refusal of its decoding (the `413` and `400`s below) is answered by this
 * layer, before the app. A body that streams is decoded as it is read, and read once.
 *
 * Answers, before the app is called: `415` with `Accept-Encoding` naming the accepted codings
 * (RFC 9110 §15.5.16) for a list longer than `maxCodings` or a coding not in `codings`; `413`
 * for a declared `Content-Length` past `maxSize` (before `100 Continue`; `maxSize exceeded: the
 * request body is larger than … bytes`, and `… the decoded body …` past it in a decoder's output). While the body is
 * read, the reading fails (so `Request.application` answers) with a `413` once the coded bytes,
 * or any decoder's output, pass `maxSize` (the chunk that would pass it is not handed over),
 * and a `400` naming the coding for data that is corrupt or cut off, one saying so for bytes
 * after the coded data (after the last gzip member, bytes that start no member; after the last
 * zstd frame, bytes that start no frame; after the end of a deflate or Brotli stream, any; concatenated gzip members are decoded in turn,
 * RFC 1952 §2.2, and zero bytes after them are padding, as gzip(1) reads them; the frames of
 * a zstd body of several too, RFC 8878 §3.1, a frame cut short by the end of the body refused
 * on every Node, though Node 22's decoder does not report one), or for a zstd frame whose
 * window is past 8 MiB (RFC 9659 §3; zstd's own bound is 128 MiB). Each decoder makes output
 * only while its reader takes it (at most zlib's 16 KiB chunk and 16 KiB waiting), so a
 * decompression bomb (a few kB of gzip that inflate to gigabytes, in one member or in many) is
 * refused having decoded little more than `maxSize`, and a flood of empty gzip members, which
 * decode to nothing, is bounded by the coded side (or, inside `gzip, gzip`, by the outer
 * decoder's output).
 *
 * Check a signature over the coded bytes (a webhook's HMAC) above this layer; put `cors` and
 * `errors` above it too, so its answers carry the CORS fields.
 *
 * @example
 * ```ts
 * import { compose } from 'tsgi';
 * import { accessLog, decodeBody, errors } from 'tsgi/middleware';
 *
 * export const app = compose(accessLog, errors, decodeBody)(api);           // gzip, deflate, br, zstd; 100 MiB
 * export const ingest = decodeBody(collector, { codings: ['gzip'], maxSize: 5 * 1024 ** 2 });
 * ```
 *
 * @throws TypeError (at once) for a `maxSize` that is no non-negative integer of bytes, a
 *   `maxCodings` that is no integer from 1, an unknown name in `codings`, or `zstd` in
 *   `codings` where node:zlib cannot decode it, or a coding whose decoder this runtime's
 *   node:zlib cannot make (workerd with `no_nodejs_zlib`; the message names the reason).
 */
export function decodeBody(app: AppLike, options: DecodeBodyOptions = {}): App {
  const inner = toApp(app);
  checkOptions('decodeBody', options, DECODE_BODY_OPTIONS);
  const maxSize = options.maxSize ?? DEFAULT_FORM_LIMITS.maxBodySize;
  if (!Number.isSafeInteger(maxSize) || maxSize < 0) throw new TypeError('decodeBody: maxSize must be a non-negative integer (bytes)');
  const maxCodings = options.maxCodings ?? 2;
  if (!Number.isSafeInteger(maxCodings) || maxCodings < 1) throw new TypeError('decodeBody: maxCodings must be an integer >= 1');
  const hasZstd = typeof zlib.createZstdDecompress === 'function';
  const codings = [...(options.codings ?? (hasZstd ? ['gzip', 'deflate', 'br', 'zstd'] : ['gzip', 'deflate', 'br']))];
  for (const coding of codings) {
    if (!Object.hasOwn(DECODERS, coding)) throw new TypeError(`decodeBody: unknown coding ${JSON.stringify(coding)}`);
    if (coding === 'zstd' && !hasZstd) throw new TypeError('decodeBody: this node:zlib cannot decode zstd (Node 22.15 and 23.8 can)');
    const reason = unusable(coding);
    if (reason !== undefined) throw new TypeError(`decodeBody: this runtime's node:zlib cannot decode ${coding} (${reason})`);
  }
  const accepted = new Map<string, DecodeBodyCoding>(codings.map((coding) => [coding, coding]));
  if (accepted.has('gzip')) accepted.set('x-gzip', 'gzip');
  const acceptEncoding: [string, string][] = [['Accept-Encoding', codings.join(', ')]];

  return (environ, startResponse) => {
    const field = environ.HTTP_CONTENT_ENCODING;
    if (typeof field !== 'string') return inner(environ, startResponse);
    const listed = codingsOf(field, 'identity');
    if (listed.length === 0) return inner(environ, startResponse);
    if (!isBodyReadable(environ)) {
      // No content, nothing coded: the readers below would refuse the field with a 415.
      delete (environ as Partial<Environ>).HTTP_CONTENT_ENCODING;
      return inner(environ, startResponse);
    }
    if (listed.length > maxCodings) {
      const refusal = new HTTPUnsupportedMediaType(`More than ${maxCodings} content codings.`, { headers: acceptEncoding });
      return refusal.respond(environ, startResponse);
    }
    const unknown = listed.filter((coding) => !accepted.has(coding));
    if (unknown.length > 0) {
      const refusal = new HTTPUnsupportedMediaType(`Content-Encoding ${shownCodings(unknown)} is not supported.`, { headers: acceptEncoding });
      return refusal.respond(environ, startResponse);
    }
    const declared = declaredLength(environ);
    if (declared !== null && declared > maxSize) return pastMaxSize(maxSize).respond(environ, startResponse);
    // An environ without `tsgi.input` has an empty body, as the readers read it.
    const input = environ['tsgi.input'] ?? EMPTY_INPUT;
    const coded = streamInput(environ, input, maxSize, pastMaxSize);
    const order = listed.map((coding) => accepted.get(coding)!).reverse();
    if (input instanceof BufferedInput) {
      // Kept by a layer above: decoded whole now, and held, so the readers below replay it.
      return readInput(decodingChain(coded, order, maxSize)).then(
        (bytes) => inner(passDecoded(environ, new BufferedInput(bytes)), startResponse),
        (error: unknown) => refusal(error).respond(environ, startResponse),
      );
    }
    return inner(passDecoded(environ, decodedInput(environ, coded, order, maxSize)), startResponse);
  };
}

/** `environ` with `input` as its body, and without the fields of the coded bytes (see {@link decodeBody}). */
function passDecoded(environ: Environ, input: AsyncIterable<Uint8Array>): Environ {
  environ['tsgi.input'] = input;
  environ['tsgi.input_terminated'] = true;
  for (const name of CODED_FIELDS) delete (environ as Partial<Environ>)[name];
  return environ;
}

/** The client error (4xx) a held body's decoding failed with; any other error is thrown on (a bug: the app's layers above answer 500). */
function refusal(error: unknown): HTTPException {
  if (isHTTPException(error) && error.code < 500) return error;
  throw error;
}

/** `coded` undone by each of `codings` in turn ({@link decoded}), each decoder's output at most `maxSize` bytes. */
function decodingChain(coded: AsyncIterable<Uint8Array>, codings: DecodeBodyCoding[], maxSize: number): AsyncIterable<Uint8Array> {
  let body = coded;
  for (const coding of codings) body = decoded(body, coding, maxSize);
  return body;
}

/**
 * `coded` undone by each of `codings` in turn, each decoder's output at most `maxSize` bytes;
 * started by the first read. A read that fails with a client error (the `413` past `maxSize`,
 * the `400` of corrupt data or of a client gone) leaves `environ`'s `tsgi.input` failed with it
 * (`spoilInput`), as the body readers' failures do: a raw app that iterates `tsgi.input` and
 * wraps the error in its own (`new Error('…', { cause })`) is answered that 4xx, not a 500.
 */
function decodedInput(environ: Environ, coded: AsyncIterable<Uint8Array>, codings: DecodeBodyCoding[], maxSize: number): AsyncIterable<Uint8Array> {
  const input: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]() {
      return spoiling(environ, input, decodingChain(coded, codings, maxSize))[Symbol.asyncIterator]();
    },
  };
  return input;
}

/** `body`, the chunks of `input`; a client error (4xx) it throws is left in `environ` (`spoilInput`) before it is thrown on. */
async function* spoiling(environ: Environ, input: AsyncIterable<Uint8Array>, body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    yield* body;
  } catch (error) {
    if (isHTTPException(error) && error.code < 500) spoilInput(environ, input, error);
    throw error;
  }
}

/** A decoding of one body: what each chunk (`null`: the end) decodes to, and whether bytes that are none of the coding's follow its data. */
interface Decoding {
  output(chunk: Uint8Array | null): AsyncGenerator<Buffer, void, undefined>;
  /** True once bytes follow the coded data: for gzip, bytes that are no member nor zero padding after the last member; for zstd, bytes that start no frame after the last; for deflate and Brotli, any byte after the end of the stream. */
  trailing(): boolean;
  destroy(): void;
}

/** The decoding of `coding`, failing with `fail`: gzip member by member ({@link GzipMembers}), zstd frame by frame ({@link ZstdFrames}), the others by one node:zlib decoder. */
function decodingOf(coding: DecodeBodyCoding, fail: (error: unknown) => unknown): Decoding {
  if (coding === 'gzip') {
    const members = new GzipMembers(fail);
    return { output: (chunk) => members.output(chunk), trailing: () => members.trailing === 'other', destroy: () => members.destroy() };
  }
  if (coding === 'zstd') {
    const frames = new ZstdFrames(fail);
    return { output: (chunk) => frames.output(chunk), trailing: () => frames.trailing === 'other', destroy: () => frames.destroy() };
  }
  const z = DECODERS[coding]();
  // Failures are read from z.errored: an 'error' event with no listener left would be uncaught.
  z.on('error', ignore);
  // A deflate or Brotli stream has one end: node:zlib leaves the bytes written after it unread.
  let written = 0;
  const output = (chunk: Uint8Array | null) => {
    if (chunk !== null) written += chunk.byteLength;
    return decoderOutput(z, chunk, fail);
  };
  return { output, trailing: () => z.bytesWritten < written, destroy: () => z.destroy() };
}

/**
 * `source` decoded from `coding`, pulled: a chunk is written to the decoder only once all the
 * output of the one before was taken, and the decoder, which stops while 16 KiB of its output
 * wait unread, decodes no further ahead than that. Closing the result closes `source`.
 *
 * @throws (the iteration rejects with) HTTPContentTooLarge (413) past `maxSize` decoded bytes
 *   (`maxSize exceeded: the decoded body is larger than … bytes`);
 *   HTTPBadRequest (400) for data the decoder refuses or that ends early, and for bytes after
 *   the last gzip member that start none (zero bytes aside: padding, as gzip(1) reads it) or
 *   after the end of a deflate or Brotli stream; the
 *   error of `source` unchanged.
 */
async function* decoded(source: AsyncIterable<Uint8Array>, coding: DecodeBodyCoding, maxSize: number): AsyncGenerator<Uint8Array, void, undefined> {
  let decoding: Decoding | undefined;
  let size = 0;
  try {
    for await (const chunk of source) {
      if (chunk.byteLength === 0) continue;
      decoding ??= decodingOf(coding, corrupt(coding));
      for await (const output of decoding.output(chunk)) {
        size += output.byteLength;
        if (size > maxSize) throw pastMaxSize(maxSize, 'decoded');
        yield output;
      }
      if (decoding.trailing()) throw new HTTPBadRequest(`The body has bytes after its ${coding} data.`);
    }
    // Not a byte: an empty body, as without a coding (zlib would call it cut off), and as decodeContent reads one.
    if (decoding === undefined) return;
    for await (const output of decoding.output(null)) {
      size += output.byteLength;
      if (size > maxSize) throw pastMaxSize(maxSize, 'decoded');
      yield output;
    }
    if (decoding.trailing()) throw new HTTPBadRequest(`The body has bytes after its ${coding} data.`);
  } finally {
    decoding?.destroy();
  }
}

/**
 * The 413 of a body past `maxSize`, naming the option as the body readers' 413 names theirs:
 * `maxSize exceeded: the request body is larger than 1024 bytes` for the coded bytes (declared
 * or read), `… the decoded body …` for a decoder's output.
 */
function pastMaxSize(maxSize: number, body: 'request' | 'decoded' = 'request'): InstanceType<typeof HTTPContentTooLarge> {
  return new HTTPContentTooLarge(`maxSize exceeded: the ${body} body is larger than ${maxSize} bytes`);
}

/** The error for data the decoder of `coding` refused (its error the `cause`): a `400`. */
function corrupt(coding: DecodeBodyCoding): (error: unknown) => HTTPBadRequest {
  return (error) => new HTTPBadRequest(isWindowTooLarge(error) ? `The body's ${WINDOW_TOO_LARGE}.` : `The body is not valid ${coding} data.`, { cause: error });
}

function ignore(): void {}
