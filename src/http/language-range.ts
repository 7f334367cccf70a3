/**
 * Matching one `Accept-Language` range against one language tag (RFC 9110 §12.5.4, which
 * defers to RFC 4647), as `AcceptLanguage` uses it; `negotiator` compares only the primary
 * subtag and cannot be told otherwise, and `bcp-47-match` answers yes/no without the weights
 * and specificity the header needs.
 *
 * A range matches a tag, case-insensitively, when:
 *
 * - it equals the tag (`en-US` ↔ `en-US`): {@link EXACT_MATCH}, above everything else;
 * - it is a prefix of the tag followed by `-` (RFC 4647 §3.3.1 basic filtering, WebOb's
 *   `basic_filtering`): `zh-Hant` matches `zh-Hant-TW` and `zh-Hant-HK`, not `zh-Hans`;
 * - the tag is a prefix of it followed by `-`, and its weight is not 0 (the subtag truncation
 *   of RFC 4647 §3.4 lookup, WebOb's `lookup`; Werkzeug's `best_match` and `negotiator` do it
 *   for the primary subtag only): `de-DE` accepts `de`, `de-DE-1996` accepts `de-DE`. A tag
 *   ending in a one-character subtag (`en-x`) is never such a prefix, as lookup drops a
 *   singleton with the subtag after it. A `q=0` range excludes what it matches by the first
 *   two rules only: `en-GB;q=0` says nothing against `en` (WebOb's `lookup` reads it so too);
 * - it is `*` (specificity 0).
 *
 * The specificity of the two prefix rules is the number of leading subtags the range and the
 * tag share (`zh-Hant` for `zh-Hant-TW`: 2; `zh`: 1), so a range closer to the tag wins
 * (`zh-Hant;q=0.5, zh` gives `zh-Hant-TW` 0.5), and a shorter offer reached by truncating the
 * client's first choice ranks with an equally close match of a later one by header position.
 *
 * @module
 */

/** The specificity of a range equal to the tag: above any count of shared subtags. */
export const EXACT_MATCH = Number.MAX_SAFE_INTEGER;

/**
 * The specificity of language range `range` (as sent, any case) for `tag` (lower-cased,
 * subtags separated by `-`): {@link EXACT_MATCH} when equal; the number of shared leading
 * subtags when one is a prefix of the other (see the module notes; `q` is the range's weight,
 * 0 to 1); 0 for `*`; -1 when the range does not match (always for an empty tag). Never throws.
 */
export function languageRangeSpecificity(range: string, q: number, tag: string): number {
  if (tag === '') return -1;
  if (range === '*') return 0;
  const r = range.toLowerCase();
  if (r === tag) return EXACT_MATCH;
  if (tag.length > r.length) return isPrefix(r, tag) ? subtagCount(r) : -1;
  if (q > 0 && isPrefix(tag, r) && !endsWithSingleton(tag)) return subtagCount(tag);
  return -1;
}

/** True when `prefix` is `whole` up to a `-` (RFC 4647 §3.3.1). */
function isPrefix(prefix: string, whole: string): boolean {
  return whole.charCodeAt(prefix.length) === 0x2d && whole.startsWith(prefix);
}

/** True when the last subtag is one character (`x` in `en-x`). */
function endsWithSingleton(tag: string): boolean {
  return tag.length === 1 || tag.charCodeAt(tag.length - 2) === 0x2d;
}

/** The number of `-`-separated subtags. */
function subtagCount(tag: string): number {
  let n = 1;
  for (let i = tag.indexOf('-'); i !== -1; i = tag.indexOf('-', i + 1)) n++;
  return n;
}
