/**
 * Header edits a proxy applies to what it forwards ({@link HeaderEdits}).
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { HeaderList } from '../http/header-list.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';

/**
 * Changes to a set of header fields: declarative, or a function that edits the list itself.
 *
 * - `{ set, add, remove }`: `remove` deletes every field of each name, then `set` replaces
 *   (or creates) one field per name, then `add` appends fields (keeping existing ones). Names
 *   are case-insensitive.
 * - `(headers, environ) => void`: changes `headers` (a {@link HeaderList}) in place; the
 *   environ is the request's.
 *
 * Edits run last, after the proxy's own changes (hop-by-hop fields dropped, `X-Forwarded-*`
 * and `Via` added), so they can change or remove those too.
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
 * @throws TypeError for a name that is not a token or a value with CR, LF or NUL.
 */
export function applyEdits(pairs: Array<[string, string]>, edits: HeaderEdits | undefined, environ: Environ): Array<[string, string]> {
  if (edits === undefined) return pairs;
  const headers = new HeaderList();
  headers.list.push(...pairs);
  if (typeof edits === 'function') {
    edits(headers, environ);
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
 *   ignored, it would forward the fields it meant to drop), or an invalid field name or value.
 */
export function checkEdits(edits: HeaderEdits | undefined, option: string): void {
  if (edits === undefined || typeof edits === 'function') return;
  if (typeof edits !== 'object' || edits === null) throw new TypeError(`proxy: ${option} must be an object or a function`);
  checkOptions('proxy', edits, HEADER_EDITS, { option });
  const probe = new HeaderList();
  for (const [name, value] of [...Object.entries(edits.set ?? {}), ...Object.entries(edits.add ?? {})]) probe.add(name, value);
  for (const name of edits.remove ?? []) probe.delete(name);
}
