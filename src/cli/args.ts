/**
 * Command-line parsing of `tsgi`: the usage text and {@link parseCommandLine}, which turns
 * `argv` into a {@link Command} (`tsgi serve`'s own flags are read by src/cli/serve-args.ts).
 *
 * @module
 */
import type { ServeCommand } from './command.ts';
import { parseServe } from './serve-args.ts';
import { UsageError } from './values.ts';

export { UsageError } from './values.ts';
export { SERVE_USAGE } from './serve-args.ts';

/** A parsed command line. */
export type Command =
  | { readonly command: 'help'; readonly topic: 'tsgi' | 'serve' }
  | { readonly command: 'version' }
  | ServeCommand;

/** Usage of `tsgi`. */
export const USAGE = `Usage: tsgi <command> [options]

Commands:
  serve <module>[:<export>]   Serve a gateway app exported by a .ts or .js module

Options:
  -h, --help     Show this help ("tsgi serve --help" for the options of serve)
  --version      Print the version of tsgi
`;

/**
 * Parses the arguments after `tsgi` (`process.argv.slice(2)`).
 *
 * `--help`/`-h`/`help` → help; `--version` → version; `serve …` → a {@link ServeCommand},
 * with `env.PORT` as the port when `--port` is absent.
 *
 * @throws UsageError for no command, an unknown command or option, a missing or extra
 *   positional argument, or a flag value that is not valid (its one-line message says which).
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Command {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UsageError('missing command (tsgi --help lists them)');
  if (first === '--help' || first === '-h' || first === 'help') {
    return { command: 'help', topic: rest[0] === 'serve' ? 'serve' : 'tsgi' };
  }
  if (first === '--version') return { command: 'version' };
  if (first === 'serve') return parseServe(rest, env);
  throw new UsageError(first.startsWith('-') ? `unknown option '${first}'` : `unknown command '${first}'`);
}
