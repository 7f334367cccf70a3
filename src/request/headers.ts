/**
 * The entity and client headers of a `Request`: `Content-Type` and its charset,
 * `Content-Length`, cookies, `User-Agent`, `Referer`, and the client's address and user.
 *
 * @module
 */
import { byteCount, mediaTypeOf, parsed, text } from '../http/converters.ts';
import { PARSED, type ParsedValues, cachedField, field, fromEnviron } from '../http/descriptors.ts';
import type { Environ } from '../gateway/types.ts';
import { parseCookieHeader } from '../http/cookies.ts';
import { formatMediaType } from '../http/media-type.ts';

const CONTENT_LENGTH = field(fromEnviron('CONTENT_LENGTH'), byteCount(/^\d{1,15}$/));
const COOKIES = cachedField(fromEnviron('HTTP_COOKIE'), parsed((raw) => Object.freeze(parseCookieHeader(raw ?? ''))));
const USER_AGENT = field(fromEnviron('HTTP_USER_AGENT'), text);
const REFERER = field(fromEnviron('HTTP_REFERER'), text);
const REMOTE_ADDR = field(fromEnviron('REMOTE_ADDR'), text);
const REMOTE_USER = field(fromEnviron('REMOTE_USER'), text);

/**
 * Entity and client headers of a `Request`, read from and written to its environ (installed
 * on it; see `descriptors.ts`).
 */
export abstract class RequestHeaderFields {
  declare readonly environ: Environ;
  abstract [PARSED](): ParsedValues;

  /**
   * The media type of the body without parameters, lower-cased (`text/html`), or `''` when
   * `CONTENT_TYPE` is absent or not a media type (`text/`, `a, b`: Werkzeug's `mimetype` answers
   * those as written); never throws. Setting a value without parameters keeps the current
   * ones (the charset…), as WebOb does; `''` or `null` removes `CONTENT_TYPE`.
   *
   * @throws TypeError when set to something that is not a media type.
   */
  get contentType(): string {
    return mediaTypeOf(this.environ.CONTENT_TYPE).type;
  }
  set contentType(value: string | null) {
    if (value === null || value === '') {
      delete this.environ.CONTENT_TYPE;
      return;
    }
    const next = mediaTypeOf(value);
    const params = Object.keys(next.parameters).length ? next.parameters : mediaTypeOf(this.environ.CONTENT_TYPE).parameters;
    this.environ.CONTENT_TYPE = formatMediaType(next.type, params);
  }

  /**
   * The `charset` parameter of Content-Type, lower-cased; `utf-8` when absent (WebOb's
   * default). Setting it rewrites `CONTENT_TYPE`, keeping the type.
   */
  get charset(): string {
    return mediaTypeOf(this.environ.CONTENT_TYPE).parameters.charset?.toLowerCase() ?? 'utf-8';
  }
  set charset(value: string) {
    const current = mediaTypeOf(this.environ.CONTENT_TYPE);
    this.environ.CONTENT_TYPE = formatMediaType(current.type || 'text/plain', { ...current.parameters, charset: value });
  }

  /**
   * `Content-Length` in bytes, or `null` when absent or malformed. Setting `null` removes it.
   *
   * @throws TypeError when set to anything but a non-negative safe integer or `null`.
   */
  get contentLength(): number | null {
    return CONTENT_LENGTH.get(this);
  }
  set contentLength(value: number | null) {
    CONTENT_LENGTH.set(this, value);
  }

  /**
   * The cookies of the `Cookie` header, by name (first one wins), unquoted and percent-decoded
   * where that works (see `parseCookieHeader`). A malformed header gives what could be parsed,
   * never a throw. The record is frozen and re-parsed when the header changes: to change what
   * the app below sees, set `headers.set('Cookie', …)`.
   */
  get cookies(): Readonly<Record<string, string>> {
    return COOKIES.get(this);
  }

  /** `User-Agent`, or `null`. */
  get userAgent(): string | null {
    return USER_AGENT.get(this);
  }

  /** `Referer`, or `null`. */
  get referer(): string | null {
    return REFERER.get(this);
  }

  /** The client address (`REMOTE_ADDR`), or `null`. */
  get remoteAddr(): string | null {
    return REMOTE_ADDR.get(this);
  }
  set remoteAddr(value: string | null) {
    REMOTE_ADDR.set(this, value);
  }

  /**
   * The authenticated user (`REMOTE_USER`, set by auth middleware), or `null`. `''` for an
   * empty user-id that the auth layer let in (`basicAuth` with `curl -u :token`: RFC 7617
   * allows one, and CGI's `REMOTE_USER` is the user-id sent, RFC 3875 §4.1.11): test
   * `!== null` for "logged in", not truthiness.
   */
  get remoteUser(): string | null {
    return REMOTE_USER.get(this);
  }
  set remoteUser(value: string | null) {
    REMOTE_USER.set(this, value);
  }

  /**
   * The abort signal of the request (`tsgi.signal`): aborted when the client goes away (its
   * `reason` a `DOMException` named `AbortError`), or when a `timeout` above gives up (a
   * `TimeoutError`). Always an `AbortSignal`, as fetch's `Request.signal` is, so it can be
   * passed on as is (`fetch(url, { signal: req.signal })`, also under
   * `exactOptionalPropertyTypes`). Where the server gives none (`Request.blank`, an environ
   * built by hand: the key is OPTIONAL for servers, docs/spec.md), a signal that never aborts,
   * made on first read and kept in the environ as `tsgi.signal`, so every read answers the same one.
   */
  get signal(): AbortSignal {
    return this.environ['tsgi.signal'] ?? (this.environ['tsgi.signal'] = new AbortController().signal);
  }

  /**
   * The server's shutdown signal (`tsgi.shutdown_signal`, docs/spec.md §2.6): aborted when the
   * server begins a graceful shutdown (`close()`, `tsgi serve` on SIGTERM), so a long poll or a
   * stream of updates can end then instead of holding the shutdown for its whole timeout.
   * `undefined` where the server gives none (`toNodeHandler` and `toFetchHandler` without their
   * `shutdownSignal` option, a Cloudflare Worker, `Request.blank`). A `text/event-stream` response needs nothing of it: `serve()`
   * ends those by itself.
   *
   * @example
   * ```ts
   * // A long poll that answers 204 when the server stops, and stops when the client leaves.
   * const stop = req.shutdownSignal ? AbortSignal.any([req.signal, req.shutdownSignal]) : req.signal;
   * // null once stopped; any other failure still throws
   * const update = await nextUpdate({ signal: stop }).catch((error) => { if (stop.aborted) return null; throw error; });
   * return update === null ? new Response(null, { status: 204 }) : Response.json(update);
   * ```
   */
  get shutdownSignal(): AbortSignal | undefined {
    return this.environ['tsgi.shutdown_signal'];
  }
}
