/**
 * Serving one file from disk: content type, validators, conditional requests and byte
 * ranges, streamed (WebOb's `FileApp`, Werkzeug's `send_file`).
 *
 * @module
 */
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';
import contentDisposition from 'content-disposition';
import mime from 'mime-types';
import { type App, type Body, type Environ, type StartResponse } from '../gateway.ts';
import { wrapBody } from '../body-watch.ts';
import { Headers, type HeadersInit } from '../datastructures/headers.ts';
import {
  HTTPForbidden,
  HTTPMethodNotAllowed,
  HTTPNotFound,
  HTTPPreconditionFailed,
  HTTPRangeNotSatisfiable,
} from '../exceptions.ts';
import { evaluatePreconditions, notModifiedHeaders } from '../http/conditional.ts';
import { formatHttpDate } from '../http/dates.ts';
import { statEtag } from '../http/etag.ts';
import { formatContentRange, parseRange } from '../http/range.ts';
import { MultipartByteranges } from '../http/range-body.ts';

/** Options of {@link fileApp} (and of each file `directoryApp` serves). */
export interface FileOptions {
  /** `Cache-Control: public, max-age=<maxAge>` (seconds); default none (the client revalidates). */
  maxAge?: number;
  /** The `Content-Type`; default from the file name by `mime-types` (with `charset=utf-8` for text), else `application/octet-stream`. */
  contentType?: string;
  /** Extra response headers, e.g. `{ 'X-Content-Type-Options': 'nosniff' }`. */
  headers?: HeadersInit;
  /**
   * Send `Content-Disposition: attachment` (browsers save instead of showing): `true` with
   * the file's own name, or a string with another name (non-ASCII names get RFC 6266 `filename*`).
   */
  download?: boolean | string;
}

/** Read size per chunk, in bytes. */
const CHUNK_SIZE = 64 * 1024;
const ALLOW = ['GET', 'HEAD'];
/**
 * Open flags: non-blocking, so a FIFO in the tree cannot hang the request (and a libuv
 * thread) waiting for a writer; it is then refused as not a regular file. Plain files ignore
 * the flag. Windows has no `O_NONBLOCK` (nor FIFOs in the file system).
 */
const OPEN_FLAGS = constants.O_NONBLOCK === undefined ? 'r' : constants.O_RDONLY | constants.O_NONBLOCK;
/** Errors of `open` meaning "no such file here" (answered 404). */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'ELOOP', 'ERR_INVALID_ARG_VALUE']);

/**
 * An app serving the file at `file` for any request path, as WebOb's `FileApp`.
 *
 * - GET and HEAD only; other methods get 405 with `Allow: GET, HEAD`.
 * - `Content-Type` from the file name (see {@link FileOptions.contentType}), `Content-Length`,
 *   `ETag` (weak, from size and mtime), `Last-Modified`, `Accept-Ranges: bytes`.
 * - Conditional requests (RFC 9110 §13): 304 for a matching `If-None-Match` or an
 *   unchanged `If-Modified-Since`, 412 for a failed `If-Match` / `If-Unmodified-Since`.
 * - Byte ranges (RFC 9110 §14) on GET: one range → 206 with `Content-Range`; several →
 *   206 `multipart/byteranges`; none satisfiable → 416 with `Content-Range: bytes *\/size`;
 *   a malformed `Range`, or an `If-Range` that does not match → the whole file, 200. The weak
 *   ETag never satisfies `If-Range` (RFC 9110 §13.1.5 asks a strong match), a date can.
 * - The file is opened once per request and streamed from disk in 64 KiB reads with the
 *   positions the range needs, never read whole into memory; the handle is closed when the
 *   body ends or the client goes away. A file that shrinks while being sent makes the body
 *   fail, so the server aborts the connection rather than send a short body.
 * - A missing file, a directory or anything else that is not a regular file (a FIFO, a
 *   device) → 404; a file the process may not read → 403.
 *
 * @example
 * ```ts
 * import { fileApp, mount } from 'tsgi';
 *
 * export const app = mount({
 *   '/favicon.ico': fileApp('public/favicon.ico', { maxAge: 86400 }),
 *   '/report.pdf': fileApp('/srv/reports/latest.pdf', { download: 'report.pdf' }),
 * });
 * ```
 */
export function fileApp(file: string, options: FileOptions = {}): App {
  const resolved = path.resolve(file);
  return (environ, startResponse) => serveFile(environ, startResponse, resolved, options);
}

/**
 * Serves the file at `file` (an absolute path) for this request, with everything
 * {@link fileApp} does. For building static-file apps; `fileApp` is the usual entry point.
 *
 * @throws (rejects with) unexpected file-system errors (EIO, EMFILE…), for the `errors`
 *   middleware to log; "no such file" and "permission denied" are answered 404 and 403.
 */
export async function serveFile(environ: Environ, startResponse: StartResponse, file: string, options: FileOptions = {}): Promise<Body> {
  const method = environ.REQUEST_METHOD;
  if (method !== 'GET' && method !== 'HEAD') return new HTTPMethodNotAllowed(ALLOW).respond(environ, startResponse);
  let handle: FileHandle;
  try {
    handle = await open(file, OPEN_FLAGS);
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (MISSING.has(code)) return new HTTPNotFound().respond(environ, startResponse);
    if (code === 'EACCES' || code === 'EPERM') return new HTTPForbidden().respond(environ, startResponse);
    throw error;
  }
  let handed = false;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return new HTTPNotFound().respond(environ, startResponse);
    const size = stat.size;
    const headers = fileHeaders(file, stat, options);
    const etag = headers.get('etag');
    const precondition = evaluatePreconditions(
      {
        method,
        ifMatch: header(environ, 'IF_MATCH'),
        ifNoneMatch: header(environ, 'IF_NONE_MATCH'),
        ifModifiedSince: header(environ, 'IF_MODIFIED_SINCE'),
        ifUnmodifiedSince: header(environ, 'IF_UNMODIFIED_SINCE'),
        ifRange: header(environ, 'IF_RANGE'),
        range: header(environ, 'RANGE'),
      },
      { etag, lastModified: stat.mtime },
    );
    if (precondition.outcome === 'not-modified') {
      startResponse('304 Not Modified', notModifiedHeaders(headers.list));
      return [];
    }
    if (precondition.outcome === 'precondition-failed') {
      return new HTTPPreconditionFailed().respond(environ, startResponse);
    }
    const range = precondition.range ? parseRange(header(environ, 'RANGE'), size) : null;
    if (range?.kind === 'unsatisfiable') {
      const error = new HTTPRangeNotSatisfiable(undefined, { headers: { 'Content-Range': formatContentRange(null, size) } });
      return error.respond(environ, startResponse);
    }
    let status = '200 OK';
    let body: () => AsyncIterable<Uint8Array>;
    if (range?.kind === 'satisfiable' && range.ranges.length === 1) {
      const { start, end } = range.ranges[0]!;
      status = '206 Partial Content';
      headers.set('Content-Range', formatContentRange({ start, end }, size));
      headers.set('Content-Length', end - start + 1);
      body = () => readRange(handle, start, end);
    } else if (range?.kind === 'satisfiable') {
      status = '206 Partial Content';
      const parts = new MultipartByteranges(range.ranges, { size, contentType: headers.get('content-type') });
      headers.set('Content-Type', parts.contentType);
      headers.set('Content-Length', parts.length);
      body = () => parts.stream((r) => readRange(handle, r.start, r.end));
    } else {
      body = () => readRange(handle, 0, size - 1);
    }
    startResponse(status, headers.list);
    if (method === 'HEAD' || size === 0) return [];
    handed = true;
    // The file is closed when the body ends, fails or is closed early (also before its first
    // chunk, when a generator's `finally` would not run); the consumer hears of it after.
    const closeFile = () => handle.close();
    return wrapBody(body(), { end: closeFile, error: closeFile, close: (returned) => returned.then(closeFile) });
  } finally {
    if (!handed) await handle.close();
  }
}

function header(environ: Environ, name: string): string | undefined {
  const value = environ[`HTTP_${name}`];
  return typeof value === 'string' ? value : undefined;
}

/** The representation headers of a file (RFC 9110 §8). */
function fileHeaders(file: string, stat: { size: number; mtimeMs: number; mtime: Date }, options: FileOptions): Headers {
  const headers = new Headers();
  const type = options.contentType ?? (mime.contentType(path.extname(file)) || 'application/octet-stream');
  headers.set('Content-Type', type);
  headers.set('Content-Length', stat.size);
  headers.set('ETag', statEtag(stat));
  headers.set('Last-Modified', formatHttpDate(stat.mtime));
  headers.set('Accept-Ranges', 'bytes');
  if (options.maxAge !== undefined) headers.set('Cache-Control', `public, max-age=${Math.max(0, Math.floor(options.maxAge))}`);
  if (options.download) {
    const name = typeof options.download === 'string' ? options.download : path.basename(file);
    headers.set('Content-Disposition', contentDisposition.create(name));
  }
  if (options.headers) for (const [name, value] of new Headers(options.headers).list) headers.add(name, value);
  return headers;
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
