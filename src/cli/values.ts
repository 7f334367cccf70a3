/**
 * Reading the values of `tsgi serve`'s flags: ports, counts, seconds, byte sizes, addresses
 * and paths. Each parser answers the value or throws a {@link UsageError} whose one-line
 * message names the flag, the value and what was expected.
 *
 * @module
 */
import bytes from 'bytes';
import proxyAddr from 'proxy-addr';
import { hostMistake } from '../adapters/node/host-port.ts';
import { checkTrustedHosts } from '../http/trusted-hosts.ts';

/** A command line that cannot be run; the CLI prints its one-line message, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** `invalid <flag> '<value>': expected <what>`. */
function invalid(flag: string, value: string, expected: string): UsageError {
  return new UsageError(`invalid ${flag} '${value}': expected ${expected}`);
}

/** A decimal port 0–65535. */
export function parsePort(value: string, flag: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port <= 65535)) throw invalid(flag, value, 'a port number 0-65535');
  return port;
}

/**
 * An octal permission mode (`--uds-mode`): three digits 0–7, or four with a leading `0`
 * (`660`, `0660`, as chmod and systemd's `SocketMode=` write it). A `0o` prefix, a symbolic
 * mode (`rw-rw----`) or special bits (setuid, sticky) are refused: they mean nothing on a socket.
 */
export function parseMode(value: string, flag: string): number {
  if (!/^0?[0-7]{3}$/.test(value)) throw invalid(flag, value, 'an octal permission mode, as 660 or 0660');
  return Number.parseInt(value, 8);
}

/** A whole number from `min` up (workers, request counts), and at most `max` when given. */
export function parseCount(value: string, flag: string, min = 1, max?: number): number {
  const count = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(count >= min && (max === undefined || count <= max))) {
    throw invalid(flag, value, max === undefined ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`);
  }
  return count;
}

/**
 * The most worker processes `--workers` (and `$WEB_CONCURRENCY`) starts. Far more than a
 * machine has cores (a Node worker serves many requests at once, so one or two per core is
 * usual); more is taken for a typo (`--workers 40000` for `4`), which would fork thousands of
 * processes and take the machine down, and refused before any fork.
 */
export const MAX_WORKERS = 512;

/**
 * The longest delay of a Node timer, in milliseconds: 2³¹−1 (about 24.8 days). One longer fires
 * after 1 ms, which would turn a long timeout into none.
 */
export const MAX_TIMER = 2 ** 31 - 1;

/** The longest time a flag takes, in seconds: {@link MAX_TIMER}'s. */
export const MAX_SECONDS = Math.floor(MAX_TIMER / 1000);

/**
 * Seconds (`5`, `2.5`), answered in milliseconds; more than 0 unless `zero` is allowed, at most
 * {@link MAX_SECONDS}.
 */
export function parseSeconds(value: string, flag: string, zero = false): number {
  const seconds = /^\d{1,7}(\.\d{1,3})?$/.test(value) ? Number(value) : NaN;
  if (!((seconds > 0 || (zero && seconds === 0)) && seconds <= MAX_SECONDS)) {
    throw invalid(flag, value, `seconds, a number ${zero ? '>= 0' : '> 0'} and at most ${MAX_SECONDS} (24.8 days)`);
  }
  return Math.round(seconds * 1000);
}

/** Bytes: `1048576`, `512kb`, `100mb`, `1.5gb` (units of 1024, case-insensitive); 0 allowed. */
export function parseSize(value: string, flag: string): number {
  const size = /^\d{1,15}(\.\d+)?\s*([kmgt]?b)?$/i.test(value) ? bytes.parse(value) : null;
  if (size === null || !Number.isSafeInteger(Math.floor(size))) throw invalid(flag, value, 'a size in bytes such as 1048576, 512kb, 100mb or 2gb');
  return Math.floor(size);
}

/** One of `choices`, any case: `invalid <flag> '<value>': expected <choices>` for another. */
function parseChoice<T extends string>(value: string, flag: string, choices: readonly T[]): T {
  const choice = value.toLowerCase();
  if (!(choices as readonly string[]).includes(choice)) throw invalid(flag, value, choices.join(', '));
  return choice as T;
}

/**
 * What `--ssl-cert-reqs` asks of clients (uvicorn's and gunicorn's flag, Python's
 * `ssl.CERT_NONE`, `CERT_OPTIONAL`, `CERT_REQUIRED`): `none`, no certificate asked for;
 * `optional`, one asked for, and a client without one, or with one the CAs do not verify,
 * served (the app reads `SSL_CLIENT_VERIFY`); `required`, refused in the handshake without a
 * certificate that verifies.
 */
export const CERT_REQS = ['none', 'optional', 'required'] as const;
/** One of {@link CERT_REQS}. */
export type CertReqs = (typeof CERT_REQS)[number];

/**
 * A `--ssl-cert-reqs` value: a name of {@link CERT_REQS}, any case, or uvicorn's and gunicorn's
 * number for it (`0`, `1`, `2`).
 *
 * @throws UsageError `invalid --ssl-cert-reqs '<value>': expected none, optional, required (or 0, 1, 2)`.
 */
export function parseCertReqs(value: string, flag: string): CertReqs {
  const numbered = CERT_REQS[['0', '1', '2'].indexOf(value.trim())];
  if (numbered !== undefined) return numbered;
  if (!(CERT_REQS as readonly string[]).includes(value.toLowerCase())) throw invalid(flag, value, `${CERT_REQS.join(', ')} (or 0, 1, 2)`);
  return value.toLowerCase() as CertReqs;
}

/** Log levels, most severe first (uvicorn's names). */
export const LOG_LEVELS = ['critical', 'error', 'warning', 'info', 'debug', 'trace'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A log level name, any case. */
export function parseLogLevel(value: string, flag: string): LogLevel {
  return parseChoice(value, flag, LOG_LEVELS);
}

/**
 * The formats of `--access-log-format`, `accessLog`'s: Apache's `combined` (the default) and
 * `common`, and `json` for log pipelines. Not `dev` and `tiny`, which drop the client's
 * address and the time.
 */
export const ACCESS_LOG_FORMATS = ['combined', 'common', 'json'] as const;
/** One of {@link ACCESS_LOG_FORMATS}. */
export type CliAccessLogFormat = (typeof ACCESS_LOG_FORMATS)[number];

/** An access log format name, any case. */
export function parseAccessLogFormat(value: string, flag: string): CliAccessLogFormat {
  return parseChoice(value, flag, ACCESS_LOG_FORMATS);
}

/**
 * The proxies whose forwarding headers are trusted: `*` (any peer), or a comma-separated list
 * of addresses, CIDR ranges and `proxy-addr` names (`loopback`, `uniquelocal`…).
 */
export function parseAllowIps(value: string, flag: string): readonly string[] {
  const list = value.split(',').map((entry) => entry.trim());
  if (list.length === 1 && list[0] === '*') return ['*'];
  for (const entry of list) {
    try {
      if (entry === '' || entry === '*') throw new Error('empty');
      proxyAddr.compile(entry);
    } catch {
      throw invalid(flag, value, "'*' or addresses and CIDR ranges separated by commas");
    }
  }
  return list;
}

/**
 * The path prefix a proxy strips (`SCRIPT_NAME`): empty, or `/` and segments without `//`,
 * `.` or `..`, `?`, `#`, spaces or control characters; a trailing `/` is dropped.
 */
export function parseRootPath(value: string, flag: string): string {
  const path = value.replace(/\/+$/, '');
  const clean = path === '' || (/^(\/[^/?#\s\x00-\x1f\x7f]+)+$/.test(path) && !/\/\.\.?(\/|$)/.test(path));
  if (!clean) throw invalid(flag, value, 'a path such as /api');
  return path;
}

/**
 * A comma-separated list of host names (`--trusted-hosts`): `example.com`, `.example.com` (its
 * subdomains too), an IPv4 address or a bracketed IPv6 one, a name in Unicode, a trailing dot;
 * no port, no scheme: what `serve()`'s `trustedHosts` takes (`checkTrustedHosts`).
 * @throws UsageError for another entry, with what to write when it is known.
 */
export function parseHostList(value: string, flag: string): readonly string[] {
  const list = value.split(',').map((entry) => entry.trim());
  try {
    checkTrustedHosts(list);
  } catch (error) {
    const hint = /: (write .*|leave .*)$/.exec((error as Error).message)?.[1]?.replace('trustedHosts', flag);
    throw invalid(flag, value, `host names such as example.com or .example.com, separated by commas${hint === undefined ? '' : ` (${hint})`}`);
  }
  return list;
}

/**
 * The query parameter names of `--access-log-redact`: each value a comma-separated list
 * (`token,code`), the flag repeatable; spaces around a name are dropped, duplicates kept once.
 * @throws UsageError for an empty name (`token,,code`, `''`) or one holding a space, `&`, `=`
 *   or `#`, which no parameter name in a query as sent holds (write it percent-encoded, or not at all).
 */
export function parseNameList(values: readonly string[], flag: string): readonly string[] {
  const names = new Set<string>();
  for (const value of values) {
    for (const entry of value.split(',')) {
      const name = entry.trim();
      if (!/^[^\s&=#]+$/.test(name)) throw invalid(flag, value, 'query parameter names separated by commas, as token,code');
      names.add(name);
    }
  }
  return [...names];
}

/**
 * An address to bind (`--host`): not empty, without a port (`localhost:3000`, `[::1]:8000`),
 * without brackets (`[::1]`: Node takes an IPv6 address bare, `::1`) and not a URL
 * (`http://localhost:3000`), each of which Node would look up as a host name and fail to find
 * (`ENOTFOUND`, exit 1 as for a name that may resolve later); the flags to write are named
 * instead, as gunicorn's `--bind [::1]:8000` or a URL would be meant.
 * @throws UsageError for an empty value, or one holding a port, brackets, a scheme or white space.
 */
export function parseHost(value: string, flag: string): string {
  const mistake = hostMistake(parseNonEmpty(value, flag));
  if (mistake === null) return value;
  if (mistake.kind === 'space') throw invalid(flag, value, `an address without white space${mistake.name === undefined ? '' : `: ${flag} ${mistake.name}`}`);
  if (mistake.kind === 'port') throw invalid(flag, value, `an address without its port: ${flag} ${mistake.name} --port ${mistake.port}`);
  if (mistake.kind === 'brackets') throw invalid(flag, value, `an address without brackets: ${flag} ${mistake.name}`);
  const flags = mistake.name === undefined ? '' : `: ${flag} ${mistake.name}${mistake.port === undefined ? '' : ` --port ${mistake.port}`}`;
  throw invalid(flag, value, `an address, not a URL${flags}`);
}

/** A non-empty value (`--uds`, file names; `--host` through {@link parseHost}). */
export function parseNonEmpty(value: string, flag: string): string {
  if (value === '') throw new UsageError(`${flag} must not be empty`);
  return value;
}
