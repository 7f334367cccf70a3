/**
 * Other routers' path syntax, which tsgi's own paths do not read: a key of `mount`, a rule of
 * `RouteMap` or a `redirectTo` holding it would match (or redirect to) its text literally, every
 * request it was meant for a silent 404, so all three refuse it by this one definition.
 *
 * @module
 */

/** A parameter's name in Express (path-to-regexp) and Hono. */
const NAME = String.raw`[A-Za-z_$][\w$]*`;

/**
 * A parameter or wildcard of Express 4/5 (path-to-regexp) or Hono: `:name` at a segment's start
 * or after `-`, `.` or `{` (Express's `/flights/:from-:to`, `/plantae/:genus.:species`), or after
 * an `@` opening a segment (a profile page, `/@:user`: no literal path holds `/@:`), with
 * Express 4's `(regex)` or Hono's `{regex}` and a modifier (`?` optional, `*` zero or more, `+`
 * one or more) after it; or `*` / `*name` as a whole segment (Express 4 and 5, Hono). A `:` after
 * other text (`urn:isbn:<isbn>`, `/a:b`) and a `*` inside a segment (`a*b`) are not. Groups:
 * 1 the `:name`'s name, 2 its modifier, 3 the `*name`'s name.
 */
const TOKEN = new RegExp(String.raw`(?<=^|[/.\-{]|\/@)(?::(${NAME})(?:\((?:[^()]|\([^()]*\))*\)|\{[^{}]*\})?([?*+])?|\*(${NAME})?(?=$|[/}]))`, 'gs');

/**
 * A `{…}` group: Express 5's optional part (`/posts{/:id}`, `/file{.:ext}`) when it holds a
 * parameter or wildcard (see {@link isOptionalGroup}); other braces (`/a{b}`, Hono's
 * `:id{[0-9]+}`) are not. Group 1 is its content.
 */
const GROUP = /\{([^{}]*)\}/gs;

/** A `:name` parameter ending the text before a `{…}` (as `TOKEN` reads one). */
const PARAM_BEFORE = new RegExp(String.raw`(?:^|[/.\-{]|\/@):${NAME}$`, 's');

const holdsToken = (text: string, named = false): boolean => {
  TOKEN.lastIndex = 0;
  let found = false;
  for (const match of text.matchAll(TOKEN)) {
    if (!named || match[1] !== undefined || match[3] !== undefined) {
      found = true;
      break;
    }
  }
  TOKEN.lastIndex = 0;
  return found;
};

/**
 * True when the `{content}` at `index` of `path` is an optional part. Right after a `:name` it
 * is that parameter's Hono expression (`:path{.*}`, `:rest{a/*}`, a `*` of which is no
 * wildcard) unless it holds a named parameter or wildcard (Express 5's `/:file{.:ext}`).
 */
function isOptionalGroup(path: string, index: number, content: string): boolean {
  return holdsToken(content, PARAM_BEFORE.test(path.slice(0, index)));
}

/** Another router's syntax found in a path (see `foreignSyntax`). */
export interface ForeignSyntax {
  /**
   * The first piece of that syntax as written (`:id`, `*`, `:from`), or the first optional part
   * (`{/:id}`, `:id?`) when there is one.
   */
  readonly text: string;
  /** Where the first piece of that syntax starts in the path. */
  readonly index: number;
  /**
   * The path before it, as a prefix ending at a segment's end (`/users` for `/users/:id/posts`,
   * `/posts` for `/posts{/:id}`), `'/'` when nothing is left.
   */
  readonly prefix: string;
  /** True when part of the path is optional (`{…}`, `:name?`, `:name*`): it takes two tsgi rules or more. */
  readonly optional: boolean;
  /**
   * The path written as tsgi patterns: one (`/flights/<from>-<to>`, `/files/<path:path>`), or for
   * an optional part two, without it and with it (`/posts`, `/posts/<id>`); for several, one per
   * combination of them that matches differently (`/x`, `/x/<a>`, `/x/<a>/<b>` for
   * `/x/:a?/:b?`), past four parts only the ones keeping the first parts.
   */
  readonly patterns: readonly string[];
}

/**
 * `path` with the syntax written in Werkzeug's, each optional part kept or left out as `keep`
 * says of its number (the `{…}` groups first, left to right, then `:name?` and `:name*`).
 * Answers the number of optional parts too.
 */
function rewrite(path: string, keep: (part: number) => boolean): { pattern: string; parts: number } {
  const DROPPED = '\0';
  let parts = 0;
  const written = path
    .replace(GROUP, (whole, content: string, index: number) => (isOptionalGroup(path, index, content) ? (keep(parts++) ? content : DROPPED) : whole))
    .replace(TOKEN, (_whole, name: string | undefined, modifier: string | undefined, star: string | undefined) => {
      if (name === undefined) return `<path:${star ?? 'rest'}>`;
      if ((modifier === '?' || modifier === '*') && !keep(parts++)) return DROPPED;
      return modifier === '*' || modifier === '+' ? `<path:${name}>` : `<${name}>`;
    });
  // A dropped segment takes its slash with it (`/:lang?/about` → `/about`).
  return { pattern: written.replace(/\/\0(?=\/|$)/g, '').replace(/\0/g, '') || '/', parts };
}

/** Past this many optional parts, only the rules keeping the first ones are listed (not every combination). */
const MAX_COMBINED_PARTS = 4;

/**
 * The tsgi patterns for a path with optional parts: every combination of them, fewer parts
 * first and the earlier parts kept first (path-to-regexp fills the left one first: `/x/1` of
 * `/x/:a?/:b?` is `a`), one per shape (`/x/<b>` is `/x/<a>` again).
 */
function combinations(path: string): string[] {
  const parts = rewrite(path, () => true).parts;
  let keeps: Array<(part: number) => boolean>;
  if (parts <= MAX_COMBINED_PARTS) {
    const masks = Array.from({ length: 2 ** parts }, (_, mask) => mask);
    const count = (mask: number) => mask.toString(2).replace(/0/g, '').length;
    masks.sort((a, b) => count(a) - count(b) || a - b);
    keeps = masks.map((mask) => (part: number) => (mask & (1 << part)) !== 0);
  } else {
    keeps = Array.from({ length: parts + 1 }, (_, kept) => (part: number) => part < kept);
  }
  const shapes = new Set<string>();
  const patterns: string[] = [];
  for (const keep of keeps) {
    const { pattern } = rewrite(path, keep);
    const shape = pattern.replace(/<(path:)?[^<>]*>/g, '<$1>');
    if (shapes.has(shape)) continue;
    shapes.add(shape);
    patterns.push(pattern);
  }
  return patterns;
}

/**
 * The first piece of Express 4/5 (path-to-regexp) or Hono syntax in `path`, with the tsgi
 * patterns to write instead (Werkzeug's rule syntax: `<name>`, `<path:name>`), or `null` for a
 * path in tsgi's own syntax. Read: `:name` (with `?`, `*`, `+`, `(regex)` or Hono's `{regex}`),
 * several in a segment (`:from-:to`), `*` and `*name`, Express 5's `{…}` optional groups.
 *
 * @param path a path, tsgi placeholders (`<int:id>`, whose converter arguments may hold any
 *   text) replaced by the caller with a mark such as `<>`.
 */
export function foreignSyntax(path: string): ForeignSyntax | null {
  TOKEN.lastIndex = 0;
  const token = TOKEN.exec(path);
  TOKEN.lastIndex = 0;
  let group: RegExpExecArray | null = null;
  for (const match of path.matchAll(GROUP)) {
    if (isOptionalGroup(path, match.index, match[1]!)) {
      group = match;
      break;
    }
  }
  if (token === null && group === null) return null;
  const first = token === null || (group !== null && group.index < token.index) ? group! : token;
  const index = first.index;
  // A group opening a segment (`{/:id}`) leaves the text before it whole.
  const cut = path.startsWith('{/', index) ? index : Math.max(path.lastIndexOf('/', index), 0);
  const prefix = path.slice(0, cut).replace(/\/+$/, '') || '/';
  const optionalToken = [...path.matchAll(TOKEN)].find((m) => m[2] === '?' || m[2] === '*');
  const optional = group !== null || optionalToken !== undefined;
  // An optional part is shown as the part (`{.:ext}` of `/:file{.:ext}`), the first one written.
  const shown = !optional ? first : optionalToken === undefined || (group !== null && group.index < optionalToken.index) ? group! : optionalToken;
  const patterns = optional ? combinations(path) : [rewrite(path, () => true).pattern];
  return { text: shown[0], index, prefix, optional, patterns };
}

/**
 * {@link foreignSyntax} of a path holding placeholders of tsgi's own (`<int:id>`, whose
 * converter arguments may hold any text): each match of `placeholder` (a global RegExp) is left
 * out, marked `<i>` by its number, and put back where it stands in `text`, `prefix` and
 * `patterns` (an optional part's rule without it loses it with the part, the others stay in
 * place); `index` is in the path so marked.
 */
export function foreignSyntaxAround(path: string, placeholder: RegExp): ForeignSyntax | null {
  const kept = [...path.matchAll(placeholder)].map((m) => m[0]);
  let marks = 0;
  const foreign = foreignSyntax(path.replace(placeholder, () => `<${marks++}>`));
  if (foreign === null || kept.length === 0) return foreign;
  const putBack = (text: string) => text.replace(/<(\d+)>/g, (_mark, i: string) => kept[Number(i)]!);
  return { ...foreign, text: putBack(foreign.text), prefix: putBack(foreign.prefix), patterns: foreign.patterns.map(putBack) };
}
