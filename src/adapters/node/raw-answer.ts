/**
 * The bytes of the short plain-text HTTP/1.1 answers the Node server writes on a raw socket,
 * where no `ServerResponse` exists: a request its parser refused (`clientError`), a CONNECT,
 * an `Upgrade` refused or failed. One writer, so they all carry the same framing.
 *
 * @module
 */
import { formatHttpDate } from '../../http/dates.ts';

/** Fields of an exception's headers the raw answer writes itself. */
const OWN_FIELDS = new Set(['connection', 'content-length', 'content-type', 'transfer-encoding']);

/**
 * The whole HTTP/1.1 answer `code reason` with `body` (UTF-8) as `text/plain; charset=utf-8`,
 * its `Content-Length`, `Connection: close` (the caller closes the connection once it is
 * written) and the `Date` (RFC 9110 §6.6.1: an origin server with a clock MUST send it in its
 * 2xx–4xx answers; Node's `ServerResponse` adds it to the others, and nginx to all). `fields`
 * (an `HTTPException`'s headers, checked when it was made) are written first, but for the
 * framing fields above; a `Date` among them is kept instead of the clock's; an `Upgrade`
 * among them (a 426's) is then listed in `Connection` too (RFC 9110 §7.8).
 */
export function rawAnswer(code: number, reason: string, body: string, fields: Iterable<[string, string]> = []): string {
  let head = `HTTP/1.1 ${code} ${reason}\r\n`;
  let upgrade = false;
  let dated = false;
  for (const [name, value] of fields) {
    const lower = name.toLowerCase();
    if (OWN_FIELDS.has(lower)) continue;
    upgrade ||= lower === 'upgrade';
    dated ||= lower === 'date';
    head += `${name}: ${value}\r\n`;
  }
  if (!dated) head += `Date: ${formatHttpDate(Date.now())}\r\n`;
  return `${head}Connection: ${upgrade ? 'close, upgrade' : 'close'}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
