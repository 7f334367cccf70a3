/**
 * Narrowing a request's `Accept-Encoding` to the content codings a filter can read
 * ({@link narrowAcceptEncoding}), for `decodeContent`.
 *
 * @module
 */

/**
 * The `Accept-Encoding` value (RFC 9110 §12.5.3) that offers only `codings` (lower-case names)
 * and `identity`, from the client's `value`:
 * - each element naming one of `codings` or `identity` is kept as written, weight included
 *   (`gzip;q=0.8`, and refusals such as `br;q=0`); any other coding is left out;
 * - `*` becomes each of `offered` (default: all of `codings`; less aliases such as `x-gzip`,
 *   kept only when named) and `identity` the value does not name, with the weight of the `*`
 *   (`*;q=0.5, br` → `gzip;q=0.5, deflate;q=0.5, identity;q=0.5, br`; so `*;q=0` still refuses
 *   identity);
 * - an absent value (`undefined`: any coding is acceptable, §12.5.3) becomes all of `offered`;
 * - when nothing is left, `identity`: an empty value would say the same (no coding wanted),
 *   but an explicit one survives proxies and servers that drop empty fields.
 */
export function narrowAcceptEncoding(value: string | undefined, codings: readonly string[], offered: readonly string[] = codings): string {
  if (value === undefined) return offered.join(', ');
  const elements = value.split(',').map((element) => element.trim()).filter((element) => element !== '');
  const named = new Set(elements.map(codingOf));
  const kept: string[] = [];
  for (const element of elements) {
    const coding = codingOf(element);
    if (coding === 'identity' || codings.includes(coding)) kept.push(element);
    else if (coding === '*') {
      const weight = element.slice(element.indexOf(';') === -1 ? element.length : element.indexOf(';'));
      for (const other of [...offered, 'identity']) if (!named.has(other)) kept.push(other + weight);
    }
  }
  return kept.length === 0 ? 'identity' : kept.join(', ');
}

/** The coding an element names, lower-case, without its parameters (`GZIP ; q=1` → `gzip`). */
function codingOf(element: string): string {
  const semicolon = element.indexOf(';');
  return (semicolon === -1 ? element : element.slice(0, semicolon)).trim().toLowerCase();
}
