/**
 * The entity and client headers of a `Request`: `Content-Type` and its charset,
 * `Content-Length`, cookies, `User-Agent`, `Referer`, and the client's address and user.
 *
 * @module
 */
import { byteCount, mediaTypeOf, parsed, text } from '../http/converters.ts';
import { type Members, legacy, cachedField, field, fromEnviron } from '../http/descriptors.ts';
import { parseCookieHeader } from '../http/cookies.ts';
import { formatMediaType } from '../http/media-type.ts';
import type { Request } from './request.ts';

/** Entity and client headers of a {@link Request}, read from and written to its environ. */
export interface RequestHeaderFields {
  /**
   * The media type of the body without parameters, lower-cased (`text/html`), or `''` (never
   * throws, even on a malformed header). Setting a value without parameters keeps the current
   * ones (the charset…), as WebOb does; `''` or `null` removes `CONTENT_TYPE`.
   *
   * @throws TypeError when set to something that is not a media type.
   */
  get contentType(): string;
  set contentType(value: string | null);

  /**
   * The `charset` parameter of Content-Type, lower-cased; `utf-8` when absent (WebOb's
   * default). Setting it rewrites `CONTENT_TYPE`, keeping the type.
   */
  charset: string;

  /**
   * `Content-Length` in bytes, or `null` when absent or malformed. Setting `null` removes it.
   *
   * @throws TypeError when set to anything but a non-negative safe integer or `null`.
   */
  contentLength: number | null;

  /**
   * The cookies of the `Cookie` header, by name (first one wins), unquoted and percent-decoded
   * where that works (see `parseCookieHeader`). A malformed header gives what could be parsed,
   * never a throw. The record is frozen and re-parsed when the header changes: to change what
   * the app below sees, set `headers.set('Cookie', …)`.
   */
  get cookies(): Readonly<Record<string, string>>;

  /** `User-Agent`, or `null`. */
  get userAgent(): string | null;

  /** `Referer`, or `null`. */
  get referer(): string | null;

  /** The client address (`REMOTE_ADDR`), or `null`. */
  remoteAddr: string | null;

  /** The authenticated user (`REMOTE_USER`, set by auth middleware), or `null`. */
  remoteUser: string | null;

  /** The abort signal of the request: aborted when the client goes away. */
  get signal(): AbortSignal | undefined;
}

export const headerFieldMembers: Members<Request, RequestHeaderFields> = {
  contentType: {
    get() {
      return mediaTypeOf(this.environ.CONTENT_TYPE).type;
    },
    set(value: string | null) {
      if (value === null || value === '') {
        delete this.environ.CONTENT_TYPE;
        return;
      }
      const next = mediaTypeOf(value);
      const params = Object.keys(next.parameters).length ? next.parameters : mediaTypeOf(this.environ.CONTENT_TYPE).parameters;
      this.environ.CONTENT_TYPE = formatMediaType(next.type, params);
    },
  },
  charset: {
    get() {
      return mediaTypeOf(this.environ.CONTENT_TYPE).parameters.charset?.toLowerCase() ?? 'utf-8';
    },
    set(value: string) {
      const current = mediaTypeOf(this.environ.CONTENT_TYPE);
      this.environ.CONTENT_TYPE = formatMediaType(current.type || 'text/plain', { ...current.parameters, charset: value });
    },
  },
  contentLength: legacy(field(fromEnviron('CONTENT_LENGTH'), byteCount(/^\d{1,15}$/))),
  cookies: legacy(cachedField(fromEnviron('HTTP_COOKIE'), parsed((raw) => Object.freeze(parseCookieHeader(raw ?? '')))), true),
  userAgent: legacy(field(fromEnviron('HTTP_USER_AGENT'), text), true),
  referer: legacy(field(fromEnviron('HTTP_REFERER'), text), true),
  remoteAddr: legacy(field(fromEnviron('REMOTE_ADDR'), text)),
  remoteUser: legacy(field(fromEnviron('REMOTE_USER'), text)),
  signal: {
    get() {
      return this.environ['tsgi.signal'];
    },
  },
};
