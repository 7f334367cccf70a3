/**
 * The status a server answered in place of the app's response ({@link serverStatusKey}), and
 * when it is known ({@link headSettledKey}), for the access log.
 *
 * @module
 */
import { defineEnvironKey } from './environ-key.ts';
import type { Environ } from './types.ts';

/**
 * `tsgi.server_status`: the status code the server answered *instead of* the app's response,
 * set by the Node adapter (and `toFetchHandler`, and the test client, as they answer the same
 * failures) when it replaces it before the head went out (docs/spec.md §7.4): 500
 * for an app error or a malformed answer (a chunk that is no `Uint8Array`, an invalid status or
 * field), 413 for the `maxBodySize` limit, an escaped `HTTPException`'s own code. Absent while
 * the app's answer is the one sent, and after a cut (the app's status went out). Written only on
 * that failure path, so an answer that goes well costs nothing; read by `accessLog`, whose line
 * is written after the server has answered (the server closes the body once it did).
 */
export const serverStatusKey = defineEnvironKey<number>('tsgi.server_status');

/**
 * `tsgi.head_settled` (internal): `null` while a server takes the first steps of the app's
 * body before it sends the head (a server frames a body that ends by its second step with its
 * `Content-Length`, and may refuse the answer only then: a field value or a `Content-Length`
 * it cannot send), so a layer that sees the body end knows the head is still to come. Such a
 * layer (`accessLog`, whose line must show the status the client got) puts what to run once
 * the head is settled in its place ({@link afterHeadSettled}); the server runs it
 * ({@link settleHead}) once the head is out or its own answer replaced it
 * ({@link serverStatusKey} set first). Set ({@link awaitHead}) by the Node and fetch adapters
 * and the test client for the bodies they iterate; absent otherwise (another server, a body
 * read in-process), and then such a layer goes on at once.
 */
export const headSettledKey = defineEnvironKey<(() => void) | null | undefined>('tsgi.head_settled');

/**
 * Called by a server before it takes the first step of a body whose head it sends only after
 * (see {@link headSettledKey}); a call still pending there (the body of an answer the server
 * is replacing with its own) is kept, to run when this head is settled.
 */
export function awaitHead(environ: Environ): void {
  if (environ['tsgi.head_settled'] === undefined) environ['tsgi.head_settled'] = null;
}

/**
 * Called by a server that set {@link headSettledKey} (`awaitHead`), once the head of `environ`'s
 * answer is out or its own answer replaced it: runs what a layer left there, once, and
 * clears the key.
 */
export function settleHead(environ: Environ): void {
  const settled = environ['tsgi.head_settled'] as (() => void) | null | undefined;
  if (settled === undefined) return;
  environ['tsgi.head_settled'] = undefined;
  settled?.();
}

/**
 * Runs `then` once the server has settled the head of `environ`'s answer (see
 * {@link headSettledKey}), after what earlier layers left there; at once when no server is
 * settling it.
 */
export function afterHeadSettled(environ: Environ, then: () => void): void {
  const earlier = headSettledKey.get(environ);
  if (earlier === undefined) then();
  else if (earlier === null) headSettledKey.set(environ, then);
  else {
    headSettledKey.set(environ, () => {
      earlier();
      then();
    });
  }
}
