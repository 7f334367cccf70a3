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
 * True when `headers` is the very array a relaying app marked ({@link markRelayed}); a layer
 * in between that gives `startResponse` a copy makes the head its own again.
 */
export function isRelayed(headers: unknown): boolean {
  return typeof headers === 'object' && headers !== null && RELAYED.has(headers);
}
