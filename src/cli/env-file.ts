/**
 * `tsgi serve --env-file`: environment variables read from a file of `KEY=value` lines (the
 * dotenv format Node's own `--env-file` reads), as uvicorn's `--env-file` reads one.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { UsageError } from './values.ts';

/**
 * The variables of the file at `path` (relative to the working directory), parsed by Node's
 * `util.parseEnv`: `KEY=value` lines, `#` comments, single, double or back quotes (a double
 * quoted value may hold `\n` and span lines), an optional `export ` in front; CRLF line ends
 * too. A UTF-8 byte order mark in front (Windows editors save one) is left out: it would
 * otherwise become part of the first variable's name (as with Node's own `--env-file`). Lines
 * that are none of these are skipped, as Node and dotenv skip them, and so is a comment
 * indented by spaces or tabs, which Node's parser would set as a variable named `# KEY`. An
 * `export` followed by a tab sets the variable after it, as bash, dotenv and python-dotenv
 * (uvicorn's) read it, where Node's parser sets a variable named `export\tKEY`.
 *
 * @throws UsageError (`--env-file: cannot read '.env': no such file`) when the file cannot be read,
 *   and for a quoted value holding its quote escaped (`"pa\"ss"`, `'it\'s'`), which Node's
 *   parser cuts short (the value is not printed: it may be a secret).
 */
export function readEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new UsageError(`--env-file: cannot read '${path}': ${why}`);
  }
  // Without the mark, the first line is found by escapedQuoteIn too.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const vars = parseEnv(text) as Record<string, string>;
  exportedWithTab(vars, text);
  for (const name of Object.keys(vars)) {
    // An indented comment (`  # KEY=old`), which Node's parser reads as a variable named `# KEY`.
    if (name.startsWith('#')) {
      delete vars[name];
      continue;
    }
    const quote = vars[name]!.endsWith('\\') ? escapedQuoteIn(text, name) : undefined;
    if (quote !== undefined) {
      const [kind, other] = QUOTES[quote];
      throw new UsageError(
        `--env-file '${path}': ${name} holds \\${quote} in ${kind} quotes, where Node's parser cuts the value short: write the value in ${other} quotes, where ${quote} needs no escape`,
      );
    }
  }
  return vars;
}

/**
 * Renames in `vars` (parsed from `text` by Node's `parseEnv`) the variables of lines written
 * `export<TAB>KEY=value`, which Node's parser names `export\tKEY` (it knows `export` followed by
 * a space alone), to `KEY`. Where `text` sets `KEY` on another line too, the later line wins, as
 * between any two lines.
 */
function exportedWithTab(vars: Record<string, string>, text: string): void {
  for (const name of Object.keys(vars)) {
    const key = /^export[ \t]+(.+)$/s.exec(name)?.[1];
    if (key === undefined) continue;
    const value = vars[name]!;
    delete vars[name];
    if (!(key in vars) || lastLineSetting(text, name) > lastLineSetting(text, key)) vars[key] = value;
  }
}

/** Where the last line of `text` setting the variable Node's parser names `name` starts; -1 for none. */
function lastLineSetting(text: string, name: string): number {
  const lines = text.matchAll(new RegExp(`^[ \\t]*(?:export +)?${escapeRegex(name)}[ \\t]*=`, 'gm'));
  let last = -1;
  for (const line of lines) last = line.index;
  return last;
}

/** `text` as a regular expression matching it literally. */
const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Each quote of a value: its name, and the quotes to write a value holding it in instead. */
const QUOTES = { '"': ['double', 'single'], "'": ['single', 'double'], '`': ['back', 'single'] } as const;

/**
 * The quote that the line setting `name` in `text` opens its value with, when that value holds
 * it escaped (`"pa\"ss"`, `'it\'s'`): Node's `parseEnv` ends the value at the first quote after
 * the opening one, here the escaped one (`pa\`, `it\`), where dotenv keeps the rest, so a
 * password would be cut unsaid. `undefined` otherwise: read with a backslash escaping the
 * character after it (python-dotenv's reading, uvicorn's), the value closes at that same quote,
 * as `"C:\\logs\\"` does (an escaped backslash before its closing quote). Only asked for a
 * value ending in a backslash.
 */
function escapedQuoteIn(text: string, name: string): keyof typeof QUOTES | undefined {
  const line = new RegExp(`^[ \\t]*(?:export[ \\t]+)?${escapeRegex(name)}[ \\t]*=[ \\t]*(["'\`])`, 'm').exec(text);
  if (line === null) return undefined;
  const quote = line[1] as keyof typeof QUOTES;
  const value = text.slice(line.index + line[0].length);
  // Where the value closes with escapes read (past its end: never), to compare with where Node closes it.
  let closing = 0;
  while (closing < value.length && value[closing] !== quote) closing += value[closing] === '\\' ? 2 : 1;
  return closing < value.length && closing === value.indexOf(quote) ? undefined : quote;
}

/**
 * The variables of `file` that `env` does not set: a variable already in the environment wins
 * over the file's, as with Node's `--env-file`, docker's `--env-file` under `-e`, and uvicorn
 * (python-dotenv without `override`). An empty value counts as set.
 */
export function missingFrom(file: Readonly<Record<string, string>>, env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const missing: Record<string, string> = {};
  for (const [name, value] of Object.entries(file)) if (env[name] === undefined) missing[name] = value;
  return missing;
}
