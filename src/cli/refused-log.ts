/**
 * The access log lines of the requests the server answered itself (`serve()`'s `onRefused`):
 * `tsgi serve` writes them next to the app's, in the same format, as nginx logs its own 400s.
 * A request the parser refused has no request line: it shows `"-"` in the Apache formats,
 * `null` method, url and protocol in `json`, where `duration_ms` is `null` too (not timed).
 * The values of the `--access-log-redact` parameters are written `[Redacted]`, as in the app's
 * lines (`redactQuery`).
 *
 * @module
 */
import type { Environ, LogStream } from '../gateway/types.ts';
import type { RefusedRequest } from '../adapters/node/refused.ts';
import { type AccessLogEntry, formatAccessEntry, jsonAccessLine, jsonAccessRecord, redactedOrNull } from '../middleware/access-log.ts';
import { queryRedactor } from '../gateway/redact-query.ts';
import type { CliAccessLogFormat } from './values.ts';
import { clientAddress } from './upgrade-clients.ts';

/** No app ran: the entries of refused requests carry an empty environ. */
const NO_ENVIRON = Object.freeze({}) as Environ;

/**
 * Writes a line in `format` (default `combined`) to `out` for each refused request, the values
 * of the query parameters `redact` names written `[Redacted]` (default none).
 */
export function refusedLogger(out: LogStream, format: CliAccessLogFormat = 'combined', redact: readonly string[] = []): (refused: RefusedRequest) => void {
  const redactor = queryRedactor(redact);
  return (refused) => out.write(`${lineOf(refused, format, redactor)}\n`);
}

/** The line of a refused request, without `\n`. */
function lineOf(refused: RefusedRequest, format: CliAccessLogFormat, redact: ((url: string) => string) | undefined): string {
  const entry = entryOf(refused, redact);
  if (format !== 'json') return formatAccessEntry(entry, format);
  const record = { ...jsonAccessRecord(entry), duration_ms: null };
  if (refused.method === undefined) Object.assign(record, { method: null, url: null, protocol: null });
  return jsonAccessLine(record);
}

/**
 * The {@link AccessLogEntry} of a refused request, with an empty environ, and the client's
 * address `--proxy-headers` gave an `--upgrade` handler whose refusal this is (else the peer's): no `requestId` ran,
 * so the `json` line has no `request_id` (the request's own `X-Request-Id` is the client's
 * choice; behind a proxy, the proxy's log has its id next to this status).
 */
function entryOf(refused: RefusedRequest, redact: ((url: string) => string) | undefined): AccessLogEntry {
  const { method, protocol, headers } = refused;
  const target = redact === undefined || refused.target === undefined ? refused.target : redact(refused.target);
  const field = (name: string) => {
    const value = headers?.[name];
    return typeof value === 'string' && value !== '' ? value : null;
  };
  return {
    environ: NO_ENVIRON,
    remoteAddr: clientAddress(refused) ?? null,
    remoteUser: null,
    time: refused.time,
    method: method ?? '-',
    url: target ?? '-',
    protocol: protocol ?? '-',
    requestLine: method === undefined ? '-' : `${method} ${target} ${protocol}`,
    status: refused.status,
    bytes: refused.bytes,
    bodyBytesRead: 0,
    referer: redact === undefined ? field('referer') : redactedOrNull(field('referer'), redact),
    userAgent: field('user-agent'),
    duration: 0,
    upstreamHeaderTime: null,
    upstreamResponseTime: null,
    outcome: 'end',
  };
}
