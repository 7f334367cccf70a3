/**
 * The `Content-Type` and `Content-Length` attributes of a `Response`.
 *
 * @module
 */
import { type HeaderList, replaceField } from '../http/header-list.ts';
import { assertHeader } from '../gateway/fields.ts';
import { byteCount, mediaTypeOf } from '../http/converters.ts';
import { field, fromHeaders } from '../http/descriptors.ts';
import { formatMediaType, isMediaType, isTextType, parseMediaTypeStrict } from '../http/media-type.ts';

const CONTENT_LENGTH = field(fromHeaders('Content-Length'), byteCount(/^\d+$/));

/** `Content-Type` and `Content-Length` of a `Response` (installed on it; see `descriptors.ts`). */
export abstract class ResponseContentType {
  declare readonly headers: HeaderList;

  /**
   * The media type without parameters (`"text/html"`), lower-cased; `''` when the
   * Content-Type is not a media type (`text/`, `text/html/x`), `null` when there is none. Setting a text type (see `isTextType`) without a charset keeps the current
   * charset, or adds `utf-8`; other types (JSON, images…) get no charset. Parameters given in
   * the new value are kept; `null` removes the header.
   *
   * @throws TypeError for a value that is not a media type (`content-type` rejects it), or
   *   that repeats a parameter.
   */
  get contentType(): string | null {
    const header = this.headers.get('content-type');
    return header === null ? null : mediaTypeOf(header).type;
  }
  set contentType(value: string | null) {
    if (value === null) {
      this.headers.delete('content-type');
      return;
    }
    const next = parseMediaTypeStrict(value);
    const parameters = { ...next.parameters };
    if (isTextType(next.type) && parameters.charset === undefined) {
      parameters.charset = mediaTypeOf(this.headers.get('content-type')).parameters.charset ?? 'utf-8';
    }
    this.headers.set('Content-Type', formatMediaType(next.type, parameters));
  }

  /**
   * The `charset` parameter of Content-Type (lower-cased), or `null` (also for a malformed
   * header). Setting rewrites the header, keeping the type (`text/plain` when there was none);
   * `null` removes the parameter. The body bytes are not re-encoded.
   *
   * @throws TypeError, saying which, for a charset a parameter cannot carry (a control
   *   character) or a `Content-Type` that is not a media type (`garbage`): set `contentType`
   *   first.
   */
  get charset(): string | null {
    const header = this.headers.get('content-type');
    if (header === DEFAULT_CONTENT_TYPE) return 'utf-8';
    return header === null ? null : (mediaTypeOf(header).parameters.charset?.toLowerCase() ?? null);
  }
  set charset(value: string | null) {
    const header = this.headers.get('content-type');
    if (value === null && header === null) return;
    const current = mediaTypeOf(header);
    // A type is written but is none (`garbage`): `current.type` is `''`, as for no type at all.
    if (current.type === '' && header !== null && header.split(';', 1)[0]!.trim() !== '') {
      throw new TypeError(`cannot set charset ${JSON.stringify(value)}: Content-Type ${JSON.stringify(header)} is not a media type (set contentType first)`);
    }
    const parameters = { ...current.parameters };
    if (value === null) delete parameters.charset;
    else parameters.charset = value;
    let next: string;
    try {
      next = formatMediaType(current.type || 'text/plain', parameters);
    } catch (error) {
      throw new TypeError(`cannot set charset ${JSON.stringify(value)}: not a parameter value`, { cause: error });
    }
    this.headers.set('Content-Type', next);
  }

  /**
   * `Content-Length` in bytes, or `null` when absent or not a number.
   *
   * @throws TypeError when set to anything but a non-negative safe integer or `null`.
   */
  get contentLength(): number | null {
    return CONTENT_LENGTH.get(this);
  }
  set contentLength(value: number | null) {
    CONTENT_LENGTH.set(this, value);
  }
}

/** The content type options of `new Response(body, init)` (see `ResponseInit`). */
export interface ContentTypeInit {
  /**
   * Media type; default `text/plain` unless `headers` has a Content-Type (and none for a
   * 1xx, 204, 205 or 304 status, which carries no content). Text types get `charset`
   * (default `utf-8`). `null` sends no Content-Type at all.
   */
  contentType?: string | null | undefined;
  /**
   * Charset of a string body: it encodes the body (in UTF-8, US-ASCII, ISO-8859-1 or
   * UTF-16LE), and is added to `Content-Type` as its `charset` parameter for text types only
   * (`text/*`, XML, JavaScript, form: see `isTextType`); JSON, which has none (RFC 8259 §11),
   * and binary types are sent without it, as WebOb's `Response(content_type=…, charset=…)`
   * sends them. Default `utf-8`. A charset written in `contentType` itself is kept.
   */
  charset?: string | undefined;
}

/** @internal What `new Response()` sends without a content type: text, UTF-8. Not exported from the package. */
export const DEFAULT_CONTENT_TYPE = 'text/plain; charset=utf-8';

/**
 * Sets the `Content-Type` of a new response from `init` (see `ResponseInit`): `contentType`
 * (default `text/plain` unless `headers` has one or the status carries no content; `null` for
 * none) with `charset` when it is a text type (`utf-8` by default); a media type of another
 * kind (`application/json`, `image/png`), in `contentType` or in `headers`, takes no charset
 * parameter (WebOb). With `contentType: null` the charset sets no header.
 *
 * @param bodiless - the status carries no content, 1xx, 204, 205 or 304 (RFC 9110 §6.4.1,
 *   §15.3.6: `hasNoContent`): no default type.
 * @throws TypeError for a value that is not a media type.
 */
export function initContentType(res: ResponseContentType, headers: HeaderList, init: ContentTypeInit | undefined, bodiless: boolean): void {
  const type = init?.contentType;
  const charset = init?.charset;
  if (type === null || (type === undefined && bodiless)) return;
  if (type === undefined && headers.has('content-type')) {
    // A well-formed type that is not text takes none; a malformed one throws, saying so.
    const given = mediaTypeOf(headers.get('content-type')).type;
    if (charset && (isTextType(given) || !isMediaType(given))) res.charset = charset;
  } else if (type === undefined && charset === undefined) {
    replaceField(headers.list, 'Content-Type', DEFAULT_CONTENT_TYPE);
  } else {
    replaceField(headers.list, 'Content-Type', initialContentType(type ?? 'text/plain', charset));
  }
}

/**
 * The Content-Type values `initContentType` built, by type then charset (`undefined` when
 * none was given): a few distinct pairs per app, and formatting one is most of the cost of a
 * new response. Only valid values are kept; cleared when it holds 256.
 */
const initialTypes = new Map<string, Map<string | undefined, string>>();
let initialCount = 0;

/**
 * The Content-Type of `type` with `charset` when it is a text type (default `utf-8`), checked;
 * another type keeps only a charset written in it.
 */
function initialContentType(type: string, charset: string | undefined): string {
  let byCharset = initialTypes.get(type);
  const known = byCharset?.get(charset);
  if (known !== undefined) return known;
  const media = parseMediaTypeStrict(type);
  const parameters = { ...media.parameters };
  const value = isTextType(media.type) ? (charset ?? parameters.charset ?? 'utf-8') : parameters.charset;
  if (value !== undefined) parameters.charset = value;
  const header = formatMediaType(media.type, parameters);
  assertHeader('Content-Type', header);
  if (initialCount >= 256) {
    initialTypes.clear();
    initialCount = 0;
    byCharset = undefined;
  }
  if (byCharset === undefined) initialTypes.set(type, (byCharset = new Map()));
  byCharset.set(charset, header);
  initialCount++;
  return header;
}
