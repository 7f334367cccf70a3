/**
 * A version folded into the weak `ETag` of a transformed response (`W/"x"` → `W/"x~v2"`), and
 * taken out of the `If-None-Match` sent to the app, for the body filters whose output changes
 * when their rules do (`rewriteHtml`, `replaceText`: their `version` option).
 *
 * @module
 */
import { EtagSet, type EntityTag, formatEtag } from '../http/etag.ts';

/** Visible ASCII but `"`: what an opaque tag may hold (RFC 9110 §8.8.3, etagc without obs-text). */
const VERSION = /^[\x21\x23-\x7e]+$/;

/**
 * `version`, checked: undefined when not given, else a non-empty string of visible ASCII
 * characters other than `"`.
 *
 * @throws TypeError naming `owner` (`rewriteHtml`) for anything else.
 */
export function checkVersion(owner: string, version: unknown): string | undefined {
  if (version === undefined) return undefined;
  if (typeof version !== 'string' || !VERSION.test(version)) {
    throw new TypeError(`${owner}: version must be a non-empty string of visible ASCII characters other than '"'`);
  }
  return version;
}

/** The opaque tag of `tag` with `version` folded in: `x` → `x~v2`. */
export function versionedTag(tag: string, version: string): string {
  return `${tag}~${version}`;
}

/** The weak `ETag` value of a transformed response whose app sent `etag`: `W/"x~v2"`. */
export function versionedEtag(etag: EntityTag, version: string): string {
  return formatEtag(versionedTag(etag.tag, version), true);
}

/**
 * The `If-None-Match` value to send the app: each weak tag carrying `version` (`W/"x~v2"`, as
 * {@link versionedEtag} makes them) is followed by the app's own, weak (`W/"x~v2", W/"x"`; the
 * latter matches the app's `"x"` or `W/"x"` by the weak comparison `If-None-Match` uses, RFC
 * 9110 §13.1.2), and kept itself, since it may be the app's own tag of a response the filter
 * left alone (an image whose upstream tag happens to end in `~v2`). Strong tags are never the
 * filter's and are kept as they are, as are tags of other versions (which match nothing the
 * app sends). Null when no weak tag carries `version` (the field is then sent as received).
 */
export function unversionedIfNoneMatch(value: string, version: string): string | null {
  const suffix = `~${version}`;
  const ours = (tag: EntityTag): boolean => tag.weak && tag.tag.endsWith(suffix);
  const set = new EtagSet(value);
  if (!set.tags.some(ours)) return null;
  return set.tags.map((tag) => (ours(tag) ? `${formatEtag(tag)}, ${formatEtag(tag.tag.slice(0, -suffix.length), true)}` : formatEtag(tag))).join(', ');
}

/** True when `ifNoneMatch` (the client's) holds `etag`'s tag with `version` folded in, weak or not. */
export function namesVersioned(ifNoneMatch: string | undefined, etag: EntityTag, version: string): boolean {
  const wanted = versionedTag(etag.tag, version);
  return new EtagSet(ifNoneMatch).tags.some((tag) => tag.tag === wanted);
}
