/**
 * The command line of `tsgi serve`: the {@link ServeCommand} it stands for, its usage text,
 * and {@link parseServe}, which reads the flags (see src/cli/flags.ts) and their environment
 * defaults and checks how they combine.
 *
 * @module
 */
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { FLAGS, flagHelp, parseArgsOptions } from './flags.ts';
import { missingFrom, readEnvFile } from './env-file.ts';
import type { ServeCommand } from './command.ts';
import { DEFAULT_BODY_TIMEOUT } from '../adapters/node/body-timeout.ts';
import type { CertReqs } from './values.ts';
import {
  MAX_SECONDS,
  MAX_WORKERS,
  UsageError,
  parseAccessLogFormat,
  parseAllowIps,
  parseCertReqs,
  parseCount,
  parseHost,
  parseHostList,
  parseLogLevel,
  parseNameList,
  parseMode,
  parseNonEmpty,
  parsePort,
  parseRootPath,
  parseSeconds,
  parseSize,
} from './values.ts';

/** The default port when neither `--port` nor `$PORT` is given. */
export const DEFAULT_PORT = 8000;
/**
 * The environment variable that gives `--ssl-keyfile-password` out of the command line: a
 * process's arguments are readable by every local user (`ps`, `/proc/<pid>/cmdline`), its
 * environment by its own user alone (`/proc/<pid>/environ` is mode 0400). As uvicorn's
 * `UVICORN_SSL_KEYFILE_PASSWORD`. The process that loads the app deletes it from `process.env`
 * before the app loads (src/cli/serve.ts); a manager (the primary of `--workers`, the
 * supervisor of `--reload`) keeps it for the processes it starts.
 */
export const PASSWORD_ENV = 'TSGI_SSL_KEYFILE_PASSWORD';

/** The default address to bind. */
export const DEFAULT_HOST = '127.0.0.1';

/** Usage of \`tsgi serve\`: every flag with its default. */
export const SERVE_USAGE = `Usage: tsgi serve <module>[:<export>] [options]

Serves the export <export> (default: app) of <module>, a .ts or .js file whose path is
relative to the current directory. The export is a gateway app function, an object with a
respond() method (a Response, an HTTPException), or a promise of one.

${flagHelp()}
Signals: SIGINT or SIGTERM stop gracefully (a second one cuts what remains); with --workers,
SIGHUP replaces the workers one by one; without, it reads the --ssl-certfile, --ssl-keyfile
and --ssl-ca-certs files again (the code is not reloaded); with --reload, it stops (a closed terminal). Exit status: 0 after a signal; 1 on a runtime failure
(address in use, the module threw while loading); 2 for a bad flag value, a missing module or
export, or an export that is not an app.
`;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The flags with a `--no-` form (`--[no-]access-log`). */
const NEGATABLE: ReadonlySet<string> = new Set(FLAGS.filter((flag) => flag.negatable).map((flag) => flag.name));

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
  if (module === '') throw new UsageError(`missing module path in '${target}'`);
  return { module, exportName };
}

/** The environment variables the defaults come from. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The value of an environment variable, `undefined` when unset or empty. */
function fromEnv(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** Flags that need another one, or exclude each other. */
function checkCombinations(values: Record<string, unknown>): void {
  const needs = (flag: string, other: string, why = '') => {
    if (values[flag] !== undefined && values[other] === undefined) throw new UsageError(`--${flag} needs --${other}${why}`);
  };
  // With --h2c (cleartext), 'needs --ssl-certfile' would only lead to '--h2c and --ssl-certfile
  // cannot be combined': say so at once.
  for (const flag of ['ssl-ca-certs', 'ssl-cert-reqs']) {
    if (values[flag] !== undefined && values.h2c !== undefined) {
      throw new UsageError(
        `--${flag} and --h2c cannot be combined: client certificates are asked for in the TLS handshake, and h2c is cleartext (HTTP/2 over TLS is --http2 with --ssl-certfile and --ssl-keyfile)`,
      );
    }
  }
  needs('ssl-certfile', 'ssl-keyfile');
  needs('ssl-keyfile', 'ssl-certfile');
  needs('ssl-keyfile-password', 'ssl-keyfile');
  needs('ssl-ca-certs', 'ssl-certfile', ' and --ssl-keyfile (client certificates are asked for over TLS)');
  needs('ssl-cert-reqs', 'ssl-certfile', ' and --ssl-keyfile (client certificates are asked for over TLS)');
  needs('http2', 'ssl-certfile', ' and --ssl-keyfile (--h2c serves HTTP/2 without TLS)');
  needs('reload-dir', 'reload');
  needs('forwarded-allow-ips', 'proxy-headers');
  needs('forwarded-host', 'proxy-headers');
  needs('forwarded-prefix', 'proxy-headers');
  needs('limit-max-requests-jitter', 'limit-max-requests');
  // Not 'needs --uds' then: --uds with --fd is refused too; the mode is set where the socket is made.
  if (values['uds-mode'] !== undefined && values.fd !== undefined) {
    throw new UsageError("--uds-mode and --fd cannot be combined: the socket of --fd keeps the mode its creator gave it (systemd's SocketMode=)");
  }
  needs('uds-mode', 'uds');
  const excludes = (flag: string, other: string) => {
    if (values[flag] !== undefined && values[other] !== undefined) throw new UsageError(`--${flag} and --${other} cannot be combined`);
  };
  excludes('h2c', 'ssl-certfile');
  excludes('h2c', 'http2');
  excludes('uds', 'host');
  excludes('uds', 'port');
  excludes('reload', 'workers');
  excludes('fd', 'host');
  excludes('fd', 'port');
  excludes('fd', 'uds');
  // The child of --reload gets its standard streams, its supervisor's socket (3) and the IPC channel only.
  excludes('fd', 'reload');
  for (const flag of ['forwarded-allow-ips', 'forwarded-host', 'forwarded-prefix']) {
    if (values['proxy-headers'] === false && values[flag] !== undefined) throw new UsageError(`--${flag} needs --proxy-headers`);
  }
  if (values['access-log'] === false && values['access-log-format'] !== undefined) {
    throw new UsageError('--access-log-format and --no-access-log cannot be combined');
  }
}

/**
 * `--ssl-ca-certs` and `--ssl-cert-reqs` go together: a certificate asked for is verified
 * against the CAs given, never against Node's public roots (its default `ca`), under which any
 * certificate a public CA issued would pass as `SUCCESS`; and CAs given with `none` would check
 * nothing, which the one who gave them did not mean.
 *
 * @throws UsageError for either without the other.
 */
function checkClientCertificates(caCerts: string | undefined, certReqs: CertReqs): void {
  if (certReqs !== 'none' && caCerts === undefined) {
    throw new UsageError(`--ssl-cert-reqs ${certReqs} needs --ssl-ca-certs, the CA certificates that sign the client certificates`);
  }
  if (certReqs === 'none' && caCerts !== undefined) {
    throw new UsageError('--ssl-ca-certs needs --ssl-cert-reqs optional or required: without it no client certificate is asked for');
  }
}

/**
 * Parses the arguments after `tsgi serve`: a {@link ServeCommand}, or `help` for `--help`.
 *
 * @throws UsageError for a missing or extra positional argument, an unknown flag, a value
 *   that is not valid, or flags that need or exclude each other (one-line messages).
 */
export function parseServe(args: readonly string[], env: Env): ServeCommand | { readonly command: 'help'; readonly topic: 'serve' } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], allowPositionals: true, allowNegative: true, strict: true, tokens: true, options: parseArgsOptions() });
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    if (unknown) throw new UsageError(`unknown option '${unknown[1]}' (tsgi serve --help lists them)`);
    // `--port -1`: parseArgs takes a value starting with '-' for a flag.
    const dashed = /^Option '([^']+)' argument is ambiguous/.exec(message);
    if (dashed) throw new UsageError(`${dashed[1]} needs a value; one starting with '-' is written ${dashed[1]}=<value>`);
    // `tsgi serve app.ts --uds`: the last flag without its value.
    const missing = /^Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(message);
    if (missing) throw new UsageError(`${missing[1]} needs a value`);
    throw new UsageError(message.split('\n', 1)[0]!);
  }
  // parseArgs' allowNegative takes `--no-` in front of every boolean flag: only those with a
  // `--no-` form in --help are flags (`--no-reload` would be taken as given, `values.reload` set).
  const negated = parsed.tokens.find((token) => token.kind === 'option' && token.rawName === `--no-${token.name}` && !NEGATABLE.has(token.name));
  if (negated?.kind === 'option') throw new UsageError(`unknown option '${negated.rawName}' (tsgi serve --help lists them)`);
  const { positionals } = parsed;
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help) return { command: 'help', topic: 'serve' };
  if (positionals.length === 0) throw new UsageError('missing <module>[:<export>] (tsgi serve --help lists the options)');
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  checkCombinations(values);
  const text = (name: string) => values[name] as string | undefined;
  const envFile = text('env-file');
  // The file's variables are defaults ($PORT, $WEB_CONCURRENCY…) as much as the app's.
  const environment = envFile === undefined ? {} : missingFrom(readEnvFile(parseNonEmpty(envFile, '--env-file')), env);
  env = { ...env, ...environment };
  // How an error names an environment default: with the file it came from, when it did.
  const variable = (name: string) => (name in environment ? `$${name} (set by --env-file ${envFile})` : `$${name}`);
  const { module, exportName } = parseTarget(positionals[0]!);
  const upgrade = text('upgrade');
  if (upgrade !== undefined && !IDENTIFIER.test(upgrade)) throw new UsageError(`--upgrade names an export of the module (a name like 'upgrade'): got '${upgrade}'`);
  if (upgrade === exportName) throw new UsageError(`--upgrade ${upgrade} names the export served as the app; name the export that takes the Upgrade requests`);
  // $PORT is for a TCP listener: with --uds or --fd it names nothing, and is not read (or checked).
  const port = text('port') ?? (text('uds') === undefined && text('fd') === undefined ? fromEnv(env, 'PORT') : undefined);
  // --reload serves one process: $WEB_CONCURRENCY (set for production) is ignored, as uvicorn
  // does; `--workers` with it is refused (checkCombinations).
  const workers = text('workers') ?? (values.reload === true ? undefined : fromEnv(env, 'WEB_CONCURRENCY'));
  const seconds = (name: string, fallback: number, zero = false) => {
    const value = text(name);
    return value === undefined ? fallback : parseSeconds(value, `--${name}`, zero);
  };
  const count = (name: string, min = 1) => {
    const value = text(name);
    return value === undefined ? undefined : parseCount(value, `--${name}`, min);
  };
  const certfile = text('ssl-certfile');
  const keyfile = text('ssl-keyfile');
  const caCerts = text('ssl-ca-certs') === undefined ? undefined : parseNonEmpty(text('ssl-ca-certs')!, '--ssl-ca-certs');
  const certReqs = parseCertReqs(text('ssl-cert-reqs') ?? 'none', '--ssl-cert-reqs');
  checkClientCertificates(caCerts, certReqs);
  const allowIps = text('forwarded-allow-ips');
  // $FORWARDED_ALLOW_IPS is for --proxy-headers: without it the list names nothing, and is not
  // read (or checked), as $PORT with --uds.
  const envAllowIps = values['proxy-headers'] === true ? fromEnv(env, 'FORWARDED_ALLOW_IPS') : undefined;
  const maxBodySize = text('max-body-size');
  const trustedHosts = text('trusted-hosts');
  return {
    command: 'serve',
    module,
    exportName,
    upgrade,
    host: parseHost(text('host') ?? DEFAULT_HOST, '--host'),
    port: port === undefined ? DEFAULT_PORT : parsePort(port, text('port') === undefined ? variable('PORT') : '--port'),
    uds: text('uds') === undefined ? undefined : parseNonEmpty(text('uds')!, '--uds'),
    udsMode: text('uds-mode') === undefined ? undefined : parseMode(text('uds-mode')!, '--uds-mode'),
    fd: count('fd', 0),
    ssl:
      certfile === undefined || keyfile === undefined
        ? undefined
        : {
            certfile: parseNonEmpty(certfile, '--ssl-certfile'),
            keyfile: parseNonEmpty(keyfile, '--ssl-keyfile'),
            password: text('ssl-keyfile-password') ?? fromEnv(env, PASSWORD_ENV),
            passwordFrom: text('ssl-keyfile-password') === undefined ? variable(PASSWORD_ENV) : '--ssl-keyfile-password',
            caCerts,
            certReqs,
          },
    http2: values.h2c === true ? 'h2c' : values.http2 === true,
    proxyHeaders: values['proxy-headers'] === true,
    forwardedAllowIps:
      allowIps !== undefined
        ? parseAllowIps(allowIps, '--forwarded-allow-ips')
        : parseAllowIps(envAllowIps ?? '127.0.0.1', variable('FORWARDED_ALLOW_IPS')),
    forwardedHost: values['forwarded-host'] === true,
    forwardedPrefix: values['forwarded-prefix'] === true,
    rootPath: parseRootPath(text('root-path') ?? '', '--root-path'),
    trustedHosts: trustedHosts === undefined ? undefined : parseHostList(trustedHosts, '--trusted-hosts'),
    timeoutKeepAlive: seconds('timeout-keep-alive', 5_000),
    timeoutHeaders: seconds('timeout-headers', 20_000),
    timeoutRequest: seconds('timeout-request', 300_000),
    timeoutBody: seconds('timeout-body', DEFAULT_BODY_TIMEOUT, true),
    timeoutGracefulShutdown: seconds('timeout-graceful-shutdown', 30_000, true),
    timeoutWorkerHealthcheck: parseHealthcheck(text('timeout-worker-healthcheck')),
    limitConcurrency: count('limit-concurrency'),
    limitMaxRequests: count('limit-max-requests'),
    limitMaxRequestsJitter: count('limit-max-requests-jitter', 0) ?? 0,
    maxBodySize: maxBodySize === undefined ? DEFAULT_MAX_BODY_SIZE : parseSize(maxBodySize, '--max-body-size'),
    workers: workers === undefined ? undefined : parseCount(workers, text('workers') === undefined ? variable('WEB_CONCURRENCY') : '--workers', 1, MAX_WORKERS),
    environment,
    reload: values.reload === true,
    reloadDirs: ((values['reload-dir'] as string[] | undefined) ?? [dirname(module)]).map((dir) => parseNonEmpty(dir, '--reload-dir')),
    accessLog: values['access-log'] !== false,
    accessLogFormat: parseAccessLogFormat(text('access-log-format') ?? 'combined', '--access-log-format'),
    accessLogRedact: parseNameList((values['access-log-redact'] as string[] | undefined) ?? [], '--access-log-redact'),
    logLevel: parseLogLevel(text('log-level') ?? 'info', '--log-level'),
  };
}

/**
 * The default of `--timeout-worker-healthcheck`: 30 s (milliseconds here), gunicorn's default
 * `--timeout` for a silent worker. uvicorn's 5 s would kill a worker for one long synchronous
 * task that a Node event loop may legitimately run (a large JSON parse, a template compile).
 */
export const DEFAULT_WORKER_HEALTHCHECK = 30_000;

/**
 * The shortest `--timeout-worker-healthcheck` other than 0: 1 s (milliseconds here), the least
 * gunicorn's `--timeout` and uvicorn's `--timeout-worker-healthcheck` take (whole seconds).
 * Below it, a heartbeat's way through the IPC channel and one busy turn of a loaded worker's
 * event loop (a garbage collection) pass for a hang: every worker was killed once it listened,
 * and its replacement in turn, in a back-off loop that never served.
 */
export const MIN_WORKER_HEALTHCHECK = 1_000;

/**
 * `--timeout-worker-healthcheck` (`value`, `undefined` when not given): 0 for no check, else
 * seconds from {@link MIN_WORKER_HEALTHCHECK}; answered in milliseconds.
 * @throws UsageError `invalid --timeout-worker-healthcheck '0.5': expected 0 (no check) or seconds from 1 to 2147483`.
 */
function parseHealthcheck(value: string | undefined): number {
  if (value === undefined) return DEFAULT_WORKER_HEALTHCHECK;
  const flag = '--timeout-worker-healthcheck';
  const timeout = parseSeconds(value, flag, true);
  if (timeout > 0 && timeout < MIN_WORKER_HEALTHCHECK) {
    throw new UsageError(`invalid ${flag} '${value}': expected 0 (no check) or seconds from ${MIN_WORKER_HEALTHCHECK / 1000} to ${MAX_SECONDS}`);
  }
  return timeout;
}

/** The default of `--max-body-size`: 100 MiB, as the form readers' default. */
export const DEFAULT_MAX_BODY_SIZE = 100 * 1024 * 1024;
