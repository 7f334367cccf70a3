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

/** A `Content-Disposition` value's parameters as a browser wrote them, and where its quoted values hold backslashes. */
export interface BrowserDisposition {
  /** Each parameter's value (the first of a name, names lower case), as its bytes read as latin1 text: a quoted one without its quotes, nothing unescaped. */
  params: Map<string, string>;
  /** The offsets in the value of the backslashes inside quoted values. */
  backslashes: number[];
}

/** RFC 9110 `tchar`. */
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Reads a part's `Content-Disposition` value (latin1 text) as browsers write it: a quoted
 * value ends at the first `"` after its opening one, and a backslash in it is a backslash (a
 * browser writes `"` as `%22` and escapes nothing else: the Fetch Standard's "parse a
 * multipart/form-data name" reads it so), where RFC 9110's quoted-string would read `\\` as one
 * backslash and `\"` as a quote. Parameters are `; name=value`, the value a token or quoted,
 * with spaces and tabs around the `;` alone, as busboy's parser takes them; an extended value
 * (`filename*=utf-8''a%20b`) is read as its raw text.
 *
 * @returns the parameters and the offsets of the backslashes in quoted values, or `undefined`
 *   when `value` does not read so (a `\"` that RFC 9110 escaping put inside the quotes leaves
 *   text after the value that is no parameter).
 */
export function readBrowserDisposition(value: string): BrowserDisposition | undefined {
  const params = new Map<string, string>();
  const backslashes: number[] = [];
  let at = 0;
  while (at < value.length && TCHAR.test(value[at]!)) at++;
  for (;;) {
    while (value[at] === ' ' || value[at] === '\t') at++;
    if (at === value.length) return { params, backslashes };
    if (value[at++] !== ';') return undefined;
    while (value[at] === ' ' || value[at] === '\t') at++;
    const nameStart = at;
    while (at < value.length && TCHAR.test(value[at]!)) at++;
    if (at === nameStart || value[at] !== '=') return undefined;
    const name = value.slice(nameStart, at++).toLowerCase();
    let text: string;
    if (value[at] === '"') {
      const close = value.indexOf('"', at + 1);
      if (close === -1) return undefined;
      text = value.slice(at + 1, close);
      for (let slash = value.indexOf('\\', at + 1); slash !== -1 && slash < close; slash = value.indexOf('\\', slash + 1)) backslashes.push(slash);
      at = close + 1;
    } else {
      const start = at;
      while (at < value.length && TCHAR.test(value[at]!)) at++;
      if (at === start) return undefined;
      text = value.slice(start, at);
    }
    if (!params.has(name)) params.set(name, text);
  }
}
