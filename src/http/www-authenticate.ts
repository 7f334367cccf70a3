/**
 * `WWW-Authenticate` and `Proxy-Authenticate` (RFC 9110 §11.6.1, §11.7.1): challenges built
 * from objects, with proper quoting, and parsed back.
 *
 * ```ts
 * formatWwwAuthenticate([
 *   { scheme: 'Basic', params: { realm: 'Staff "only"', charset: 'UTF-8' } },
 *   { scheme: 'Bearer', params: { realm: 'api', error: 'invalid_token' } },
 * ]);
 * // 'Basic realm="Staff \"only\"", charset="UTF-8", Bearer realm="api", error="invalid_token"'
 * ```
 *
 * @module
 */
import { CHALLENGE_TOKEN_FORM, atAuthParam, formatAuthValue, paramRecord, readAuthParam, readToken68 } from './auth-params.ts';
import { Cursor } from './syntax.ts';

/** One authentication challenge. */
export interface Challenge {
  /** The auth-scheme (`Basic`, `Bearer`, …); parsed challenges have it lower-cased. */
  readonly scheme: string;
  /** A token68 instead of params (rare); `null`/absent otherwise. */
  readonly token68?: string | null | undefined;
  /** The auth-params (`realm`, `charset`, `error`, …); parsed names are lower-cased. */
  readonly params?: Readonly<Record<string, string>> | undefined;
}

/**
 * Formats one challenge: `scheme`, `scheme token68` or `scheme name="value", …`. Parameter
 * values are always quoted-strings (`realm` must be, RFC 9110 §11.5; clients accept it for
 * all), except Digest's `algorithm` and `stale`, which stay tokens.
 *
 * @throws TypeError for a scheme or parameter name that is not a token, a parameter name
 *   given twice in any case (`realm` and `Realm`), an invalid token68, both token68 and params,
 *   a value that is not a string (naming its parameter), or a value with a control character
 *   or a character above U+00FF.
 */
export function formatChallenge(challenge: Challenge): string {
  return formatAuthValue(challenge.scheme, challenge.token68 ?? null, challenge.params ?? {}, CHALLENGE_TOKEN_FORM);
}

/**
 * Formats a `WWW-Authenticate` value from one or several challenges, joined with `, `.
 *
 * @throws TypeError as {@link formatChallenge} does, or for an empty list.
 */
export function formatWwwAuthenticate(challenges: Challenge | readonly Challenge[]): string {
  const list: readonly Challenge[] = Array.isArray(challenges) ? challenges : [challenges as Challenge];
  if (list.length === 0) throw new TypeError('WWW-Authenticate needs at least one challenge');
  return list.map(formatChallenge).join(', ');
}

/**
 * Parses a `WWW-Authenticate` value (several header lines joined with `, ` are one list, but
 * one malformed line then makes the whole value malformed: a `Response`'s `wwwAuthenticate`
 * parses each line on its own, {@link joinChallengeLines}) into challenges. A comma after an auth-param starts a new challenge when what follows is
 * not `name=`. Empty list elements are skipped.
 *
 * @returns the challenges in order (schemes and parameter names lower-cased), or `null`
 *   when absent, empty or malformed anywhere (a parameter without `=value`, a repeated
 *   parameter name within a challenge, an unterminated quoted-string, stray characters).
 */
export function parseWwwAuthenticate(value: string | null | undefined): Challenge[] | null {
  if (typeof value !== 'string') return null;
  const c = new Cursor(value);
  const challenges: Challenge[] = [];
  for (c.skipEmptyElements(); !c.done; ) {
    const scheme = c.token()?.toLowerCase();
    if (scheme === undefined) return null;
    const spaced = c.ows();
    if (c.done || c.eat(',')) {
      challenges.push({ scheme, token68: null, params: paramRecord() });
      c.skipEmptyElements();
      continue;
    }
    if (!spaced) return null;
    const token68 = readToken68(c);
    if (token68 !== null) {
      challenges.push({ scheme, token68, params: paramRecord() });
      c.eat(',');
      c.skipEmptyElements();
      continue;
    }
    const params = paramRecord();
    for (;;) {
      if (!readAuthParam(c, params)) return null;
      c.ows();
      if (c.done) break;
      if (!c.eat(',')) return null;
      c.skipEmptyElements();
      if (c.done || !atAuthParam(c)) break;
    }
    challenges.push({ scheme, token68: null, params });
  }
  return challenges.length > 0 ? challenges : null;
}

/**
 * The value of a response's `WWW-Authenticate` or `Proxy-Authenticate` lines taken together as
 * one list (RFC 9110 §5.3), each line parsed on its own first: a quoted-string cannot span
 * lines, so a malformed line (an unterminated `realm="Staff`) loses its own challenges only,
 * not the other lines'. The lines that parse, as they are, joined with `, `; `null` when there
 * is no line or none parses; a single line as it is (malformed or not: the parse says).
 */
export function joinChallengeLines(lines: readonly string[]): string | null {
  if (lines.length < 2) return lines[0] ?? null;
  const valid = lines.filter((line) => parseWwwAuthenticate(line) !== null);
  return valid.length > 0 ? valid.join(', ') : null;
}
