/**
 * Redacting query parameters in log lines: the value of each parameter whose name is listed
 * is written `[Redacted]` (pino's word), as nginx's `map` + `log_format`, Rails'
 * `filter_parameters` and pino's `redact` keep secrets out of logs. One function for every
 * line tsgi writes that holds a URL: `accessLog`'s, `tsgi serve`'s own refused and upgrade
 * lines, and the request line of the `tsgi.errors` lines (through `tsgi.redact_query`).
 *
 * @module
 */
import { defineEnvironKey } from './environ-key.ts';
import { ASCII_ESCAPE, asciiOfEscape } from './ascii-escape.ts';

/** What a redacted value is written as (pino's `censor` default). */
export const REDACTED = '[Redacted]';

/**
 * @internal The adapter's `redactQuery` (environ key `tsgi.redact_query`), set by the Node and
 * fetch adapters when the option is given, so that the request line of every `tsgi.errors`
 * line (`requestLine`) hides the values of those parameters.
 */
export const redactQueryKey = defineEnvironKey<readonly string[]>('tsgi.redact_query');

/**
 * Checks a `redactQuery` list when the middleware or adapter is made.
 *
 * @throws TypeError for a value that is no array, or an entry that is no non-empty string.
 */
export function checkRedactQuery(names: readonly string[] | undefined, owner: string): void {
  if (names === undefined) return;
  if (!Array.isArray(names) || !names.every((name) => typeof name === 'string' && name !== '')) {
    throw new TypeError(`${owner}: redactQuery must be an array of query parameter names, as ["token", "code"]`);
  }
}

/**
 * A function that redacts the query of a URL, or `undefined` when `names` is absent or
 * empty (then nothing is done per request). See {@link redactQuery} for what it does.
 */
export function queryRedactor(names: readonly string[] | undefined): ((url: string) => string) | undefined {
  if (names === undefined || names.length === 0) return undefined;
  const secret = secretNames(names);
  return (url) => redactWith(url, secret);
}

/**
 * The names to match, in lower case: each as written and, when that differs, percent-decoded
 * as a sent name is (`my%20token` and `my+token` are `my token`), so a name the list gives
 * encoded (as `tsgi serve --access-log-redact`, which takes no space, needs) matches too.
 */
function secretNames(names: readonly string[]): ReadonlySet<string> {
  const secret = new Set<string>();
  for (const name of names) {
    secret.add(name.toLowerCase());
    secret.add(decodeName(name).toLowerCase());
  }
  return secret;
}

/**
 * `url` (a request-target `/path?q`, or an absolute URL, a `Referer`) with the value of each
 * query parameter named in `names` replaced by `[Redacted]`. The query is what follows the
 * first `?`, up to a `#`; parameters are separated by `&` alone (not `;`). A name matches
 * without regard to case, once percent-decoded (`+` as a space, as forms are read):
 * `%74oken=` and `TOKEN=` are `token`. A name in `names` matches as written and, decoded the
 * same way, as it reads (`my%20token` or `my+token` match `my+token=`, `my%20token=`).
 * Only a non-empty value is replaced: the name as sent,
 * the other parameters, their order, a parameter without `=` and an empty value (`token=`,
 * which hides nothing) stay as they are; every occurrence of a repeated name is redacted.
 * A malformed escape (`%zz`, a lone `%`, bytes that are not UTF-8) never throws: the name is
 * decoded escape by escape where it cannot be decoded whole, the bad escape kept as it is
 * (so `%74oken%zz` is no `token`, and `%74oken` is one whatever else the query holds), and
 * a value is replaced whatever escapes it holds. A URL without a query is answered as it is.
 */
export function redactQuery(url: string, names: readonly string[]): string {
  if (names.length === 0) return url;
  return redactWith(url, secretNames(names));
}

/** {@link redactQuery} with the names already in lower case. */
function redactWith(url: string, secret: ReadonlySet<string>): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const hash = url.indexOf('#', start);
  const end = hash === -1 ? url.length : hash;
  let out = url.slice(0, start + 1);
  let from = start + 1;
  while (from <= end) {
    let next = url.indexOf('&', from);
    if (next === -1 || next > end) next = end;
    const part = url.slice(from, next);
    const equals = part.indexOf('=');
    out += equals !== -1 && equals < part.length - 1 && secret.has(decodeName(part.slice(0, equals)).toLowerCase()) ? `${part.slice(0, equals + 1)}${REDACTED}` : part;
    if (next < end) out += '&';
    from = next + 1;
  }
  return out + url.slice(end);
}

/** A parameter name percent-decoded (`+` as a space); never throws (see {@link redactQuery}). */
function decodeName(raw: string): string {
  const name = raw.includes('+') ? raw.replaceAll('+', ' ') : raw;
  if (!name.includes('%')) return name;
  try {
    return decodeURIComponent(name);
  } catch {
    return name.replace(ASCII_ESCAPE, (_, hex: string) => asciiOfEscape(hex));
  }
}
