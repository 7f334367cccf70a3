/**
 * The escaping of field names and filenames in a `multipart/form-data` part's
 * `Content-Disposition`, the browsers' way: HTML Living Standard, "multipart/form-data encoding
 * algorithm" (`"` as `%22`, CR as `%0D`, LF as `%0A`, a backslash as it is), and its reverse,
 * the Fetch Standard's "parse a multipart/form-data name" (what `Request.formData()` does).
 *
 * @module
 */

/**
 * `text` as a browser writes it inside the quotes of `name="…"` or `filename="…"`: `"`, CR and
 * LF percent-encoded (`%22`, `%0D`, `%0A`), as the HTML standard says; the other control
 * characters (which a header field cannot carry) percent-encoded the same way; a backslash,
 * and everything else, as it is.
 */
export function escapeFormDataName(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/["\u0000-\u001f\u007f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/**
 * A name or filename read from a part's `Content-Disposition` as a browser's parser reads it
 * (Fetch Standard, "parse a multipart/form-data name"): `%22`, `%0D` and `%0A` become `"`, CR
 * and LF; any other `%` sequence stays as it is.
 */
export function unescapeFormDataName(text: string): string {
  return text.includes('%') ? text.replace(/%(?:22|0D|0A)/g, (escape) => ESCAPED[escape]!) : text;
}

const ESCAPED: Readonly<Record<string, string>> = { '%22': '"', '%0D': '\r', '%0A': '\n' };
