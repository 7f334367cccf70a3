/**
 * Serving one file from disk: content type, validators, conditional requests and byte
 * ranges, streamed (WebOb's `FileApp`, Werkzeug's `send_file`).
 *
 * @module
 */
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';
import { dispositionHeader } from '../http/disposition.ts';
import mime from 'mime-types';
import { type App, type Body, type Environ, type StartResponse } from '../gateway/types.ts';
import { afterBody } from '../gateway/body-watch.ts';
import { HeaderList, type HeaderListInit, appendVary } from '../http/header-list.ts';
import { HTTPForbidden, HTTPMethodNotAllowed, HTTPNotFound } from '../exceptions/client-errors.ts';
import { MAX_DELTA_SECONDS, formatHttpDate } from '../http/dates.ts';
import { statEtag } from '../http/etag.ts';
import { servePlanned } from '../response/conditional.ts';
import { originDates } from '../http/origin-dates.ts';
import { type OptionNames, booleanOption, checkOptions } from '../gateway/option-names.ts';
import { shownValue } from '../gateway/shown.ts';

/** Options of {@link fileApp} (and of each file `directoryApp` serves). */
export interface FileOptions {
  /**
   * `Cache-Control: public, max-age=<maxAge>` (seconds, rounded down; below 0 sends 0, above
   * 2^31 or `Infinity` sends 2147483648, RFC 9111 §1.2.2). Default: `Cache-Control: no-cache`,
   * so a client revalidates the file at each use (a cheap 304 by its `ETag`) instead of reusing
   * it for a time of its own choosing after a deploy (RFC 9111 §4.2.2 heuristic freshness);
   * Werkzeug's `send_file` default. A `Cache-Control` in `headers` replaces either. Anything
   * but a number (`'3600'` from an environment variable, `''`, `null`, `true`) or `NaN` is a
   * `TypeError` when the app is built, naming it: convert it, `Number(process.env.MAX_AGE)`.
   */
  maxAge?: number | undefined;
  /**
   * The `Content-Type`; default from the file name by `mime-types` (with `charset=utf-8` for
   * text), else `application/octet-stream`. An empty one (`''`) is a `TypeError` when the app
   * is built: leave it out for the type by name.
   */
  contentType?: string | undefined;
  /**
   * Extra response headers, e.g. `{ 'X-Content-Type-Options': 'nosniff' }`. A field named here
   * replaces the one the other options or defaults set (`Cache-Control` with `immutable`,
   * `Content-Type`, `Content-Disposition`, `Accept-Ranges: none` to turn ranges off), so it is
   * never sent twice; `Content-Length`, `ETag` and `Last-Modified` are always the file's.
   */
  headers?: HeaderListInit | undefined;
  /**
   * Send `Content-Disposition: attachment` (browsers save instead of showing): `true` with
   * the file's own name, or a string with another name (non-ASCII names get RFC 6266 `filename*`).
   */
  download?: boolean | string | undefined;
}

/** Every option of {@link FileOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const FILE_OPTIONS = { maxAge: true, contentType: true, headers: true, download: true } as const satisfies OptionNames<FileOptions>;

/** Read size per chunk, in bytes. */
const CHUNK_SIZE = 64 * 1024;
/** @internal The methods a file (or a directory of them) answers; others get 405 with this `Allow`. */
export const ALLOW: readonly string[] = ['GET', 'HEAD'];
/**
 * Open flags: non-blocking, so a FIFO in the tree cannot hang the request (and a libuv
 * thread) waiting for a writer; it is then refused as not a regular file. Plain files ignore
 * the flag. Windows has no `O_NONBLOCK` (nor FIFOs in the file system).
 */
const OPEN_FLAGS = constants.O_NONBLOCK === undefined ? 'r' : constants.O_RDONLY | constants.O_NONBLOCK;
/**
 * Errors of `open` meaning "no such file here" (answered 404); `ENXIO` is a Unix socket (or a
 * device without its driver), which is no regular file either.
 */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'ELOOP', 'ENXIO', 'ERR_INVALID_ARG_VALUE']);
const EMPTY = new Uint8Array(0);
/** The first instant an HTTP-date can name (`Sat, 01 Jan 0000 00:00:00 GMT`), in ms since the epoch. */
const EARLIEST_HTTP_DATE = new Date(0).setUTCFullYear(0, 0, 1);

/**
 * An app serving the file at `file` for any request path, as WebOb's `FileApp`.
 *
 * - GET and HEAD only; other methods get 405 with `Allow: GET, HEAD`.
 * - `Content-Type` from the file name (see {@link FileOptions.contentType}), `Content-Length`,
 *   `ETag` (strong, from size and mtime: `statEtag`), `Last-Modified` (an mtime ahead of the
 *   clock or past year 9999 is sent as now, RFC 9110 §8.8.2.1; none before year 0),
 *   `Accept-Ranges: bytes`.
 * - Conditional requests (RFC 9110 §13): 304 for a matching `If-None-Match` or an
 *   unchanged `If-Modified-Since`, 412 for a failed `If-Match` / `If-Unmodified-Since`.
 * - Byte ranges (RFC 9110 §14) on GET: one range → 206 with `Content-Range`; several →
 *   206 `multipart/byteranges`; none satisfiable → 416 with `Content-Range: bytes *\/size`;
 *   a malformed `Range`, or an `If-Range` that does not match → the whole file, 200. The
 *   file's ETag or its `Last-Modified` date satisfies `If-Range` (RFC 9110 §13.1.5); the weak
 *   tag `compress` gives its coded copy does not.
 * - The file is opened once per request and streamed from disk in 64 KiB reads with the
 *   positions the range needs, never read whole into memory; the handle is closed when the
 *   body ends or the client goes away. A file that shrinks while being sent makes the body
 *   fail, so the server aborts the connection rather than send a short body.
 * - A missing file, a directory or anything else that is not a regular file (a FIFO, a
 *   device, a Unix socket) → 404; a file the process may not read → 403.
 * - `OPTIONS *` (`PATH_INFO` `*`, the server as a whole, RFC 9110 §9.3.7) → 404 without
 *   `Allow`, as from a `RouteMap`: it names no file.
 *
 * @example
 * ```ts
 * import { fileApp, mount } from 'tsgi/middleware';
 *
 * export const app = mount({
 *   '/favicon.ico': fileApp('public/favicon.ico', { maxAge: 86400 }),
 *   '/report.pdf': fileApp('/srv/reports/latest.pdf', { download: 'report.pdf' }),
 * });
 * ```
 *
 * @throws TypeError (at once) when `options` hold a header, content type or download name
 *   that cannot be sent, an empty `contentType`, a `download` neither a name nor a boolean, or a
 *   `maxAge` that is not a number (`'3600'`, `''`, `null`, `NaN`; they are validated once, not
 *   per request).
 */
export function fileApp(file: string, options: FileOptions = {}): App {
  checkOptions('fileApp', options, FILE_OPTIONS);
  checkDownload('fileApp', options.download);
  const resolved = path.resolve(file);
  const fixed = fixedHeaders('fileApp', options, resolved);
  // `OPTIONS *` names the server, not this file (RFC 9110 §9.3.7): a 404 without `Allow`, as a `RouteMap` answers it.
  return (environ, startResponse) => (environ.PATH_INFO === '*' ? new HTTPNotFound().respond(environ, startResponse) : sendFile(environ, startResponse, resolved, fixed));
}

/**
 * Serves the file at `file` (an absolute path) for this request, with everything
 * {@link fileApp} does. For building static-file apps; `fileApp` is the usual entry point.
 *
 * @throws (rejects with) TypeError when `options` hold a header, content type or download
 *   name that cannot be sent, an empty `contentType` or a `maxAge` that is no number; unexpected file-system errors (EIO, EMFILE…), for the `errors`
 *   middleware to log. "No such file" and "permission denied" are answered 404 and 403.
 */
export async function serveFile(environ: Environ, startResponse: StartResponse, file: string, options: FileOptions = {}): Promise<Body> {
  return sendFile(environ, startResponse, file, fixedHeaders('serveFile', options, file));
}

/**
 * @internal Checks a `download` option at construction: a string (the name) passes, anything
 * else must be a boolean (`1` or `null` would otherwise send no `Content-Disposition`, unsaid).
 *
 * @throws TypeError `fileApp: download must be true or false, got 1`.
 */
export function checkDownload(where: string, download: unknown): void {
  if (typeof download !== 'string') booleanOption(where, 'download', download);
}

/**
 * @internal The fields of a file's 200 that do not depend on its size and date, validated
 * once: see {@link fixedHeaders}.
 */
export interface FixedHeaders {
  /** In order: Content-Type (when fixed), Accept-Ranges, Cache-Control, Content-Disposition (when fixed), then `options.headers`. */
  readonly headers: HeaderList;
  /** The Content-Type comes from each file's name (no `contentType` option, no file up front). */
  readonly typeByName: boolean;
  /** `download: true` without a file up front: Content-Disposition names each file. */
  readonly dispositionByName: boolean;
}

/**
 * @internal The representation headers (RFC 9110 §8) of `options` that are the same for
 * every request: computed once by `fileApp` (which passes its `file`, so the content type and
 * download name are fixed too) and `directoryApp` (without: those follow each file's name).
 *
 * @param where - the app being built, for the messages (`fileApp`).
 * @throws TypeError for a header, content type or download name that cannot be sent, an
 *   empty `contentType`, or a `maxAge` that is no number.
 */
export function fixedHeaders(where: string, options: FileOptions, file?: string): FixedHeaders {
  const extra = options.headers === undefined ? null : new HeaderList(options.headers);
  const headers = new HeaderList();
  const fixedType = options.contentType !== undefined || file !== undefined;
  const typeByName = !fixedType && !extra?.has('content-type');
  if (fixedType) headers.set('Content-Type', options.contentType === undefined ? typeOf(file!) : checkedType(where, options.contentType));
  headers.set('Accept-Ranges', 'bytes');
  headers.set('Cache-Control', options.maxAge === undefined ? 'no-cache' : `public, max-age=${maxAgeSeconds(where, options.maxAge)}`);
  const fixedDisposition = typeof options.download === 'string' || (options.download === true && file !== undefined);
  const dispositionByName = options.download === true && file === undefined && !extra?.has('content-disposition');
  if (fixedDisposition) headers.set('Content-Disposition', disposition(options.download as true | string, file ?? ''));
  if (extra !== null) {
    // A field of `options.headers` replaces the one set above: never two Content-Types.
    for (const name of extra.keys()) headers.delete(name);
    for (const [name, value] of extra.list) headers.add(name, value);
  }
  return { headers, typeByName, dispositionByName };
}

/**
 * `maxAge` as delta-seconds: whole, from 0 to 2^31 (RFC 9111 §1.2.2).
 *
 * @throws TypeError when it is no number, or `NaN` (`Number` of an unset environment
 *   variable): a string (`'3600'`, an environment variable as it is), `null` or `true` would
 *   be taken as some number of seconds (`''` and `null` as 0, `true` as 1).
 */
function maxAgeSeconds(where: string, maxAge: unknown): number {
  if (typeof maxAge !== 'number' || Number.isNaN(maxAge)) throw new TypeError(`${where}: maxAge must be a number of seconds (Number(process.env.MAX_AGE)), got ${shownValue(maxAge)}`);
  return Math.min(MAX_DELTA_SECONDS, Math.max(0, Math.floor(maxAge)));
}

/**
 * A `contentType` option as it is sent.
 *
 * @throws TypeError for one that is no string or is empty (an empty `Content-Type` field names
 *   no type: RFC 9110 §8.3 wants a media type, or no field).
 */
function checkedType(where: string, contentType: unknown): string {
  if (typeof contentType !== 'string' || contentType.trim() === '') {
    throw new TypeError(`${where}: contentType must be a media type ('text/plain; charset=utf-8'), or left out to take it from the file name, got ${shownValue(contentType)}`);
  }
  return contentType;
}

/** The Content-Type of a file by its name (`mime-types`, `charset=utf-8` for text), else `application/octet-stream`. */
function typeOf(file: string): string {
  return mime.contentType(path.extname(file)) || 'application/octet-stream';
}

/** @internal The `Content-Type` the file named `name` is sent with: the fixed one, else by its name. */
export function contentTypeOf(fixed: FixedHeaders, name: string): string {
  return fixed.typeByName ? typeOf(name) : (fixed.headers.get('content-type') ?? typeOf(name));
}

/**
 * @internal How a file is sent in place of the one asked for: `encoding`, the content coding
 * of a precompressed copy (`app.js.br` for `app.js`), `vary`, whether the answer depends
 * on `Accept-Encoding` (the file has such copies), and `identity`, the file the copy stands
 * for, sent instead when the copy cannot be opened after all (unreadable, deleted or no
 * longer a regular file since it was found).
 */
export interface FileVariant {
  readonly encoding?: string | null | undefined;
  readonly vary?: boolean | undefined;
  readonly identity?: string | undefined;
}

/** `Content-Disposition: attachment` with the name asked for, or the file's own. */
function disposition(download: true | string, file: string): string {
  return dispositionHeader(typeof download === 'string' ? download : path.basename(file));
}

/**
 * The headers of a 200 for the file: {@link fixedHeaders} plus what depends on the file. A
 * coded copy (`variant.encoding`) gets `Content-Encoding`, an ETag of its own with the coding
 * folded in (`"<size>-<mtime>-br"`, never equal to the identity file's, so `If-Range` and
 * `If-Match` cannot mix the two) and `Accept-Ranges: none` (ranges are served from the
 * identity file).
 */
function fileHeaders(fixed: FixedHeaders, name: string, stat: { size: number; mtimeMs: number; mtime: Date }, variant: FileVariant): HeaderList {
  const headers = new HeaderList(fixed.headers);
  if (fixed.typeByName) headers.set('Content-Type', typeOf(name));
  if (fixed.dispositionByName) headers.set('Content-Disposition', disposition(true, name));
  headers.set('Content-Length', stat.size);
  const etag = statEtag(stat);
  if (variant.encoding) {
    headers.set('Content-Encoding', variant.encoding);
    headers.set('Accept-Ranges', 'none');
    headers.set('ETag', `${etag.slice(0, -1)}-${variant.encoding}"`);
  } else {
    headers.set('ETag', etag);
  }
  // An mtime ahead of the clock is sent as now (RFC 9110 §8.8.2.1), as Apache does, with a Date
  // no earlier; so is one past year 9999, which no HTTP-date can name. One before year 0 (a
  // bogus date tmpfs or btrfs keeps) gets none: the ETag validates the file alone.
  const now = Date.now();
  const modified = Math.min(stat.mtimeMs, now);
  if (modified >= EARLIEST_HTTP_DATE) headers.set('Last-Modified', formatHttpDate(modified));
  else headers.delete('Last-Modified');
  if (variant.vary) appendVary(headers.list, 'Accept-Encoding');
  return originDates(headers, now);
}

/**
 * @internal {@link serveFile} with the fixed headers computed up front. The file is opened
 * and stat'ed here; preconditions and ranges are `servePlanned`'s, reading each range with
 * positional reads. `name` is the path the type and download name come from when they go by
 * name: the one asked for, which a symlink's target or a precompressed copy may not share
 * (default `file`); `variant` tells a precompressed copy (see {@link FileVariant}).
 */
export async function sendFile(environ: Environ, startResponse: StartResponse, file: string, fixed: FixedHeaders, name = file, variant: FileVariant = {}): Promise<Body> {
  const method = environ.REQUEST_METHOD;
  if (method !== 'GET' && method !== 'HEAD') return new HTTPMethodNotAllowed(ALLOW).respond(environ, startResponse);
  // A copy that cannot be served after all gives way to the file it stands for.
  const identity = variant.identity;
  const fallBack = identity === undefined ? null : () => sendFile(environ, startResponse, identity, fixed, name, { vary: variant.vary });
  let handle: FileHandle;
  try {
    handle = await open(file, OPEN_FLAGS);
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (fallBack !== null && (MISSING.has(code) || code === 'EACCES' || code === 'EPERM')) return fallBack();
    if (MISSING.has(code)) return new HTTPNotFound().respond(environ, startResponse);
    if (code === 'EACCES' || code === 'EPERM') return new HTTPForbidden().respond(environ, startResponse);
    throw error;
  }
  let handed = false;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return fallBack !== null ? await fallBack() : new HTTPNotFound().respond(environ, startResponse);
    const size = stat.size;
    const body = servePlanned(
      {
        statusCode: 200,
        status: '200 OK',
        headers: fileHeaders(fixed, name, stat, variant),
        // Both readers are lazy: nothing is read unless the answer sends file bytes.
        body: size === 0 ? EMPTY : readRange(handle, 0, size - 1),
        length: size,
        readRange: (range) => readRange(handle, range.start, range.end),
      },
      environ,
      startResponse,
    );
    // An array holds none of the file's bytes (HEAD, 304, 412, 416, an empty file): the
    // file is closed now, below.
    if (Array.isArray(body)) return body;
    handed = true;
    // The file is closed when the body ends, fails or is closed early (also before its first
    // chunk, when a generator's `finally` would not run); the consumer hears of it after.
    return afterBody(body, () => handle.close());
  } finally {
    if (!handed) await handle.close();
  }
}

/**
 * Reads bytes `start` to `end` (inclusive) with positional reads, a fresh buffer per chunk
 * (the consumer may keep it).
 *
 * @throws Error (from the iteration) when the file ends early: it was truncated meanwhile.
 */
async function* readRange(handle: FileHandle, start: number, end: number): AsyncGenerator<Uint8Array, void, undefined> {
  let position = start;
  while (position <= end) {
    const length = Math.min(CHUNK_SIZE, end - position + 1);
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    if (bytesRead === 0) throw new Error(`file ended at byte ${position}, before byte ${end}: it changed while being sent`);
    position += bytesRead;
    yield bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
  }
}
