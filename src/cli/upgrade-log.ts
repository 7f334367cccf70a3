/**
 * The access log lines of upgrades (WebSockets, `--upgrade`): `tsgi serve` writes one per
 * upgrade the handler took once its connection has closed (`serve()`'s `onUpgradeClosed`), in
 * the app's format, as nginx logs a WebSocket when it ends: status `101`, the bytes sent after
 * the `101`'s head, the time the connection lasted, and the client's address as
 * `--proxy-headers` gave it to the handler. The refusals tsgi answers (an `HTTPException` the
 * handler throws, the request rules' `400`, `503` during shutdown) are the refused requests'
 * lines, written at once (src/cli/refused-log.ts), with the client's address too once the
 * handler had it (src/cli/upgrade-clients.ts). `accessLog` cannot write them: it wraps
 * the app, which no upgrade reaches.
 *
 * @module
 */
import type { LogStream } from '../gateway/types.ts';
import type { ClosedUpgrade, UpgradeCloseListener } from '../adapters/node/upgrade-closed.ts';
import { requestTarget } from '../gateway/log.ts';
import { CLIENT_CLOSED } from '../gateway/status.ts';
import { type AccessLogEntry, formatAccessEntry, redactedOrNull, remoteUserOf, stringOrNull } from '../middleware/access-log.ts';
import { queryRedactor } from '../gateway/redact-query.ts';
import type { CliAccessLogFormat } from './values.ts';

/**
 * Writes a line in `format` (default `combined`) to `out` for each upgrade that closed, the
 * values of the query parameters `redact` names written `[Redacted]` (default none).
 */
export function upgradeLogger(out: LogStream, format: CliAccessLogFormat = 'combined', redact: readonly string[] = []): UpgradeCloseListener {
  const redactor = queryRedactor(redact);
  return (closed) => {
    out.write(`${formatAccessEntry(entryOf(closed, redactor), format)}\n`);
  };
}

/**
 * The {@link AccessLogEntry} of an upgrade whose connection closed: outcome `close` when
 * nothing was answered (`499`), else `end`.
 */
function entryOf(closed: ClosedUpgrade, redact: ((url: string) => string) | undefined): AccessLogEntry {
  const { environ } = closed;
  const url = redact === undefined ? requestTarget(environ) : redact(requestTarget(environ));
  return {
    environ,
    remoteAddr: stringOrNull(environ.REMOTE_ADDR),
    remoteUser: remoteUserOf(environ),
    time: closed.time,
    method: String(environ.REQUEST_METHOD),
    url,
    protocol: String(environ.SERVER_PROTOCOL),
    requestLine: `${environ.REQUEST_METHOD} ${url} ${environ.SERVER_PROTOCOL}`,
    status: closed.status,
    bytes: closed.bytes,
    bodyBytesRead: 0,
    referer: redact === undefined ? stringOrNull(environ.HTTP_REFERER) : redactedOrNull(environ.HTTP_REFERER, redact),
    userAgent: stringOrNull(environ.HTTP_USER_AGENT),
    duration: closed.duration,
    upstreamHeaderTime: null,
    upstreamResponseTime: null,
    outcome: closed.status === CLIENT_CLOSED ? 'close' : 'end',
  };
}
