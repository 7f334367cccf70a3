/**
 * Heads passed on from another server as they came (`proxy`'s answer of its upstream's
 * status and fields), told apart by `lint`: a field the server generating a status MUST send
 * (a 405's `Allow`, RFC 9110 §15.5.6) is the origin's to send, not the relaying app's.
 *
 * @module
 */

/** The headers arrays given to `startResponse` by a relaying app. */
const RELAYED = new WeakSet<object>();

/** Marks `headers`, about to be given to `startResponse`, as an upstream's, relayed (see {@link isRelayed}). */
export function markRelayed(headers: Array<[string, string]>): void {
  RELAYED.add(headers);
}

/**
 * True when `headers` is the array a relaying app marked ({@link markRelayed}), or the edited
 * copy a tsgi layer in between passed on in its place ({@link keepRelayed}: `compress`, the
 * response filters, `cors`, `rewriteLocation`, `basicAuth`, `CookieSessions`, `AuthTickets`, `etag`…); a copy made elsewhere is the head of the app
 * that made it.
 */
export function isRelayed(headers: unknown): boolean {
  return typeof headers === 'object' && headers !== null && RELAYED.has(headers);
}

/**
 * Answers `edited`, the copy of `given` a layer passes on in its place, marked relayed when
 * `given` was: the fields a layer adds or rewrites (a `Vary`, a weakened `ETag`, a CORS grant,
 * a mapped `Location`) leave the status, and the fields it MUST carry, the origin's.
 */
export function keepRelayed(given: unknown, edited: Array<[string, string]>): Array<[string, string]> {
  if (edited !== given && isRelayed(given)) RELAYED.add(edited);
  return edited;
}
