/**
 * The status a server answered in place of the app's response ({@link serverStatusKey}), for
 * the access log.
 *
 * @module
 */
import { defineEnvironKey } from './environ-key.ts';

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
