/**
 * `103 Early Hints` (RFC 8297): the rules every server applies to the fields of
 * `tsgi.early_hints` (docs/spec.md §2.5), and the call apps make through it.
 *
 * @module
 */
import type { Environ } from './types.ts';
import { CONNECTION_FIELDS, HOP_BY_HOP, assertHeader, isFieldChar } from './fields.ts';

/**
 * One link-value (RFC 8288 §3) in the shape Node's `writeEarlyHints` accepts: `<URI-reference>`
 * then `; name` or `; name=value` parameters, a value a token-like run or a quoted string,
 * neither holding spaces or `;`, and no `,`, `<` or `>` outside the quotes (they would start
 * another link: `</a.css>; rel=preload,</b.js>`). Several links are several `Link` fields,
 * never one value with commas (Node refuses that).
 */
const LINK_VALUE = /^<[^<>]*>(?:[ \t]*;[ \t]*[^;"\s=,<>]+(?:=(?:"[^;"\s]*"|[^;"\s,<>]*))?)*$/;

/**
 * True when `value` is one link-value a `Link` field of early hints may hold (see
 * {@link checkEarlyHints}): what a proxy keeps of an upstream's hints.
 */
export function isHintLink(value: string): boolean {
  if (!LINK_VALUE.test(value)) return false;
  for (let i = 0; i < value.length; i++) if (!isFieldChar(value.charCodeAt(i))) return false;
  return true;
}

/**
 * Checks the fields of a 103 by the rules of spec §2.5: an array of `[name, value]` pairs,
 * names tokens and values field-value characters (as `assertHeader`, so no CR, LF or NUL can
 * start a line of its own), no hop-by-hop field (a 1xx describes no connection), no
 * `Content-Length` (never in a 1xx, RFC 9110 §8.6), each `Link`
 * one link-value ({@link LINK_VALUE}).
 *
 * @returns whether the fields hold a `Link` field: a 103 without one is not sent.
 * @throws TypeError naming the first field that breaks a rule.
 */
export function checkEarlyHints(fields: unknown): boolean {
  if (!Array.isArray(fields)) throw new TypeError('early hints are an array of [name, value] pairs');
  let link = false;
  for (const pair of fields as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('early hints are an array of [name, value] pairs');
    const [name, value] = pair as [string, string];
    assertHeader(name, value);
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || CONNECTION_FIELDS.has(lower)) throw new TypeError(`${name} describes a connection: early hints cannot carry it`);
    if (lower === 'content-length') throw new TypeError('Content-Length is never sent in a 1xx (RFC 9110 §8.6): early hints cannot carry it');
    if (lower === 'link') {
      if (!LINK_VALUE.test(value)) {
        throw new TypeError(`a Link field of early hints holds one link, as "</style.css>; rel=preload; as=style": ${JSON.stringify(value)}`);
      }
      link = true;
    }
  }
  return link;
}

/**
 * `req.sendEarlyHints(links)`: one `Link` field per link, checked, then handed to the
 * environ's `tsgi.early_hints` when the server offers one.
 *
 * @returns whether a 103 was sent (false without the extension).
 * @throws TypeError for an empty list, or a link that breaks {@link checkEarlyHints}.
 */
export function sendLinkHints(environ: Environ, links: string | readonly string[]): boolean {
  const list = typeof links === 'string' ? [links] : Array.isArray(links) ? links : null;
  if (list === null || list.length === 0) throw new TypeError('sendEarlyHints takes a link, or a non-empty array of links');
  const fields = list.map((link): [string, string] => ['Link', link]);
  checkEarlyHints(fields);
  const send = environ['tsgi.early_hints'];
  return typeof send === 'function' ? send(environ, fields) : false;
}
