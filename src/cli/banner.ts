/**
 * What `tsgi serve` prints once it listens: one plain line for logs and scripts, or a short
 * coloured banner on a terminal. Both say the address, the protocols, whether client
 * certificates are asked for (`--ssl-cert-reqs`), the processes, the Node version and whether
 * reload is on, and both contain `Serving on <url>`.
 *
 * @module
 */
import { styleText } from 'node:util';
import type { ServeCommand } from './command.ts';
import type { CliLog } from './log.ts';

/** What the start line tells. */
export interface StartInfo {
  /** The bound URL (`http://127.0.0.1:8000`, `unix:/run/app.sock`). */
  readonly url: string;
  readonly command: Pick<ServeCommand, 'workers' | 'reload' | 'http2' | 'ssl' | 'fd'>;
  /** The package version, for the banner. */
  readonly version: string;
  /**
   * What `--reload` watches, for a line of the banner (`Watching /srv/site for changes to .ts,
   * … files`); the plain start line leaves it to a line of its own, printed before it.
   */
  readonly watching?: string | undefined;
}

/**
 * `HTTP/1.1`, `HTTP/2 and HTTP/1.1`, `h2c and HTTP/1.1` (cleartext HTTP/2); with ` over TLS`
 * when TLS is on and the URL cannot say it (`unix:/run/app.sock`, which has no scheme).
 */
function protocols(info: StartInfo): string {
  const { command } = info;
  if (command.http2 === 'h2c') return 'h2c and HTTP/1.1';
  const names = command.http2 ? 'HTTP/2 and HTTP/1.1' : 'HTTP/1.1';
  return command.ssl !== undefined && !info.url.startsWith('https:') ? `${names} over TLS` : names;
}

/**
 * Where it serves: the URL, or for a Unix socket handed over by `--fd` (whose path Node cannot
 * ask for; the handle's URL is then `unix:`), `the Unix socket of --fd 3`.
 */
function where(info: StartInfo): string {
  return info.url === 'unix:' && info.command.fd !== undefined ? `the Unix socket of --fd ${info.command.fd}` : info.url;
}

/**
 * `client certificates required` or `… optional` when `--ssl-cert-reqs` asks TLS clients for
 * one (mutual TLS is on, and whether a client without one is refused); nothing otherwise.
 */
function clientCertificates(command: StartInfo['command']): string[] {
  const reqs = command.ssl?.certReqs ?? 'none';
  return reqs === 'none' ? [] : [`client certificates ${reqs}`];
}

function processes(workers: number | undefined): string {
  return workers === undefined ? '1 process' : countWorkers(workers);
}

/** `1 worker`, `2 workers`: a number of workers, for the start line and the primary's log. */
export function countWorkers(count: number): string {
  return count === 1 ? '1 worker' : `${count} workers`;
}

/**
 * The plain start line:
 * `Serving on http://127.0.0.1:8000 (HTTP/1.1, 2 workers, Node v24.1.0, reload off)`; with
 * `--ssl-cert-reqs`, `(HTTP/1.1, client certificates required, 2 workers, …)`.
 */
export function startLine(info: StartInfo): string {
  const { command } = info;
  const details = [protocols(info), ...clientCertificates(command), processes(command.workers), `Node ${process.version}`, `reload ${command.reload ? 'on' : 'off'}`];
  return `Serving on ${where(info)} (${details.join(', ')})`;
}

/** The banner for a terminal, in colour: name and version, the URL, the details, what reload watches, how to stop. */
export function banner(info: StartInfo): string {
  const { command } = info;
  const paint = (format: Parameters<typeof styleText>[0], text: string) => styleText(format, text, { validateStream: false });
  const dot = paint('dim', ' · ');
  const details = [
    protocols(info),
    ...clientCertificates(command),
    processes(command.workers),
    `Node ${process.version}`,
    `reload ${command.reload ? paint('green', 'on') : 'off'}`,
  ];
  return [
    '',
    `  ${paint(['bold', 'cyan'], 'tsgi')} ${paint('dim', info.version)}`,
    `  ${paint('green', '➜')} Serving on ${paint(['bold', 'underline'], where(info))}`,
    `    ${details.join(dot)}`,
    ...(info.watching === undefined ? [] : [`    ${info.watching}`]),
    `    ${paint('dim', 'Press Ctrl-C to stop')}`,
    '',
  ].join('\n');
}

/** Writes the start line to `log` (info), or the banner when that log goes to a colour terminal. */
export function announce(log: CliLog, info: StartInfo): void {
  if (!log.enabled('info')) return;
  if (log.colour) log.info(banner(info));
  else log.info(startLine(info));
}
