/**
 * The environ of a test client request, built by the rules `serve()` builds one by.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { type BlankOptions, blankEnviron } from '../request/blank.ts';
import { quotePath, unquotePath } from '../http/url.ts';
import { MultiDict } from '../datastructures/multidict.ts';
import { HeaderList, type HeaderListInit } from '../http/header-list.ts';
import type { FormFieldsInit } from '../forms/encode.ts';
import { BufferedInput } from '../gateway/input.ts';
import { LiveInput } from './live-input.ts';
import { type StreamedBody, StreamedInput, isStreamedBody } from './streamed-input.ts';

/** A request as the client puts it on the wire. */
export interface WireRequest {
  /** The method, upper case. */
  method: string;
  /** The absolute URL, normalised by the WHATWG URL parser as `fetch()` sends it. */
  url: URL;
  /** The decoded mount point the app is taken to sit at: `''` or `/app`. */
  scriptRoot: string;
  /** Header fields in order (the `Cookie` the jar adds included). */
  headers: Array<[string, string]>;
  /** The body options of `Request.blank`, or a body streamed as the app reads it. */
  body: Pick<BlankOptions, 'json' | 'form' | 'files'> & { body?: BlankOptions['body'] | StreamedBody };
  /**
   * True for `OPTIONS *` (the asterisk-form, RFC 9112 §3.2.4): `PATH_INFO` and `REQUEST_URI`
   * are `*` and `SCRIPT_NAME` is `''`, as `serve()` gives them; `url` names the origin.
   */
  asterisk?: boolean | undefined;
}

/** The fields that frame a body: a streamed body given neither is sent chunked. */
const FRAMING = new Set(['content-length', 'transfer-encoding']);

const DIGITS = /^\d+$/;

/** Methods `fetch()` sends `Content-Length: 0` for when they have no body (Fetch §4.5, step 8.7). */
const ZERO_LENGTH_METHODS = new Set(['POST', 'PUT']);

/**
 * The query of `url` as sent, its `?` included: `''` when it has none, and `'?'` for an empty one
 * (`/search?`, a GET form with no entries), which `URL.search` gives as `''` too.
 */
function sentSearch(url: URL): string {
  if (url.search !== '') return url.search;
  const href = url.href;
  const hash = href.indexOf('#');
  return (hash === -1 ? href : href.slice(0, hash)).endsWith('?') ? '?' : '';
}

/**
 * Splits the URL's path at the mount point: `[SCRIPT_NAME, the rest of the raw path]`, or
 * `['', path]` when the path lies outside `scriptRoot` (Werkzeug's client does the same). The
 * path is compared decoded, segment by segment, as a server mounted there compares it: the
 * URL parser leaves `[`, `]` and `|` in a path as they are, as browsers send them, so
 * `/app[1]/x` and `/app%5B1%5D/x` (`req.applicationUrl`'s form) both lie under `/app[1]`.
 *
 * @throws URIError for a malformed escape or invalid UTF-8 in a segment compared.
 */
function splitRoot(rawPath: string, scriptRoot: string): [string, string] {
  if (scriptRoot === '') return ['', rawPath];
  const prefix = quotePath(scriptRoot);
  if (rawPath === prefix || rawPath.startsWith(`${prefix}/`)) return [scriptRoot, rawPath.slice(prefix.length)];
  let decoded = '';
  let end = 0;
  while (decoded.length < scriptRoot.length && end < rawPath.length) {
    const slash = rawPath.indexOf('/', end + 1);
    const stop = slash === -1 ? rawPath.length : slash;
    decoded += unquotePath(rawPath.slice(end, stop));
    end = stop;
    if (!scriptRoot.startsWith(decoded)) return ['', rawPath];
  }
  return decoded === scriptRoot ? [scriptRoot, rawPath.slice(end)] : ['', rawPath];
}

/**
 * Builds the environ of `request` with `Request.blank`'s builder, which follows the server's
 * rules: `PATH_INFO` percent-decoded as UTF-8, `QUERY_STRING` and `REQUEST_URI` raw, one
 * `HTTP_*` key per field with repeated fields joined by `, ` (`; ` for Cookie), names with
 * `_` dropped, `CONTENT_TYPE`/`CONTENT_LENGTH` from the body, `SERVER_NAME`/`SERVER_PORT`
 * from the URL. To that it adds what a socket gives: `REMOTE_PORT` (a port of the client's
 * own), `Content-Length: 0` on a bodiless POST or PUT (as `fetch()` sends), a live
 * `tsgi.input` that is read once, as a socket's is, and the keys in `extra` (`tsgi.errors`,
 * `tsgi.signal`, the test's own keys).
 *
 * A streamed body ({@link StreamedBody}) is sent as `fetch()` sends one: chunked
 * (`Transfer-Encoding: chunked`, no `CONTENT_LENGTH`, `tsgi.input_terminated`, as `serve()`
 * gives a chunked request), unless the headers give a `Content-Length`, which its bytes must
 * then keep to; `tsgi.input` is a {@link StreamedInput} pulling it as the app reads.
 *
 * @throws URIError for a malformed percent-escape or invalid UTF-8 in the path (the server
 *   answers 400 then); TypeError for an invalid header, or a `ReadableStream` body already locked.
 */
export function clientEnviron(request: WireRequest, extra: Partial<Environ>): Environ {
  const { url } = request;
  const [scriptName, rest] = request.asterisk === true ? ['', '/'] : splitRoot(url.pathname, request.scriptRoot);
  const streamed = isStreamedBody(request.body.body) ? request.body.body : undefined;
  let headers = request.headers;
  // The call's own Transfer-Encoding: the body goes chunked, held whole or streamed.
  const chunked = headers.some(([name]) => name.toLowerCase() === 'transfer-encoding');
  if (streamed !== undefined && !headers.some(([name]) => FRAMING.has(name.toLowerCase()))) headers = [...headers, ['Transfer-Encoding', 'chunked']];
  const options: BlankOptions = {
    method: request.method,
    headers,
    baseUrl: `${url.protocol}//${url.host}${quotePath(scriptName)}`,
    environ: extra,
    ...request.body,
    body: streamed === undefined ? (request.body.body as BlankOptions['body']) : undefined,
  };
  const hasBody = Object.values(request.body).some((value) => value !== undefined);
  if (!hasBody && !chunked && ZERO_LENGTH_METHODS.has(request.method)) options.body = new Uint8Array(0);
  const environ = blankEnviron(`${rest}${sentSearch(url)}`, options);
  // The target as sent (`/app[1]/x`), which `blankEnviron` writes from `SCRIPT_NAME` quoted.
  environ.REQUEST_URI = `${url.pathname}${sentSearch(url)}`;
  // `OPTIONS *` asks about the server: no path of a resource (docs/spec.md, the server's rule).
  if (request.asterisk === true) environ.PATH_INFO = environ.REQUEST_URI = '*';
  if (streamed !== undefined && extra['tsgi.input'] === undefined) {
    const declared = environ.CONTENT_LENGTH;
    environ['tsgi.input'] = new StreamedInput(streamed, declared !== undefined && DIGITS.test(declared) ? Number(declared) : -1);
    if (declared === undefined) environ['tsgi.input_terminated'] = true;
    return environ;
  }
  // A body the call's Transfer-Encoding frames as chunked, as `serve()` reads such a request: no
  // CONTENT_LENGTH (the body's, which `blankEnviron` gave), its end the input's.
  if (chunked) {
    delete environ.CONTENT_LENGTH;
    environ['tsgi.input_terminated'] = true;
  }
  // The server's input is live, read once (spec §3); Request.blank's replays, which would let
  // a reader that keeps no copy pass here and fail under serve().
  const input = environ['tsgi.input'];
  if (input instanceof BufferedInput && extra['tsgi.input'] === undefined) environ['tsgi.input'] = new LiveInput(input.bytes);
  return environ;
}

/** Spaces and tabs around a field value: optional whitespace, no part of the value (RFC 9112 §5.1). */
const PADDING = /^[\t ]+|[\t ]+$/g;

/**
 * The fields of `init` (a record or pairs, as `headers` options take them) as the server
 * reads them: in order, each value without the spaces and tabs around it, which Node's parser
 * strips (RFC 9112 §5.1) and `fetch()`'s `Headers` strips before sending. The client files
 * cookies under, and resolves a redirect against, the `Host` so read.
 *
 * @throws TypeError for an invalid field name or value (`HeaderList`'s).
 */
export function fieldsAsRead(init: HeaderListInit | undefined): Array<[string, string]> {
  return [...new HeaderList(init)].map(([name, value]) => [name, value.replace(PADDING, '')]);
}

/** `url` with `query` (a record, an array repeating a name, or pairs) appended to its own query. */
export function withQuery(url: URL, query: FormFieldsInit | undefined): URL {
  if (query === undefined) return url;
  const extra = new URLSearchParams([...new MultiDict(query as Record<string, string>)]).toString();
  if (extra) url.search = url.search ? `${url.search}&${extra}` : `?${extra}`;
  return url;
}

/**
 * The environ of `request` ({@link clientEnviron}); for a path the server cannot decode, the
 * environ of the root with the raw target in `REQUEST_URI`, and `pathError` set: the server
 * answers 400 then, without calling the app.
 *
 * @throws TypeError for an invalid header.
 */
export function requestEnviron(request: WireRequest, extra: Partial<Environ>): { environ: Environ; pathError: boolean } {
  try {
    return { environ: clientEnviron(request, extra), pathError: false };
  } catch (error) {
    if (!(error instanceof URIError)) throw error;
    // A streamed body stays, as the `tsgi.input` the client stops once the call is over (the
    // server closes the connection under it); a body held whole is simply not sent.
    const body = isStreamedBody(request.body.body) ? { body: request.body.body } : {};
    const environ = clientEnviron({ ...request, url: new URL('/', request.url), scriptRoot: '', body }, extra);
    environ.REQUEST_URI = `${request.url.pathname}${sentSearch(request.url)}`;
    return { environ, pathError: true };
  }
}
