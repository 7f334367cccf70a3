/**
 * `tsgi.early_hints` on Node: a `103 Early Hints` (RFC 8297) through Node's
 * `res.writeEarlyHints()`, over HTTP/1.1 and HTTP/2.
 *
 * @module
 */
import type { Environ } from '../../gateway/types.ts';
import { checkEarlyHints } from '../../gateway/early-hints.ts';
import { exchangeOf, isNodeResponse } from './exchange-key.ts';
import { hasBodyStarted } from './body-started.ts';
import { headBlockOverflow, http2FieldValue, http2Stream, responseGone } from './http2-compat.ts';

/**
 * The `tsgi.early_hints` of every Node environ (one function, no closure per request): finds
 * the response through `environ` and sends the fields as a 103 (spec §2.5). Nothing is sent,
 * and `false` answered, to an HTTP/1.0 client (RFC 8297 §3; Node's `writeEarlyHints` would
 * send it one), once the body has started (`pump` took its first chunk: the final head is
 * committed then, written or still waiting for the second step, so a call from the body after
 * its first `yield` answers `false` whatever the timing) or the head is out (Node 22 would
 * write the 103 into the body), when the client is gone, for fields without a `Link` (Node's
 * `writeEarlyHints` needs one), for HTTP/2 hints too large for one header block (Node would
 * close the connection), or for an environ that is not a Node request's.
 * `Expect: 100-continue` is unaffected: the `100` still goes out when the app reads the body
 * (a client waiting for it takes a 103 as the informational answer it is).
 *
 * @throws TypeError for fields that break the rules of `checkEarlyHints` (checked first, so
 *   the same fields throw on every request, an HTTP/1.0 one included).
 */
export function sendNodeEarlyHints(environ: Environ, fields: Array<[string, string]>): boolean {
  if (!checkEarlyHints(fields)) return false;
  const res = exchangeOf(environ);
  if (!isNodeResponse(res) || typeof res.writeEarlyHints !== 'function') return false;
  const req = res.req;
  if (req.httpVersion === '1.0') return false;
  if (hasBodyStarted(res) || res.headersSent || res.writableEnded || responseGone(res)) return false;
  // Node takes the links as `link` (an array, joined with `, `) and the other fields by name;
  // a name given twice is one field of joined values (RFC 9110 §5.3).
  const links: string[] = [];
  const hints: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of fields) {
    const lower = name.toLowerCase();
    if (lower === 'link') {
      links.push(value);
      continue;
    }
    const trimmed = http2FieldValue(value); // HTTP/2 may not carry outer spaces (RFC 9113 §8.2.1)
    const previous = hints[lower] as string | undefined;
    hints[lower] = previous === undefined ? trimmed : `${previous}, ${trimmed}`;
  }
  hints.link = links;
  // Too large for one HTTP/2 header block: Node would reset the stream and close the session.
  if (http2Stream(res) !== undefined && headBlockOverflow(res, hintFields(hints), false) !== undefined) return false;
  // HTTP/1's answers nothing (Node 22) or whether the socket took it at once (Node 24); HTTP/2's
  // answers false when it sent nothing.
  return (res as { writeEarlyHints(hints: object): unknown }).writeEarlyHints(hints) !== false;
}

/** `hints` as the fields Node sends (names and values alternating): the links joined with `, `. */
function hintFields(hints: Record<string, string | string[]>): string[] {
  const fields: string[] = [];
  for (const [name, value] of Object.entries(hints)) fields.push(name, Array.isArray(value) ? value.join(', ') : value);
  return fields;
}
