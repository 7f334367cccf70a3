/**
 * The flags of `tsgi serve`, named as uvicorn names them: one table that gives `parseArgs`
 * its options and `--help` its text, so every flag is listed with its default.
 *
 * @module
 */
import { MAX_WORKERS } from './values.ts';

/** One flag of `tsgi serve`. */
export interface Flag {
  /** The long name, without `--`. */
  readonly name: string;
  readonly short?: string | undefined;
  /** The value's placeholder (`<seconds>`); none for a boolean flag. */
  readonly value?: string | undefined;
  /** May be given several times. */
  readonly multiple?: boolean | undefined;
  /** A boolean with a `--no-` form. */
  readonly negatable?: boolean | undefined;
  readonly help: string;
  /** The default, as `--help` shows it. */
  readonly default: string;
}

/** The flags in the order of `--help`, by group. */
export const FLAG_GROUPS: ReadonlyArray<readonly [title: string, flags: readonly Flag[]]> = [
  [
    'Listening',
    [
      { name: 'host', value: '<address>', help: 'Address to bind; 0.0.0.0 or :: for every interface', default: '127.0.0.1' },
      { name: 'port', short: 'p', value: '<port>', help: 'Port to bind, 0 for any free port', default: '$PORT, else 8000' },
      { name: 'uds', value: '<path>', help: 'Listen on this Unix socket instead (removed at exit)', default: 'none' },
      { name: 'uds-mode', value: '<mode>', help: "The --uds socket's permissions, in octal: 660 for its group (nginx's user) too", default: '666' },
      { name: 'fd', value: '<n>', help: 'Listen on this open socket instead: systemd socket activation (3)', default: 'none' },
      { name: 'ssl-certfile', value: '<file>', help: 'TLS certificate chain (PEM): serve HTTPS', default: 'none' },
      { name: 'ssl-keyfile', value: '<file>', help: 'TLS private key (PEM)', default: 'none' },
      { name: 'ssl-keyfile-password', value: '<password>', help: 'Passphrase of an encrypted key file (visible in ps: prefer the variable)', default: '$TSGI_SSL_KEYFILE_PASSWORD, else none' },
      { name: 'ssl-ca-certs', value: '<file>', help: 'CA certificates (PEM) that sign the client certificates', default: 'none' },
      { name: 'ssl-cert-reqs', value: '<mode>', help: 'Client certificates: none, optional (the app decides) or required', default: 'none' },
      { name: 'http2', help: 'HTTP/2 over TLS, HTTP/1.1 on the same port for older clients', default: 'off' },
      { name: 'h2c', help: 'Cleartext HTTP/2 (prior knowledge) next to HTTP/1.1', default: 'off' },
      { name: 'upgrade', value: '<export>', help: 'Hand HTTP/1.1 Upgrade requests (WebSockets) to this export of the module', default: 'none: the app answers them' },
    ],
  ],
  [
    'Behind a proxy',
    [
      { name: 'proxy-headers', negatable: true, help: 'Trust X-Forwarded-For and -Proto (one proxy)', default: 'off' },
      { name: 'forwarded-allow-ips', value: '<list>', help: "Peers trusted with them: addresses, CIDRs or '*'", default: '$FORWARDED_ALLOW_IPS, else 127.0.0.1' },
      { name: 'forwarded-host', help: 'Trust X-Forwarded-Host too: only if the proxy sets it on every request', default: 'off' },
      { name: 'forwarded-prefix', help: 'Trust X-Forwarded-Prefix too: only if the proxy sets it on every request', default: 'off' },
      { name: 'root-path', value: '<path>', help: 'Mount prefix the proxy strips, set as SCRIPT_NAME', default: 'none' },
      { name: 'trusted-hosts', value: '<list>', help: "Hosts answered ('.example.com' for subdomains too): other Host headers get 400", default: 'any' },
    ],
  ],
  [
    'Timeouts and limits',
    [
      { name: 'timeout-keep-alive', value: '<seconds>', help: 'Close an idle keep-alive connection after this', default: '5' },
      { name: 'timeout-headers', value: '<seconds>', help: 'Time for a whole request head: else 408', default: '20' },
      { name: 'timeout-request', value: '<seconds>', help: 'Time for a whole request, body included: else 408', default: '300' },
      { name: 'timeout-body', value: '<seconds>', help: 'Longest wait for the next bytes of a body the app reads: else 408 (0: none)', default: '60' },
      { name: 'timeout-graceful-shutdown', value: '<seconds>', help: 'On SIGTERM, wait this long for requests in flight', default: '30' },
      { name: 'limit-concurrency', value: '<n>', help: 'Answer 503 past <n> requests in flight per process', default: 'none' },
      { name: 'limit-max-requests', value: '<n>', help: 'Restart a worker after <n> requests', default: 'none' },
      { name: 'limit-max-requests-jitter', value: '<n>', help: "Add 0 to <n> requests to each worker's limit, so they restart apart", default: '0' },
      { name: 'max-body-size', value: '<size>', help: 'Answer 413 to larger request bodies (512kb, 100mb, 0: none)', default: '100mb' },
    ],
  ],
  [
    'Processes',
    [
      { name: 'env-file', value: '<file>', help: 'Set environment variables from this file (KEY=value lines); those already set win', default: 'none' },
      { name: 'workers', short: 'w', value: '<n>', help: `Run <n> worker processes sharing the port (at most ${MAX_WORKERS})`, default: '$WEB_CONCURRENCY, else one process' },
      { name: 'timeout-worker-healthcheck', value: '<seconds>', help: 'Kill and replace a worker whose event loop stalls this long (0: never)', default: '30' },
      { name: 'reload', help: 'Restart when a file changes (development)', default: 'off' },
      { name: 'reload-dir', value: '<dir>', multiple: true, help: 'Watch this folder (repeatable)', default: "the module's folder" },
    ],
  ],
  [
    'Logging',
    [
      { name: 'access-log', negatable: true, help: 'One line per request on stdout', default: 'on' },
      { name: 'access-log-format', value: '<format>', help: 'Line format: combined, common or json', default: 'combined' },
      { name: 'access-log-redact', value: '<names>', multiple: true, help: 'Log these query parameters (token,code) as [Redacted] (repeatable)', default: 'none' },
      { name: 'log-level', value: '<level>', help: 'critical, error, warning, info, debug or trace', default: 'info' },
      { name: 'help', short: 'h', help: 'Show this help', default: '' },
    ],
  ],
];

/** Every flag, in order. */
export const FLAGS: readonly Flag[] = FLAG_GROUPS.flatMap(([, flags]) => flags);

/** The `parseArgs` options of {@link FLAGS}. */
export function parseArgsOptions(): Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const flag of FLAGS) {
    options[flag.name] = { type: flag.value === undefined ? 'boolean' : 'string' };
    if (flag.short !== undefined) options[flag.name]!.short = flag.short;
    if (flag.multiple) options[flag.name]!.multiple = true;
  }
  return options;
}

/** Width of the help text; a default that does not fit goes on the next line. */
const HELP_WIDTH = 100;

/** The option list of `tsgi serve --help`: each flag with its default, by group. */
export function flagHelp(): string {
  const label = (flag: Flag) =>
    `${flag.short ? `-${flag.short}, ` : ''}--${flag.negatable ? `[no-]${flag.name}` : flag.name}${flag.value ? ` ${flag.value}` : ''}`;
  const width = Math.max(...FLAGS.map((flag) => label(flag).length)) + 4;
  const line = (flag: Flag) => {
    const text = `  ${label(flag).padEnd(width - 2)}${flag.help}`;
    if (flag.default === '') return `${text}\n`;
    const fallback = `(default: ${flag.default})`;
    return text.length + fallback.length + 1 <= HELP_WIDTH ? `${text} ${fallback}\n` : `${text}\n${' '.repeat(width)}${fallback}\n`;
  };
  return FLAG_GROUPS.map(([title, flags]) => `${title}:\n${flags.map(line).join('')}`).join('\n');
}
