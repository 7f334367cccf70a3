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
 * that are none of these are skipped, as Node and dotenv skip them.
 *
 * @throws UsageError (`--env-file: cannot read '.env': no such file`) when the file cannot be read,
 *   and for a double-quoted value holding `\"`, which Node's parser cuts short (the value is
 *   not printed: it may be a secret).
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
  for (const name of Object.keys(vars)) {
    if (vars[name]!.endsWith('\\') && escapedQuoteIn(text, name)) {
      throw new UsageError(`--env-file '${path}': ${name} holds \\" in double quotes, where Node's parser cuts the value short: write the value in single quotes, where " needs no escape`);
    }
  }
  return vars;
}

/**
 * True when the line setting `name` in `text` opens a double-quoted value holding `\"`: Node's
 * `parseEnv` ends the value at that backslash (`"pa\"ss"` reads `pa\`), where dotenv keeps the
 * rest, so a password would be cut unsaid. Only asked for a value ending in a backslash.
 */
function escapedQuoteIn(text: string, name: string): boolean {
  const line = new RegExp(`^[ \\t]*(?:export[ \\t]+)?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[ \\t]*=[ \\t]*"([^\\n]*)`, 'm').exec(text);
  return line !== null && /\\"/.test(line[1]!);
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
