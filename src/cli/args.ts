/**
 * Command-line parsing of `tsgi` (with `node:util` `parseArgs`): the usage texts and the
 * {@link parseCommandLine} function that turns `argv` into a {@link Command}.
 *
 * @module
 */
import { parseArgs } from 'node:util';

/** Thrown for a command line that cannot be run; the CLI prints it with the usage, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  /** Which usage text to show with the message. */
  readonly topic: 'tsgi' | 'serve';
  constructor(message: string, topic: 'tsgi' | 'serve' = 'tsgi') {
    super(message);
    this.topic = topic;
  }
}

/** `tsgi serve`: what to load and where to listen. */
export interface ServeCommand {
  readonly command: 'serve';
  /** The module path as given, relative to the working directory (`examples/demo.ts`). */
  readonly module: string;
  /** The export to serve; `app` when the target has no `:export`. */
  readonly exportName: string;
  /** Address to bind; default `127.0.0.1`. */
  readonly host: string;
  /** Port to bind (0–65535, 0 picks a free one); default `$PORT`, else 8000. */
  readonly port: number;
  /** Number of worker processes (node:cluster); `undefined` serves in this process. */
  readonly workers: number | undefined;
}

/** A parsed command line. */
export type Command =
  | { readonly command: 'help'; readonly topic: 'tsgi' | 'serve' }
  | { readonly command: 'version' }
  | ServeCommand;

/** The default port when neither `--port` nor `$PORT` is given. */
export const DEFAULT_PORT = 8000;
/** The default address to bind. */
export const DEFAULT_HOST = '127.0.0.1';

/** Usage of `tsgi`. */
export const USAGE = `Usage: tsgi <command> [options]

Commands:
  serve <module>[:<export>]   Serve a gateway app exported by a .ts or .js module

Options:
  -h, --help     Show this help ("tsgi serve --help" for the options of serve)
  --version      Print the version of tsgi
`;

/** Usage of `tsgi serve`. */
export const SERVE_USAGE = `Usage: tsgi serve <module>[:<export>] [options]

Serves the export <export> (default: app) of <module>, a .ts or .js file whose path is
relative to the current directory. The export is a gateway app function, an object with a
respond() method (a Response, an HTTPException), or a promise of one.

Options:
  --host <address>     Address to bind (default: ${DEFAULT_HOST})
  -p, --port <port>    Port to bind, 0 for any free port (default: $PORT, else ${DEFAULT_PORT})
  -w, --workers <n>    Run <n> worker processes sharing the port (node:cluster); a worker
                       that dies is replaced (default: serve in this process)
  -h, --help           Show this help

Prints "Serving on http://HOST:PORT" once listening; SIGINT or SIGTERM stops gracefully.
Exit status: 0 after a signal; 1 on a runtime failure (address in use, the module threw
while loading); 2 for bad arguments, a missing module or export, or an export that is not
an app.
`;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Splits `path/to/module.ts:name` at its last colon when what follows is an identifier (or
 * nothing), so Windows drive letters survive. No `:export`, or an empty one, means `app`.
 *
 * @throws UsageError for an empty module path.
 */
export function parseTarget(target: string): { module: string; exportName: string } {
  let module = target;
  let exportName = 'app';
  const colon = target.lastIndexOf(':');
  if (colon !== -1) {
    const name = target.slice(colon + 1);
    if (name === '' || IDENTIFIER.test(name)) {
      module = target.slice(0, colon);
      if (name !== '') exportName = name;
    }
  }
  if (module === '') throw new UsageError(`missing module path in '${target}'`, 'serve');
  return { module, exportName };
}

/** A decimal port 0–65535, or a {@link UsageError} naming `what`. */
function parsePort(value: string, what: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port <= 65535)) throw new UsageError(`invalid ${what} '${value}': expected a port number 0-65535`, 'serve');
  return port;
}

function parseServe(args: string[], env: Readonly<Record<string, string | undefined>>): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string', short: 'p' },
        workers: { type: 'string', short: 'w' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message, 'serve');
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help', topic: 'serve' };
  if (positionals.length === 0) throw new UsageError('missing <module>[:<export>]', 'serve');
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`, 'serve');
  const { module, exportName } = parseTarget(positionals[0]!);
  const host = values.host ?? DEFAULT_HOST;
  if (host === '') throw new UsageError('--host must not be empty', 'serve');
  let port = DEFAULT_PORT;
  if (values.port !== undefined) port = parsePort(values.port, '--port');
  else if (env.PORT !== undefined && env.PORT !== '') port = parsePort(env.PORT, '$PORT');
  let workers: number | undefined;
  if (values.workers !== undefined) {
    workers = /^\d{1,4}$/.test(values.workers) ? Number(values.workers) : 0;
    if (workers < 1) throw new UsageError(`invalid --workers '${values.workers}': expected a number 1-9999`, 'serve');
  }
  return { command: 'serve', module, exportName, host, port, workers };
}

/**
 * Parses the arguments after `tsgi` (`process.argv.slice(2)`).
 *
 * `--help`/`-h`/`help` → help; `--version` → version; `serve …` → a {@link ServeCommand},
 * with `env.PORT` as the port when `--port` is absent.
 *
 * @throws UsageError for no command, an unknown command or option, a missing or extra
 *   positional argument, or an invalid port, host or worker count.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Command {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UsageError('missing command');
  if (first === '--help' || first === '-h' || first === 'help') {
    return { command: 'help', topic: rest[0] === 'serve' ? 'serve' : 'tsgi' };
  }
  if (first === '--version') return { command: 'version' };
  if (first === 'serve') return parseServe(rest, env);
  throw new UsageError(first.startsWith('-') ? `unknown option '${first}'` : `unknown command '${first}'`);
}
