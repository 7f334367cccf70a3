/**
 * Content Security Policy directives (CSP Level 3, https://www.w3.org/TR/CSP3/#framework-directives):
 * checked and serialized into a `Content-Security-Policy` field value.
 *
 * @module
 */

/** The directive names of CSP Level 3 and its companions, for completion; any other name is accepted too. */
export type CspDirectiveName =
  | 'default-src'
  | 'script-src'
  | 'script-src-elem'
  | 'script-src-attr'
  | 'style-src'
  | 'style-src-elem'
  | 'style-src-attr'
  | 'img-src'
  | 'font-src'
  | 'connect-src'
  | 'media-src'
  | 'object-src'
  | 'frame-src'
  | 'child-src'
  | 'worker-src'
  | 'manifest-src'
  | 'base-uri'
  | 'form-action'
  | 'frame-ancestors'
  | 'sandbox'
  | 'upgrade-insecure-requests'
  | 'require-trusted-types-for'
  | 'trusted-types'
  | 'report-to'
  | 'report-uri';

/**
 * A policy as directive name → list of sources (or of other values: `sandbox` flags, a
 * `report-to` group), each an entry of the list, as written in the field:
 * `{ 'default-src': ["'self'"], 'img-src': ["'self'", 'data:', 'https://cdn.example.com'],
 * 'upgrade-insecure-requests': [] }`. Names are kebab-case as in the specification, or
 * camelCase as helmet and Hono take them (`defaultSrc`). Keywords keep their single quotes
 * (`"'self'"`, `"'none'"`, `"'unsafe-inline'"`); an empty list is a directive without value.
 * `undefined` leaves a directive out.
 */
export type CspDirectives = { readonly [name in CspDirectiveName]?: readonly string[] } & {
  readonly [name: string]: readonly string[] | undefined;
};

/** The keywords that are sources only when single-quoted (CSP3 §2.3.1 `keyword-source`). */
const KEYWORDS = new Set([
  'self',
  'none',
  'unsafe-inline',
  'unsafe-eval',
  'strict-dynamic',
  'unsafe-hashes',
  'report-sample',
  'unsafe-allow-redirects',
  'wasm-unsafe-eval',
  'inline-speculation-rules',
]);

/** A directive name as given: kebab-case or camelCase ASCII. */
const DIRECTIVE_NAME = /^[a-z][a-zA-Z0-9-]*$/;

/**
 * A source or value: visible ASCII without `;` (ends a directive) and `,` (ends a policy), the
 * characters CSP3 §2.2.1 leaves to directive values, whitespace excluded since it separates them.
 */
const VALUE = /^[!-+\--:<-~]+$/;

/**
 * The directives checked and normalized: kebab-case names, in the order given, each with its
 * sources. `where` names the option in error messages.
 *
 * @throws TypeError for a directive name that is not kebab- or camelCase ASCII, a name given
 *   twice (`defaultSrc` and `default-src`), a value that is not a list of strings, an entry that
 *   is empty or holds whitespace, a non-ASCII character, `;` or `,` (it would end the directive
 *   or the policy: an injection), an unquoted keyword (`self` for `'self'`, `nonce-…`), or no
 *   directive at all.
 */
export function checkedDirectives(directives: CspDirectives, where: string): Array<[string, string[]]> {
  if (typeof directives !== 'object' || directives === null || Array.isArray(directives)) {
    throw new TypeError(`${where} must be an object of directive name → list of sources`);
  }
  const out: Array<[string, string[]]> = [];
  const seen = new Set<string>();
  for (const [given, sources] of Object.entries(directives)) {
    if (sources === undefined) continue;
    if (!DIRECTIVE_NAME.test(given)) throw new TypeError(`${where}: ${JSON.stringify(given)} is not a directive name`);
    const name = given.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
    if (seen.has(name)) throw new TypeError(`${where}: directive ${name} is given twice`);
    seen.add(name);
    if (!Array.isArray(sources)) throw new TypeError(`${where}: ${name} must be a list of sources (an empty list for none), not ${JSON.stringify(sources)}`);
    for (const source of sources as unknown[]) checkSource(source, name, where);
    out.push([name, [...(sources as string[])]]);
  }
  if (out.length === 0) throw new TypeError(`${where} has no directive: give some, or turn the header off with false`);
  return out;
}

/** Throws unless `source` is one entry of a directive value, quoted when it is a keyword. */
function checkSource(source: unknown, name: string, where: string): void {
  if (typeof source !== 'string' || !VALUE.test(source)) {
    throw new TypeError(
      `${where}: ${name} holds ${JSON.stringify(source)}: a source is one non-empty word of visible ASCII without ';' or ',' (give each source as its own entry)`,
    );
  }
  const lower = source.toLowerCase();
  if (KEYWORDS.has(lower) || /^(?:nonce|sha256|sha384|sha512)-/.test(lower)) {
    throw new TypeError(`${where}: ${name} holds ${JSON.stringify(source)}, which is a keyword only when quoted: write "'${source}'"`);
  }
}

/** The field value of checked directives: `name source source; name; …` (CSP3 §2.2.1). */
export function serializeCsp(directives: ReadonlyArray<readonly [string, readonly string[]]>): string {
  return directives.map(([name, sources]) => (sources.length === 0 ? name : `${name} ${sources.join(' ')}`)).join('; ');
}
