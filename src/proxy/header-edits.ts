/**
 * Header edits a proxy applies to what it forwards ({@link HeaderEdits}).
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { HeaderList } from '../http/header-list.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';
import { isToken } from '../gateway/fields.ts';
import { describe } from '../gateway/body.ts';
import { refusePromise } from '../gateway/sync-callback.ts';

/**
 * Changes to a set of header fields: declarative, or a function that edits the list itself.
 *
 * - `{ set, add, remove }`: `remove` deletes every field of each name, then `set` replaces
 *   (or creates) one field per name, then `add` appends fields (keeping existing ones). Names
 *   are case-insensitive.
 * - `(headers, environ) => void`: changes `headers` (a {@link HeaderList}) in place; the
 *   environ is the request's. It must be synchronous: one that answers a promise (`async`) is a
 *   `TypeError` at the request (a logged `500`), as the head it edits goes out at once.
 *
 * Edits run last, after the proxy's own changes (hop-by-hop fields dropped, `X-Forwarded-*`
 * and `Via` added), so they can change or remove those too. Another shape (`remove: 'cookie'`,
 * an array as `set`) is a `TypeError` when the proxy is built (see `checkEdits`).
 */
export type HeaderEdits =
  | {
      /** One field per name, replacing any present. */
      set?: Record<string, string> | undefined;
      /** Fields appended after the existing ones. */
      add?: Record<string, string> | undefined;
      /** Names whose fields are deleted. */
      remove?: readonly string[] | undefined;
    }
  | ((headers: HeaderList, environ: Environ) => void);

/** Every key of a {@link HeaderEdits} object; `tsc` fails when it and the type differ. */
const HEADER_EDITS = { set: true, add: true, remove: true } as const satisfies OptionNames<Exclude<HeaderEdits, (...args: never[]) => unknown>>;

/**
 * Applies `edits` to `pairs` and answers the edited pairs (`pairs` itself when there are no
 * edits).
 *
 * @throws TypeError for a name that is not a token or a value with CR, LF or NUL, or a function
 *   that answers a promise (an `async` one).
 */
export function applyEdits(pairs: Array<[string, string]>, edits: HeaderEdits | undefined, environ: Environ, option: 'requestHeaders' | 'responseHeaders'): Array<[string, string]> {
  if (edits === undefined) return pairs;
  const headers = new HeaderList();
  headers.list.push(...pairs);
  if (typeof edits === 'function') {
    refusePromise(
      edits(headers, environ),
      `proxy: the ${option} function answered a promise: the proxy cannot wait for it (the head it edits is sent by then); make it synchronous, and look up what it needs in a middleware above the proxy`,
    );
    return headers.list;
  }
  for (const name of edits.remove ?? []) headers.delete(name);
  for (const [name, value] of Object.entries(edits.set ?? {})) headers.set(name, value);
  for (const [name, value] of Object.entries(edits.add ?? {})) headers.add(name, value);
  return headers.list;
}

/**
 * Checks `edits` when the proxy is built, so a mistake shows at start-up.
 *
 * @throws TypeError for edits that are neither a function nor an object, an object holding a
 *   key other than `set`, `add` and `remove` (`proxy: unknown option "requestHeaders.delete"`:
 *   ignored, it would forward the fields it meant to drop), a `set` or `add` that is no object
 *   of names and values (an array's indexes, a string's, were the names set), a `remove` that
 *   is no array of field names (`remove: 'cookie'` removed the fields named by its letters,
 *   and forwarded the cookie; a `RegExp`, or a name with a space, matched none), a value in
 *   `set` or `add` that is no string (a number is written as it reads): `undefined` or `null`,
 *   an unset environment variable's, was sent as the word in `add` and dropped the field in
 *   `set`; or an invalid field name or value.
 */
export function checkEdits(edits: HeaderEdits | undefined, option: string): void {
  if (edits === undefined || typeof edits === 'function') return;
  if (typeof edits !== 'object' || edits === null) throw new TypeError(`proxy: ${option} must be an object or a function`);
  checkOptions('proxy', edits, HEADER_EDITS, { option });
  const probe = new HeaderList();
  for (const key of ['set', 'add'] as const) {
    const fields: unknown = edits[key];
    if (fields === undefined) continue;
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      throw new TypeError(`proxy: ${option}.${key} must be an object of field names and values, not ${kind(fields)}`);
    }
    for (const [name, value] of Object.entries(fields)) {
      // `String(value)` would send `undefined` (add) or drop the field (set, as HeaderList does).
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw new TypeError(`proxy: ${option}.${key}: the value of ${JSON.stringify(name)} must be a string, not ${valueKind(value)}`);
      }
      probe.add(name, value);
    }
  }
  const names: unknown = edits.remove;
  if (names === undefined) return;
  // Any iterable of names is read (a Set too), but a string, whose letters it would iterate.
  if (typeof names !== 'object' || names === null || typeof (names as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`proxy: ${option}.remove must be an array of field names, not ${kind(names)}`);
  }
  for (const name of names as Iterable<unknown>) {
    if (typeof name !== 'string' || !isToken(name)) {
      throw new TypeError(`proxy: ${option}.remove must be an array of field names: ${typeof name === 'string' ? JSON.stringify(name) : kind(name)} is none`);
    }
  }
}

/**
 * The request fields the HTTP client (undici) writes itself and refuses from its caller: the
 * body's framing (`Transfer-Encoding`), the connection's (`Keep-Alive`, `Upgrade`) and
 * `Expect`, which it does not support. Lower-case.
 */
const FRAMED_BY_CLIENT: ReadonlySet<string> = new Set(['transfer-encoding', 'keep-alive', 'upgrade', 'expect']);

/** The request fields undici takes once (RFC 9112 §3.2, RFC 9110 §8.6): a second is refused. Lower-case. */
const ONE_PER_REQUEST: ReadonlySet<string> = new Set(['host', 'content-length']);

/**
 * Checks request fields an edit leaves for the HTTP client, which refuses to send some of them
 * (undici 7's `Request`): those of {@link FRAMED_BY_CLIENT}, a `Content-Length` that is not
 * decimal digits, a `Connection` that is not a comma-separated list of field names, and a
 * second `Host` or `Content-Length`. Sent, each failed every request with a 502 that blamed
 * the upstream.
 *
 * @throws TypeError naming the option and the field.
 */
export function checkRequestFields(fields: Iterable<readonly [string, string]>, option: string): void {
  const seen = new Set<string>();
  for (const [name, value] of fields) {
    const lower = name.toLowerCase();
    if (ONE_PER_REQUEST.has(lower)) {
      if (seen.has(lower)) throw new TypeError(`proxy: ${option} leaves a second ${name}: a request has one (set it, do not add it)`);
      seen.add(lower);
    }
    if (FRAMED_BY_CLIENT.has(lower)) throw new TypeError(`proxy: ${option} cannot send ${name}: the HTTP client writes it itself, and refuses it`);
    if (lower === 'content-length' && !/^\d+$/.test(value)) throw new TypeError(`proxy: ${option}: Content-Length must be digits, not ${JSON.stringify(value)}`);
    if (lower === 'connection' && !value.split(',').every((part) => isToken(part.trim()))) {
      throw new TypeError(`proxy: ${option}: Connection must be a list of field names, not ${JSON.stringify(value)}`);
    }
  }
}

/**
 * Checks `requestHeaders` given as an object, when the proxy is built: its `set` and `add`
 * fields as {@link checkRequestFields} does, and no `add` of a `Host` or `Content-Length`,
 * which would go next to the request's own.
 *
 * @throws TypeError naming the field.
 */
export function checkRequestEdits(edits: HeaderEdits | undefined): void {
  if (edits === undefined || typeof edits === 'function') return;
  for (const name of Object.keys(edits.add ?? {})) {
    if (ONE_PER_REQUEST.has(name.toLowerCase())) throw new TypeError(`proxy: requestHeaders.add cannot add ${name}: a request has one (set it instead)`);
  }
  checkRequestFields([...Object.entries(edits.set ?? {}), ...Object.entries(edits.add ?? {})], 'requestHeaders');
}

/** What a field value is, for a message: `undefined`, `null`, `an array`, `a boolean`. */
function valueKind(value: unknown): string {
  return value === undefined ? 'undefined' : kind(value);
}

/** What `value` is, for a message: `null`, `an array`, `a string`, `a RegExp`. */
function kind(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${describe(value)}`;
}
