/**
 * The URLs of a `srcset` attribute (`<img>`, `<source>`; `imagesrcset` of `<link>`), found as
 * the HTML standard's "parse a srcset attribute" finds them, so that {@link rewriteHtml} can
 * map each one and leave the rest of the value as it was written.
 *
 * @module
 */
import { isAsciiWhitespace } from './ascii.ts';

/**
 * `value` with each image candidate's URL replaced by what `map` answers for it (`undefined`
 * keeps it), everything else (descriptors such as `2x` or `480w`, commas, white space) left
 * as written; `undefined` when no URL changed. A URL is a run of non-white-space characters
 * after the separating commas and white space, without its trailing commas; its descriptors
 * run to the next comma outside parentheses, which do not nest: the first `)` ends them, as in
 * `((x), /b.png` (HTML Living Standard, "parse a srcset attribute"), so a comma inside a URL
 * (`/img?a=1,2 2x`) does not split it.
 */
export function mapSrcset(value: string, map: (url: string) => string | undefined): string | undefined {
  let out = '';
  let changed = false;
  let at = 0;
  let i = 0;
  while (i < value.length) {
    while (i < value.length && (isAsciiWhitespace(value[i]) || value[i] === ',')) i++;
    if (i >= value.length) break;
    const start = i;
    while (i < value.length && !isAsciiWhitespace(value[i])) i++;
    let end = i;
    const endsWithComma = value[end - 1] === ',';
    while (end > start && value[end - 1] === ',') end--;
    const url = value.slice(start, end);
    const mapped = url === '' ? undefined : map(url);
    if (mapped !== undefined && mapped !== url) {
      out += value.slice(at, start) + mapped;
      at = end;
      changed = true;
    }
    if (endsWithComma) continue;
    // The descriptors: up to a comma outside parentheses, which do not nest (the first `)` ends them).
    let inParens = false;
    while (i < value.length) {
      const c = value[i]!;
      if (c === '(') inParens = true;
      else if (c === ')') inParens = false;
      else if (c === ',' && !inParens) break;
      i++;
    }
  }
  return changed ? out + value.slice(at) : undefined;
}
