/**
 * An upstream's `103 Early Hints` (RFC 8297) passed on to the client through the server's
 * `tsgi.early_hints` (docs/spec.md §2.5).
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { sameFieldName } from '../gateway/fields.ts';
import { isHintLink } from '../gateway/early-hints.ts';
import { type HeaderEdits, applyEdits } from './header-edits.ts';
import type { UpstreamHead } from './upstream-exchange.ts';

/**
 * The link-values of one `Link` field value (RFC 8288 §3): split at the commas outside a
 * `<URI-reference>` and outside quoted strings, each trimmed.
 */
export function splitLinks(value: string): string[] {
  const links: string[] = [];
  let start = 0;
  let inUri = false;
  let inQuotes = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuotes) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inQuotes = false;
    } else if (inUri) {
      if (c === 62 /* > */) inUri = false;
    } else if (c === 60 /* < */) inUri = true;
    else if (c === 34) inQuotes = true;
    else if (c === 44 /* , */) {
      links.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  links.push(value.slice(start).trim());
  return links.filter((link) => link !== '');
}

/**
 * How many of an upstream's 103s one request passes on. A server sends a 1xx whatever the
 * client reads (no back-pressure), so an upstream sending them without end would fill memory;
 * browsers use the first only (Chromium), and servers send one or two.
 */
const MAX_FORWARDED_HINTS = 8;

/**
 * The forwarder of one request's upstream 103s (kept across retries), or `undefined` when the
 * server cannot send early hints. It passes the `Link` fields of the first
 * {@link MAX_FORWARDED_HINTS} 103s to the client: each link-value its own field, after the
 * proxy's `responseHeaders` edits (a removed `link` is not passed on either). Other fields of
 * the 103 are dropped, and so is a link the server could not send (one `isHintLink` refuses: a
 * quoted value with spaces, control characters), and every 103 past the limit: hints are an
 * optimisation, never a reason to fail the answer, so nothing here throws.
 */
export function earlyHintsForwarder(environ: Environ, edits: HeaderEdits | undefined): ((headers: UpstreamHead['headers']) => void) | undefined {
  const send = environ['tsgi.early_hints'];
  if (typeof send !== 'function') return undefined;
  let forwarded = 0;
  return (headers) => {
    const raw = headers.link;
    if (raw === undefined || forwarded >= MAX_FORWARDED_HINTS) return;
    try {
      const fields: Array<[string, string]> = [];
      for (const value of Array.isArray(raw) ? raw : [raw]) for (const link of splitLinks(value)) fields.push(['Link', link]);
      const links = applyEdits(fields, edits, environ, 'responseHeaders').filter(([name, value]) => sameFieldName(name, 'link') && isHintLink(value));
      if (links.length === 0) return;
      forwarded++;
      send(environ, links);
    } catch {
      // An edit that throws, a server that refuses: the final answer still comes.
    }
  };
}
