/**
 * Representation and routing headers of a `Response`: `Allow`, `Content-Language`,
 * `Content-Range`, `Accept-Ranges`, `Content-Disposition`, `Location`, `Content-Location`, `WWW-Authenticate`,
 * `Proxy-Authenticate`.
 *
 * @module
 */
import { dispositionHeader } from '../http/disposition.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';
import { type ContentDispositionValue, contentDisposition, contentRange, list, nonEmptyList, text, tokenListOf, wwwAuthenticate } from '../http/converters.ts';
import { field, fromHeaders } from '../http/descriptors.ts';
import type { HeaderList } from '../http/header-list.ts';
import type { ByteRange, ContentRange } from '../http/range.ts';
import { type Challenge, joinChallengeLines } from '../http/www-authenticate.ts';

/** The options of `res.attachment` (`checkOptions`). */
const ATTACHMENT_OPTIONS = { type: true } as const satisfies OptionNames<NonNullable<Parameters<ResponseRepresentation['attachment']>[1]>>;

const ALLOW = field(fromHeaders('Allow', { all: true }), tokenListOf('Allow', list));
// A language-tag (RFC 5646) is letters, digits and hyphens: a token, checked as one.
const CONTENT_LANGUAGE = field(fromHeaders('Content-Language', { all: true }), tokenListOf('Content-Language', nonEmptyList));
const CONTENT_RANGE = field(fromHeaders('Content-Range'), contentRange);
// `acceptable-ranges = 1#range-unit`: no empty form, `none` says none (RFC 9110 §14.3).
const ACCEPT_RANGES = field(fromHeaders('Accept-Ranges'), tokenListOf('Accept-Ranges', text, { refuseEmpty: 'no range unit given ("none" when no range is served, RFC 9110 §14.3)' }));
const CONTENT_DISPOSITION = field(fromHeaders('Content-Disposition'), contentDisposition);
const LOCATION = field(fromHeaders('Location'), text);
const CONTENT_LOCATION = field(fromHeaders('Content-Location'), text);
const WWW_AUTHENTICATE = field(fromHeaders('WWW-Authenticate', { join: joinChallengeLines }), wwwAuthenticate);
// The same challenge syntax (RFC 9110 §11.7.1), so the same converter.
const PROXY_AUTHENTICATE = field(fromHeaders('Proxy-Authenticate', { join: joinChallengeLines }), wwwAuthenticate);

/** Representation and routing headers of a `Response` (installed on it; see `descriptors.ts`). */
export abstract class ResponseRepresentation {
  declare readonly headers: HeaderList;

  /**
   * `Allow` (RFC 9110 §10.2.1) as a list of methods; set a list or `null`. An empty list is
   * sent as an empty `Allow`: no method is allowed (§10.2.1). A header value is taken as a
   * comma-separated list.
   *
   * @throws TypeError for a method that is not a token (RFC 9110 §9.1: `res.allow = ['P OST']`,
   *   `invalid Allow: "P OST" is not a token`); a member of a list is one method.
   */
  get allow(): string[] {
    return ALLOW.get(this);
  }
  set allow(value: Iterable<string> | null) {
    ALLOW.set(this, value);
  }

  /**
   * `Content-Language` (RFC 9110 §8.5) as a list of language tags; set a tag, a list, or
   * `null` or an empty list to remove it (the field names at least one tag).
   *
   * @throws TypeError for a tag that is not a token (`'en;q=1'`, `'en GB'`), naming it.
   */
  get contentLanguage(): string[] {
    return CONTENT_LANGUAGE.get(this);
  }
  set contentLanguage(value: string | Iterable<string> | null) {
    CONTENT_LANGUAGE.set(this, value);
  }

  /**
   * `Content-Range` (RFC 9110 §14.4) parsed, or `null` when absent or malformed. Set a header
   * value, `{ range, size }` (`range: null` for `bytes *\/size`; `size: null` for an unknown
   * length), or `null`. Conditional responses set it for you.
   *
   * @throws RangeError for an impossible range (see `formatContentRange`).
   */
  get contentRange(): ContentRange | null {
    return CONTENT_RANGE.get(this);
  }
  set contentRange(value: string | { range: ByteRange | null; size: number | null } | null) {
    CONTENT_RANGE.set(this, value);
  }

  /**
   * `Accept-Ranges` (RFC 9110 §14.3), e.g. `bytes` or `none`, or `null`. A conditional
   * response sends `bytes` by itself when it can serve ranges; `none` turns that off.
   *
   * @throws TypeError for a value that is not a comma-separated list of range units, which are
   *   tokens (RFC 9110 §14.3: `'by tes'`), naming the unit; and for one without a unit (`''`,
   *   `[]` from JavaScript): the field names at least one, `none` when no range is served.
   */
  get acceptRanges(): string | null {
    return ACCEPT_RANGES.get(this);
  }
  set acceptRanges(value: string | null) {
    ACCEPT_RANGES.set(this, value);
  }

  /**
   * `Content-Disposition` (RFC 6266) parsed by `content-disposition`: `{ type, parameters }`,
   * or `null` when absent, malformed or without a type. An RFC 8187 `filename*` is decoded into
   * `filename` (and not kept; one in a charset other than UTF-8 or ISO-8859-1 is kept as sent
   * under `filename*`). Set a header value or `null`;
   * `attachment()` builds one.
   */
  get contentDisposition(): ContentDispositionValue | null {
    return CONTENT_DISPOSITION.get(this);
  }
  set contentDisposition(value: string | null) {
    CONTENT_DISPOSITION.set(this, value);
  }

  /**
   * Sets `Content-Disposition: attachment` (Express's `res.attachment`), with the filename
   * when given: the last segment of a path (after the last slash or backslash, trailing ones
   * ignored: `/srv/report.pdf` names `report.pdf`, as Express sends it; RFC 6266 §4.3; none
   * for `''` or `/`, which send the bare type, where Express sends `filename=""`), encoded by
   * `content-disposition`: quoted, plus `filename*` (RFC 8187) when it is not plain ASCII,
   * `filename` then holding the name in ASCII for clients that read no `filename*` (accents
   * dropped, as Werkzeug's `send_file` drops them, `ß` as `ss`, any other character a `?`,
   * where Werkzeug drops those).
   * `options.type` gives another disposition type
   * (`inline` shows the file in the browser, still naming it for "save as"); another key in
   * `options` throws a `TypeError` (`res.attachment: unknown option "typ"`).
   *
   * @example
   * ```ts
   * res.attachment('résumé.pdf');
   * // Content-Disposition: attachment; filename=resume.pdf; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf
   * ```
   */
  attachment(filename?: string, options: { type?: string | undefined } = {}): this {
    checkOptions('res.attachment', options, ATTACHMENT_OPTIONS);
    // No last segment (`''`, `/`): no name to give, so the bare type, as Express sends for no name.
    const name = filename === undefined ? undefined : baseName(filename) || undefined;
    this.headers.set('Content-Disposition', dispositionHeader(name, options.type ?? 'attachment'));
    return this;
  }

  /**
   * `Location` (RFC 9110 §10.2.2), as set, or `null`. Values are sent as they are, relative or
   * not, without encoding: to redirect, prefer `redirect()`/`HTTPFound`, which make them
   * absolute and safe and percent-encode spaces and non-ASCII (Werkzeug's `iri_to_uri`).
   *
   * @throws TypeError when set to a value a header field cannot carry: CR, LF, NUL, another
   *   control character but HTAB, or a character above U+00FF (`res.location = '/€'`; encode it first,
   *   e.g. with `encodeURI`).
   */
  get location(): string | null {
    return LOCATION.get(this);
  }
  set location(value: string | null) {
    LOCATION.set(this, value);
  }

  /**
   * `Content-Location` (RFC 9110 §8.7): the URL of the representation in this response, as set
   * (relative or absolute), or `null`. WebOb's and Werkzeug's `content_location`. A 304 keeps
   * it; a 412 or 416 drops it (see docs/conditional.md).
   *
   * @example
   * ```ts
   * const res = Response.json(item, { status: 201 });
   * res.location = `/items/${item.id}`;        // the new resource
   * res.contentLocation = `/items/${item.id}`; // and this body is its representation
   * ```
   * @throws TypeError when set to a value a header field cannot carry, as for `location`.
   */
  get contentLocation(): string | null {
    return CONTENT_LOCATION.get(this);
  }
  set contentLocation(value: string | null) {
    CONTENT_LOCATION.set(this, value);
  }

  /**
   * `WWW-Authenticate` (RFC 9110 §11.6.1) parsed into challenges, or `null` when absent or
   * malformed. Several lines are one list, each parsed on its own: a malformed line (an
   * unterminated quoted-string) loses only its own challenges. Set a challenge, a list of them (formatted with `formatWwwAuthenticate`), a
   * header value, or `null`.
   *
   * @example
   * ```ts
   * res.statusCode = 401;
   * res.wwwAuthenticate = { scheme: 'Basic', params: { realm: 'Staff', charset: 'UTF-8' } };
   * ```
   * @throws TypeError for a challenge that cannot be formatted.
   */
  get wwwAuthenticate(): Challenge[] | null {
    return WWW_AUTHENTICATE.get(this);
  }
  set wwwAuthenticate(value: Challenge | readonly Challenge[] | string | null) {
    WWW_AUTHENTICATE.set(this, value);
  }

  /**
   * `Proxy-Authenticate` (RFC 9110 §11.7.1), which a 407 Proxy Authentication Required must
   * carry: parsed into challenges, or `null` when absent or malformed, as
   * {@link ResponseRepresentation.wwwAuthenticate} (the same challenge syntax). Set a
   * challenge, a list of them, a header value, or `null`. WebOb and Werkzeug have no such
   * attribute (only `www_authenticate`). The server sends this field from an app, although it
   * drops the other hop-by-hop ones; `HTTPProxyAuthenticationRequired` takes it as its
   * `proxyAuthenticate` option.
   *
   * @example
   * ```ts
   * res.statusCode = 407;
   * res.proxyAuthenticate = { scheme: 'Basic', params: { realm: 'proxy' } };
   * ```
   * @throws TypeError for a challenge that cannot be formatted.
   */
  get proxyAuthenticate(): Challenge[] | null {
    return PROXY_AUTHENTICATE.get(this);
  }
  set proxyAuthenticate(value: Challenge | readonly Challenge[] | string | null) {
    PROXY_AUTHENTICATE.set(this, value);
  }
}

/**
 * The last segment of `path`, as `path.basename` answers it (Express's `res.attachment`):
 * trailing separators are ignored (`/srv/exports/` names `exports`), and a backslash
 * separates too, for a client's Windows path.
 */
function baseName(path: string): string {
  let end = path.length;
  while (end > 0 && (path[end - 1] === '/' || path[end - 1] === '\\')) end--;
  const trimmed = path.slice(0, end);
  return trimmed.slice(Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\')) + 1);
}
