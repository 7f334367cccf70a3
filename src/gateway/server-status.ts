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
 * `tsgi.server_bytes`: the body bytes of the answer the server sent in place of the app's
 * ({@link serverStatusKey}), when it has that body in memory: its plain `500` or `413`
 * (`Internal Server Error\n`: 22), an escaped `HTTPException`'s page; 0 for a HEAD request.
 * Set with the status, before the head of that answer is settled, on the same failure path
 * only; read by `accessLog`, whose `bytes` is then what the client got, as nginx's
 * `$body_bytes_sent` counts its error pages. Absent (`accessLog` says 0) for a server answer
 * streamed, or written on the raw socket (the Node adapter's 400 mid-body).
 */
export const serverBytesKey = defineEnvironKey<number>('tsgi.server_bytes');

/** Sets {@link serverBytesKey}: `length`, the body of the server's own answer, or 0 when that answers a HEAD request. */
export function setServerBytes(environ: Environ, length: number): void {
  serverBytesKey.set(environ, environ.REQUEST_METHOD === 'HEAD' ? 0 : length);
}

/**
 * What a server leaves under `tsgi.head_settled` while the head of its answer is to come: the
 * work layers left to run once it is settled. One object shared by reference, so that a copy
 * of the environ (`{ ...environ }`, a layer that puts the environ back as it was) waits for
 * the same head.
 */
export interface HeadWait {
  /**
   * The work to run once the head is settled: `undefined` while none was left, `null` once it
   * is settled. A server may lend an object it has anyway (the Node adapter's exchange), so
   * waiting costs a request nothing until a layer leaves work.
   */
  pending: Array<() => void> | null | undefined;
  /**
   * The watches of layers told when the client goes away before the app answered
   * (`watchClientGone` in client-gone.ts), on a server that tells of it (the Node adapter,
   * `toFetchHandler`):
   * `false` while none is set, the one watch, or an array of several; `null` once the client
   * is gone (`tellClientGone`). `undefined` (or absent) on a server that does not tell; a
   * layer then watches for a shutdown's cut.
   */
  gone?: (() => void) | Array<() => void> | false | null | undefined;
  /**
   * Called when the first watch is set in {@link gone}: the server starts noticing the client
   * leave, if it does not anyway (so that a request no layer watches costs it nothing).
   */
  watchingGone?: (() => void) | undefined;
  /**
   * Runs `tell` (the calling of the watches in {@link gone}, see `tellClientGone`) in the async
   * context the first watch was set in, the request's (an `AsyncLocalStorage` store set around
   * the server's `request` event: OpenTelemetry's span), not that of the connection's or the
   * stream's `close` the server noticed the client leave in. Absent: `tell` runs as it is.
   */
  tellingGone?: ((tell: () => void) => void) | undefined;
  /**
   * Runs `then` once the response is over, told whether it was complete (its last byte handed
   * to the connection: Node's `finish`, where nginx's `$request_time` and Express's
   * `res.on('finish')` stop) or cut before (the client left, the connection was cut); in the
   * async context `onSent` was called in (an `AsyncLocalStorage` store is still there); at
   * once when it is over already. Lent by a server that sends the body itself (the Node
   * adapter's exchange); absent elsewhere (the fetch adapters, whose runtime sends the body;
   * the test client): see {@link afterResponseSent}.
   */
  onSent?: ((then: (complete: boolean) => void) => void) | undefined;
  /**
   * Wraps the work a layer leaves in {@link pending} so that it runs in the async context it was
   * left in (an `AsyncLocalStorage` store of a middleware, through `bindBody`): lent by a server
   * that settles the head from its own context and keeps no request context of its own
   * (`toFetchHandler`). Absent: the work runs as it is, in the server's context.
   */
  keeping?: ((then: () => void) => () => void) | undefined;
}

/**
 * `tsgi.head_settled` (internal): a {@link HeadWait} from the moment a server calls the app
 * until the head of its answer is out or the server's own answer replaced it. A server frames
 * a body that ends by its second step with its `Content-Length`, and may refuse the answer
 * only then (a field value or a `Content-Length` it cannot send), and a layer above may take
 * a body's first step while the app is called (`timeout`, `compress`, `errors`), so a layer
 * that sees a body end before the head is settled cannot know the status the client gets.
 * Such a layer (`accessLog`) leaves what to run once the head is settled
 * ({@link afterHeadSettled}); the server runs it ({@link settleHead}) once the head is out or
 * its own answer replaced it ({@link serverStatusKey} set first). Set ({@link awaitHead}) by
 * the Node and fetch adapters and the test client; absent otherwise (another server, a body
 * read in-process with `Request.blank`), and then such a layer goes on at once.
 */
export const headSettledKey = defineEnvironKey<HeadWait | undefined>('tsgi.head_settled');

/**
 * Called by a server before it calls the app (see {@link headSettledKey}), with an object of
 * its own to wait on (its `pending` is reset) or a new one; a wait still open there (the app's
 * answer is being replaced with the server's own) is kept, to be settled with this head.
 */
export function awaitHead(environ: Environ, wait?: HeadWait): void {
  const open = environ['tsgi.head_settled'] as HeadWait | undefined;
  if (open !== undefined && open.pending !== null) return;
  if (wait === undefined) wait = { pending: undefined };
  else wait.pending = undefined;
  environ['tsgi.head_settled'] = wait;
}

/**
 * Called by a server that set {@link headSettledKey} (`awaitHead`), once the head of
 * `environ`'s answer is out or its own answer replaced it: runs what layers left there, once,
 * in order, and clears the key. Harmless when called again, or without `awaitHead`.
 */
export function settleHead(environ: Environ): void {
  const wait = environ['tsgi.head_settled'] as HeadWait | undefined;
  if (wait === undefined) return;
  environ['tsgi.head_settled'] = undefined;
  const pending = wait.pending;
  wait.pending = null;
  if (pending) for (const then of pending) then();
}

/**
 * Runs `then` once the server has settled the head of `environ`'s answer (see
 * {@link headSettledKey}), after what earlier layers left there; at once when no server is
 * settling it.
 */
export function afterHeadSettled(environ: Environ, then: () => void): void {
  const wait = headSettledKey.get(environ);
  if (wait === undefined || wait.pending === null) then();
  else (wait.pending ??= []).push(wait.keeping === undefined ? then : wait.keeping(then));
}

/**
 * Runs `then` once the server behind `wait` (the {@link HeadWait} of `headSettledKey`, taken
 * while the app is called: the server clears the key once the head is settled) has sent the
 * response, told whether it was complete; at once, as complete, when it does not tell (no
 * `onSent`, or no wait: another server, `Request.blank`). For `accessLog`'s duration and
 * outcome: an in-memory body is taken whole before any of it is written.
 */
export function afterResponseSent(wait: HeadWait | undefined, then: (complete: boolean) => void): void {
  if (wait?.onSent === undefined) then(true);
  else wait.onSent(then);
}
