/**
 * The check, when an adapter is made, of the environ options whose value goes into every
 * request's environ as given (`serverName`, `serverPort`, `log`, `maxHeaders`): a wrong one
 * would otherwise break each request (a `SERVER_PORT` of `'abc'`, a `maxHeaders` of `-1` that
 * answers 431 to every request) or be dropped unsaid (a `log` without `write`).
 *
 * @module
 */
import type { LogStream } from '../gateway/types.ts';
import type { EnvironOptions } from './environ-rules.ts';
import { shownValue } from '../gateway/shown.ts';

/** The highest TCP port number. */
const MAX_PORT = 65535;

/**
 * Checks `options.serverName` (a non-empty string: `SERVER_NAME`), `options.serverPort` (an
 * integer from 1 to 65535, or the decimal string of one: `SERVER_PORT`, docs/spec.md §2),
 * `options.log` (an object with a `write` method, a `LogStream`) and `options.maxHeaders` (a
 * positive integer), each when given. Runs once, at construction: no request pays for it.
 *
 * @param where - the adapter, for the message (`'toFetchHandler'`).
 * @throws TypeError naming the option and the value (`toNodeHandler: serverPort must be …, got "abc" (a string)`).
 */
export function checkEnvironOptions(where: string, options: EnvironOptions): void {
  const { serverName, serverPort, log, maxHeaders } = options;
  if (serverName !== undefined && (typeof serverName !== 'string' || serverName === '')) {
    throw new TypeError(`${where}: serverName must be a non-empty string (a host name or address), got ${shownValue(serverName)}`);
  }
  if (serverPort !== undefined && !isPort(serverPort)) {
    throw new TypeError(`${where}: serverPort must be a port number from 1 to ${MAX_PORT}, or its decimal string ('8000'), got ${shownValue(serverPort)}`);
  }
  if (log !== undefined && typeof (log as Partial<LogStream> | null)?.write !== 'function') {
    throw new TypeError(`${where}: log must be a stream with a write(line) method (process.stderr, { write: (line) => … }), got ${shownValue(log)}`);
  }
  if (maxHeaders !== undefined && (!Number.isSafeInteger(maxHeaders) || maxHeaders < 1)) {
    throw new TypeError(`${where}: maxHeaders must be a positive integer, got ${shownValue(maxHeaders)}`);
  }
}

/** Whether `value` is a port from 1 to 65535, as a number or as its decimal digits. */
function isPort(value: unknown): boolean {
  const port = typeof value === 'string' && /^[0-9]{1,5}$/.test(value) ? Number(value) : value;
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= MAX_PORT;
}
