/**
 * The access log lines of the requests the server answered itself (`serve()`'s `onRefused`):
 * `tsgi serve` writes them next to the app's, in the same combined format, as nginx logs its
 * own 400s. A request the parser refused has no request line: it shows `"-"`.
 *
 * @module
 */
import type { Environ, LogStream } from '../gateway/types.ts';
import type { RefusedRequest } from '../adapters/node/refused.ts';
import { type AccessLogEntry, formatAccessEntry } from '../middleware/access-log.ts';

/** No app ran: the entries of refused requests carry an empty environ. */
const NO_ENVIRON = Object.freeze({}) as Environ;

/** Writes a combined-format line to `out` for each refused request. */
export function refusedLogger(out: LogStream): (refused: RefusedRequest) => void {
  return (refused) => out.write(`${formatAccessEntry(entryOf(refused), 'combined')}\n`);
}

/** The {@link AccessLogEntry} of a refused request. */
function entryOf(refused: RefusedRequest): AccessLogEntry {
  const { method, target, protocol, headers } = refused;
  const field = (name: string) => {
    const value = headers?.[name];
    return typeof value === 'string' && value !== '' ? value : null;
  };
  return {
    environ: NO_ENVIRON,
    remoteAddr: refused.remoteAddress ?? null,
    remoteUser: null,
    time: refused.time,
    method: method ?? '-',
    url: target ?? '-',
    protocol: protocol ?? '-',
    requestLine: method === undefined ? '-' : `${method} ${target} ${protocol}`,
    status: refused.status,
    bytes: refused.bytes,
    referer: field('referer'),
    userAgent: field('user-agent'),
    duration: 0,
    outcome: 'end',
  };
}
