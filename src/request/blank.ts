/**
 * The environ of `Request.blank`: a complete request for tests and in-process calls, with
 * urlencoded, multipart or JSON bodies encoded for you.
 *
 * @module
 */
import { type Environ, TSGI_VERSION } from '../gateway/types.ts';
import { headerEnvironKey, joinFieldValues } from '../gateway/header-keys.ts';
import { BufferedInput } from '../gateway/input.ts';
import { encodeText } from '../http/charset.ts';
import { HeaderList, type HeaderListInit } from '../http/header-list.ts';
import { quotePath, unquotePath } from '../http/url.ts';
import { type FormFieldsInit, type FormFilesInit, encodeMultipart, encodeUrlencoded } from '../forms/encode.ts';
import { stderrLog } from '../gateway/log.ts';
import { DEFAULT_PORTS } from '../http/host.ts';
import { httpUrl } from '../http/http-url.ts';
import { type OptionNames } from '../gateway/option-names.ts';

/** Options of {@link Request.blank}. */
export interface BlankOptions {
  /**
   * Request method; default `GET`, or `POST` when `form` or `files` is given (WebOb's
   * `Request.blank(path, POST=…)`): a form body on a `GET` would go unread.
   */
  method?: string | undefined;
  /**
   * Request headers, in any shape a `HeaderList` is built from (`HeaderListInit`, as the
   * `TestClient`'s `headers` take): pairs, a record (a list of values for a repeated field,
   * `undefined` or `null` for none), a `HeaderList`; a finite number is written in decimal.
   * `Content-Type` and `Content-Length` go to their CGI keys; a repeated name is joined with
   * `, `, or `; ` for Cookie; names with `_` are dropped, as servers do.
   *
   * @throws TypeError (from `Request.blank`) naming the field, for an invalid name or value,
   *   as `HeaderList` throws.
   */
  headers?: HeaderListInit | undefined;
  /** Body bytes or text (UTF-8); sets `CONTENT_LENGTH`. */
  body?: string | Uint8Array | undefined;
  /** A JSON body: serialised, with `Content-Type: application/json`. */
  json?: unknown;
  /**
   * Form fields: sent as `application/x-www-form-urlencoded` (see `encodeUrlencoded`), or as
   * `multipart/form-data` together with `files`. A record (an array repeats the name) or pairs.
   */
  form?: FormFieldsInit | undefined;
  /**
   * Files: a `multipart/form-data` body (see `encodeMultipart`) with the `form` fields first.
   * Maps a field name to `{ filename, content, contentType? }` (or a list of them); the content
   * is text (UTF-8) or bytes, the type guessed from the filename when not given.
   *
   * @example
   * ```ts
   * Request.blank('/upload', {
   *   method: 'POST',
   *   form: { title: 'Holidays' },
   *   files: { photos: [{ filename: 'a.jpg', content: bytes }, { filename: 'b.jpg', content: bytes }] },
   * });
   * ```
   */
  files?: FormFilesInit | undefined;
  /**
   * Where the app is mounted: `https://example.com/app` sets the scheme, host and port, and
   * `SCRIPT_NAME` `/app`; the path given to `blank` is then relative to it.
   *
   * @throws TypeError (from `Request.blank`) for a value that is no absolute `http:` or
   *   `https:` URL (`'localhost:8000'`, `'ws://host'`).
   */
  baseUrl?: string | undefined;
  /** Extra environ keys, applied last. */
  environ?: Partial<Environ> | undefined;
}

/** Every option of {@link BlankOptions}, checked by `Request.blank` (`checkOptions`); `tsc` fails when it and the type differ. */
export const BLANK_OPTIONS = { method: true, headers: true, body: true, json: true, form: true, files: true, baseUrl: true, environ: true } as const satisfies OptionNames<BlankOptions>;

/**
 * Builds the environ of `Request.blank` (see there for the rules).
 *
 * @throws URIError for a path with a malformed percent-escape; TypeError for an invalid URL
 *   or one of another scheme than http(s), header name or header value (CR/LF).
 */
export function blankEnviron(pathOrUrl: string, options: BlankOptions): Environ {
  let scheme = 'http';
  let hostname = 'localhost';
  let port = '';
  let scriptName = '';
  if (options.baseUrl) {
    const base = httpUrl(options.baseUrl, 'Request.blank: baseUrl');
    scheme = base.protocol.slice(0, -1);
    hostname = base.hostname;
    port = base.port;
    scriptName = unquotePath(base.pathname.replace(/\/+$/, ''));
  }
  let target = pathOrUrl;
  const hash = target.indexOf('#');
  if (hash !== -1) target = target.slice(0, hash);
  const absolute = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(target);
  if (absolute) {
    const url = httpUrl(target, 'Request.blank: the URL');
    scheme = url.protocol.slice(0, -1);
    hostname = url.hostname;
    port = url.port;
    target = url.pathname + url.search;
  }
  const q = target.indexOf('?');
  const rawPath = rootPath(q === -1 ? target : target.slice(0, q));
  const query = q === -1 ? '' : target.slice(q + 1);
  const serverPort = port || String(DEFAULT_PORTS[scheme] ?? 80);
  const environ: Environ = {
    REQUEST_METHOD: (options.method ?? (options.form !== undefined || options.files !== undefined ? 'POST' : 'GET')).toUpperCase(),
    SCRIPT_NAME: scriptName,
    PATH_INFO: unquotePath(rawPath),
    QUERY_STRING: query,
    // As sent: an empty query keeps its `?` (`/search?`), as the server's REQUEST_URI does.
    REQUEST_URI: quotePath(scriptName) + rawPath + (q === -1 ? '' : `?${query}`),
    SERVER_NAME: hostname.replace(/^\[|\]$/g, ''),
    SERVER_PORT: serverPort,
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1',
    HTTP_HOST: port ? `${hostname}:${port}` : hostname,
    'tsgi.version': TSGI_VERSION,
    'tsgi.url_scheme': scheme,
    'tsgi.input': new BufferedInput(new Uint8Array(0)),
    'tsgi.errors': stderrLog,
    'tsgi.multithread': false,
    'tsgi.multiprocess': false,
    'tsgi.run_once': false,
  };
  if (options.headers) {
    // Built as a HeaderList: its checks and shapes, the TestClient's.
    for (const [name, value] of new HeaderList(options.headers).list) {
      if (name.includes('_')) continue;
      const key = headerEnvironKey(name);
      const existing = environ[key];
      environ[key] = typeof existing === 'string' && key !== 'HTTP_HOST' ? joinFieldValues(key, existing, value) : value;
    }
  }
  let body: Uint8Array | undefined;
  if (options.json !== undefined) {
    body = encodeText(JSON.stringify(options.json));
    environ.CONTENT_TYPE ??= 'application/json';
  } else if (options.files !== undefined) {
    const encoded = encodeMultipart(options.form ?? {}, options.files);
    body = encoded.body;
    environ.CONTENT_TYPE = encoded.contentType; // the boundary must be this one
  } else if (options.form !== undefined) {
    const encoded = encodeUrlencoded(options.form);
    body = encoded.body;
    environ.CONTENT_TYPE ??= encoded.contentType;
  } else if (options.body !== undefined) {
    body = typeof options.body === 'string' ? encodeText(options.body) : options.body;
  }
  if (body !== undefined) {
    environ['tsgi.input'] = new BufferedInput(body);
    environ.CONTENT_LENGTH = String(body.byteLength);
  }
  if (options.environ) Object.assign(environ, options.environ);
  return environ;
}

/**
 * A path as `Request.blank` takes it: one without a leading `/` (`a/b`) is read from the root
 * (`/a/b`), as Werkzeug's `Request.path` reads it, so `PATH_INFO` and the URL stay
 * well-formed. The empty path stays empty (the root of the mount point).
 */
function rootPath(path: string): string {
  return path === '' || path.startsWith('/') ? path : `/${path}`;
}
