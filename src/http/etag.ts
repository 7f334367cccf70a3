/**
 * Entity tags (RFC 9110 §8.8.3): parsing and formatting `"x"` / `W/"x"`, the strong and
 * weak comparison functions, the `If-Match` / `If-None-Match` lists as {@link EtagSet}, and
 * helpers that make tags from a body or a file's size and mtime.
 *
 * Parsing is lenient and never throws. Besides the RFC syntax it accepts, as Werkzeug does,
 * an unquoted tag (`abc` means `"abc"`, `W/abc` means `W/"abc"`: some proxies strip quotes)
 * and a lower-case `w/`. A list member that is neither (an unterminated quote, a space or a
 * control character inside the quotes, junk after the tag) is dropped; the rest is kept.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { isBlank } from './syntax.ts';

/** A parsed entity tag. */
export interface EntityTag {
  /** The opaque tag, without quotes or `W/`. */
  readonly tag: string;
  /** True for a weak tag (`W/"…"`). */
  readonly weak: boolean;
}

/** etagc (RFC 9110 §8.8.3): `!`, `#`-`~`, obs-text. */
function isEtagc(code: number): boolean {
  return code === 0x21 || (code >= 0x23 && code <= 0x7e) || (code >= 0x80 && code <= 0xff);
}

/** Reads one entity tag at `pos`; answers it and the index after it, or null. */
function readTag(text: string, pos: number): { tag: EntityTag; end: number } | null {
  let weak = false;
  if ((text[pos] === 'W' || text[pos] === 'w') && text[pos + 1] === '/') {
    weak = true;
    pos += 2;
  }
  let start = pos;
  let end: number;
  if (text[pos] === '"') {
    start = pos + 1;
    end = start;
    while (end < text.length && isEtagc(text.charCodeAt(end))) end++;
    if (text[end] !== '"') return null;
    return { tag: { tag: text.slice(start, end), weak }, end: end + 1 };
  }
  end = pos;
  while (end < text.length && isEtagc(text.charCodeAt(end)) && text[end] !== ',') end++;
  if (end === start) return null;
  return { tag: { tag: text.slice(start, end), weak }, end };
}

function skipOws(text: string, pos: number): number {
  while (text[pos] === ' ' || text[pos] === '\t') pos++;
  return pos;
}

/**
 * Parses one entity tag received in a header, e.g. an `ETag` or `If-Range` value (surrounding
 * whitespace ignored), leniently (see the module: `W/abc` reads as the weak `abc`, what a proxy
 * that strips quotes leaves of `W/"abc"`). Answers `null` for anything else, including a list or
 * `*`. A tag your code gives is read by `formatEtag` and `EtagSet.contains`, where `W/abc` is
 * the opaque tag `"W/abc"`.
 */
export function parseEtag(value: string | null | undefined): EntityTag | null {
  if (typeof value !== 'string') return null;
  const start = skipOws(value, 0);
  if (value[start] === '*') return null;
  const read = readTag(value, start);
  if (read === null || skipOws(value, read.end) !== value.length) return null;
  return read.tag;
}

/**
 * An entity tag as code gives it (to {@link formatEtag}, `res.etag`, {@link EtagSet.contains}):
 * one with quotes is read as {@link parseEtag} reads it (`"x"`, `W/"x"`); one without is the
 * opaque tag itself, strong (`W/abc` is the tag `"W/abc"`: `W` and `/` are etagc, RFC 9110
 * §8.8.3, and only a quoted tag has a weakness prefix). `null` when it is neither.
 */
function givenTag(tag: string): EntityTag | null {
  if (tag.includes('"')) return parseEtag(tag);
  return isOpaqueTag(tag) ? { tag, weak: false } : null;
}

/**
 * Formats an entity tag: `"tag"`, or `W/"tag"` when weak. A `tag` given as a string that is
 * already quoted (`"x"` or `W/"x"`) is returned normalized; one without quotes is the opaque
 * tag (`W/abc` gives `"W/abc"`, not the weak `W/"abc"`: see {@link parseEtag}).
 *
 * @throws TypeError when the opaque tag holds a character outside etagc (`"`, space, a
 *   control character or one above U+00FF).
 */
export function formatEtag(tag: string | EntityTag, weak = false): string {
  const entity = typeof tag === 'string' ? givenTag(tag) : tag;
  if (entity === null || !isOpaqueTag(entity.tag)) throw new TypeError(`invalid entity tag ${JSON.stringify(typeof tag === 'string' ? tag : tag.tag)}`);
  return `${entity.weak || weak ? 'W/' : ''}"${entity.tag}"`;
}

/**
 * True when `value` is an entity tag as RFC 9110 §8.8.3 writes it, what a sender must generate
 * (§2.2): `"x"` or `W/"x"` (`W` upper-case, etagc between the quotes), spaces and tabs around it
 * allowed; not the unquoted or lower-case `w/` forms {@link parseEtag} reads leniently, nor a list.
 */
export function isEntityTag(value: string): boolean {
  const start = skipOws(value, 0);
  const quote = value.startsWith('W/', start) ? start + 2 : start;
  if (value[quote] !== '"') return false;
  const read = readTag(value, start);
  return read !== null && skipOws(value, read.end) === value.length;
}

/** True when every character of `tag` is etagc. */
function isOpaqueTag(tag: string): boolean {
  for (let i = 0; i < tag.length; i++) if (!isEtagc(tag.charCodeAt(i))) return false;
  return true;
}

function toTag(etag: string | EntityTag): EntityTag | null {
  return typeof etag === 'string' ? parseEtag(etag) : etag;
}

/**
 * Strong comparison (RFC 9110 §8.8.3.2): both tags strong and their opaque tags equal.
 * Strings are parsed first; an unparsable one compares unequal.
 */
export function strongCompare(a: string | EntityTag, b: string | EntityTag): boolean {
  const x = toTag(a);
  const y = toTag(b);
  return x !== null && y !== null && !x.weak && !y.weak && x.tag === y.tag;
}

/**
 * Weak comparison (RFC 9110 §8.8.3.2): opaque tags equal, whether weak or not.
 * Strings are parsed first; an unparsable one compares unequal.
 */
export function weakCompare(a: string | EntityTag, b: string | EntityTag): boolean {
  const x = toTag(a);
  const y = toTag(b);
  return x !== null && y !== null && x.tag === y.tag;
}

/**
 * The value of `If-Match` or `If-None-Match` (RFC 9110 §13.1.1, §13.1.2): `*` or a list of
 * entity tags. A list that also holds `*` counts as `*` (as Werkzeug does).
 */
export class EtagSet {
  /** The header value as received, or `null` when it was not sent. */
  readonly value: string | null;
  /**
   * True when the header was sent with anything but whitespace (SP, HTAB; a no-break space is
   * something). Note that a present header
   * can have no usable tag (`If-Match: ,` or garbage): it then contains nothing, so
   * `If-Match` fails, as a client that sent a condition would expect.
   */
  readonly present: boolean;
  /** True for `*`. */
  readonly any: boolean;
  /** The tags, in header order (empty for `*`). */
  readonly tags: readonly EntityTag[];

  /** @param value - the raw header value, or `null`/`undefined` when it was not sent. */
  constructor(value?: string | null) {
    this.value = typeof value === 'string' ? value : null;
    this.present = this.value !== null && !isBlank(this.value);
    const tags: EntityTag[] = [];
    let any = false;
    const text = this.value ?? '';
    let pos = 0;
    while (pos < text.length) {
      pos = skipOws(text, pos);
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      if (pos >= text.length) break;
      if (text[pos] === '*') {
        const after = skipOws(text, pos + 1);
        if (after >= text.length || text[after] === ',') {
          any = true;
          pos = after;
          continue;
        }
      }
      const read = readTag(text, pos);
      const after = read ? skipOws(text, read.end) : pos;
      if (read && (after >= text.length || text[after] === ',')) {
        tags.push(read.tag);
        pos = after;
      } else {
        pos = skipMember(text, pos);
      }
    }
    this.any = any;
    this.tags = Object.freeze(any ? [] : tags);
  }

  /**
   * True when `etag` is in the set: `*` contains everything (also `null`, meaning "a
   * representation without a tag"); otherwise `null`/`undefined` or an invalid string is not
   * contained. A string is taken as `formatEtag` and `res.etag` take it: quoted (`'"v3"'`,
   * `'W/"v3"'`) or bare (`'v3'`; `'W/v3'` is the strong opaque tag `"W/v3"`). Compares
   * strongly by default (`If-Match`); `{ weak: true }` compares weakly (`If-None-Match`).
   */
  contains(etag: string | EntityTag | null | undefined, options: { weak?: boolean | undefined } = {}): boolean {
    if (this.any) return true;
    const given = typeof etag === 'string' ? givenTag(etag) : etag;
    if (given == null) return false;
    const compare = options.weak ? weakCompare : strongCompare;
    return this.tags.some((tag) => compare(tag, given));
  }

  /** `*`, or the tags formatted and joined with `, ` (`''` when none). */
  toString(): string {
    return this.any ? '*' : this.tags.map((tag) => formatEtag(tag)).join(', ');
  }
}

/**
 * Skips a bad list member: past its quoted part when it starts with one (etagc has no `"`,
 * so the next quote closes it), then to just past the next comma, or the end.
 */
function skipMember(text: string, pos: number): number {
  if ((text[pos] === 'W' || text[pos] === 'w') && text[pos + 1] === '/') pos += 2;
  if (text[pos] === '"') {
    const close = text.indexOf('"', pos + 1);
    if (close === -1) return text.length;
    pos = close + 1;
  }
  const comma = text.indexOf(',', pos);
  return comma === -1 ? text.length : comma + 1;
}

/**
 * A strong entity tag for a body: the base64url digest of its bytes (strings as UTF-8),
 * quoted, e.g. `"qUqP5cyxm6YcTAhz05Hph5gvu9M"`. Synchronous (node:crypto).
 *
 * @param algorithm - `sha1` (default, 27 characters: this detects changes, it is not a
 *   security boundary) or `sha256`.
 */
export function strongEtag(
  body: Uint8Array | string | Iterable<Uint8Array>,
  algorithm: 'sha1' | 'sha256' = 'sha1',
): string {
  const hash = createHash(algorithm);
  if (typeof body === 'string' || body instanceof Uint8Array) hash.update(body);
  else for (const chunk of body) hash.update(chunk);
  return `"${hash.digest('base64url')}"`;
}

/**
 * An entity tag from a file's size (bytes) and modification time (ms since the epoch, floored),
 * as nginx, Apache and Werkzeug's `send_file` make them: strong by default,
 * `"<size hex>-<mtime hex>"`, so an `If-Range` or `If-Match` naming it can match (RFC 9110
 * §13.1.5 and §13.1.1 compare strongly). The file's bytes must be what is sent: a filter that
 * changes them (`compress`, a rewriting proxy) weakens the tag. `{ weak: true }` gives
 * `W/"<size hex>-<mtime hex>"`, for an answer built from the file but not byte for byte it.
 */
export function statEtag(stat: { size: number; mtimeMs: number }, options: { weak?: boolean | undefined } = {}): string {
  const tag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
  return options.weak === true ? `W/${tag}` : tag;
}
