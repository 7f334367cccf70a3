/**
 * How deep a JSON text nests, told before it is parsed: `JSON.parse` takes any depth (V8's
 * parser does not recurse), but `JSON.stringify`, `structuredClone` and any recursive walk of
 * the value overflow the stack from a few thousand levels, so a reader bounds it first.
 *
 * @module
 */

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]
const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d; // }

/**
 * Whether the JSON `text` nests arrays and objects more than `maxDepth` levels deep (`[[1]]` is
 * 2, `{"a":[]}` 2, a scalar 0), counting brackets outside strings (RFC 8259 §7: a string ends
 * at a `"` not escaped by a `\`). One pass over the characters, allocating nothing; a text of
 * fewer than `2 × maxDepth` characters is answered `false` at once, since a valid one that deep
 * needs an opening and a closing bracket per level. Invalid JSON is not refused here: its
 * answer may be either, and `JSON.parse` refuses it after.
 *
 * @param maxDepth - the levels allowed: a positive integer, or `Infinity` (always `false`).
 */
export function jsonDeeperThan(text: string, maxDepth: number): boolean {
  const length = text.length;
  if (length < 2 * maxDepth) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_ARRAY || code === OPEN_OBJECT) {
      if (++depth > maxDepth) return true;
    } else if (code === CLOSE_ARRAY || code === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}
