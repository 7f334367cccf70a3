/**
 * The CLI's own log: levels as uvicorn names them, information on standard output (on standard
 * error under `--access-log-format json`, so standard output holds JSON lines alone), warnings
 * and errors on standard error (`tsgi: …`), coloured on a terminal.
 *
 * | Level | What |
 * | --- | --- |
 * | critical | what stops the server (an unhandled promise rejection): written at every level |
 * | error | app errors (`tsgi.errors`), workers that die |
 * | warning | workers replaced, a reload that failed, an ignored signal |
 * | info | the start line, the access log, stopping and restarting |
 * | debug | each worker listening, each file change seen |
 *
 * @module
 */
import { styleText } from 'node:util';
import type { LogStream } from '../gateway/types.ts';
import type { CliIO } from './io.ts';
import type { ServeCommand } from './command.ts';
import { LOG_LEVELS, type LogLevel } from './values.ts';

/** The CLI's log at one level. */
export interface CliLog {
  /** True when messages of `level` are written. */
  enabled(level: LogLevel): boolean;
  /** Written at every level (`--log-level critical` too): what stops the server. */
  critical(message: string): void;
  error(message: string): void;
  warning(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  /** True when the stream information goes to is a terminal that takes colours. */
  readonly colour: boolean;
  /** Where app errors go (the server's `log`, each request's `tsgi.errors`): standard error, at level error. */
  readonly appErrors: LogStream;
  /** Standard output, for the access log. */
  readonly stdout: LogStream;
}

/** Whether `stream` is a terminal that should get colours (`NO_COLOR` says no). */
export function isColourTerminal(stream: object, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true && !env.NO_COLOR;
}

/**
 * A {@link CliLog} writing messages of `level` and more severe ones to `io`: information and
 * debug messages to standard output, or to standard error with `infoOnStderr` (what uvicorn
 * and gunicorn do, their access log alone on standard output).
 */
export function createLog(level: LogLevel, io: CliIO, infoOnStderr = false): CliLog {
  const rank = LOG_LEVELS.indexOf(level);
  const enabled = (at: LogLevel) => LOG_LEVELS.indexOf(at) <= rank;
  const infoOut = infoOnStderr ? io.stderr : io.stdout;
  const colour = isColourTerminal(infoOut);
  const errColour = isColourTerminal(io.stderr);
  const paint = (format: Parameters<typeof styleText>[0], text: string, on: boolean) =>
    on ? styleText(format, text, { validateStream: false }) : text;
  const quiet: LogStream = { write() {} };
  return {
    enabled,
    colour,
    critical(message) {
      io.stderr.write(`${paint('red', 'tsgi:', errColour)} ${message}\n`);
    },
    error(message) {
      if (enabled('error')) io.stderr.write(`${paint('red', 'tsgi:', errColour)} ${message}\n`);
    },
    warning(message) {
      if (enabled('warning')) io.stderr.write(`${paint('yellow', 'tsgi:', errColour)} ${message}\n`);
    },
    info(message) {
      if (enabled('info')) infoOut.write(`${message}\n`);
    },
    debug(message) {
      if (enabled('debug')) infoOut.write(`${paint('dim', `tsgi: ${message}`, colour)}\n`);
    },
    appErrors: enabled('error') ? io.stderr : quiet,
    stdout: io.stdout,
  };
}

/**
 * The log of `tsgi serve` (each of its processes): at `--log-level`, its information on
 * standard error under `--access-log-format json`, where standard output is for JSON lines.
 */
export function serveLog(command: Pick<ServeCommand, 'logLevel' | 'accessLogFormat'>, io: CliIO): CliLog {
  return createLog(command.logLevel, io, command.accessLogFormat === 'json');
}
