/**
 * The controller behind a request's `tsgi.signal` where the server makes that signal itself
 * (the Node adapter; `toFetchHandler` given a `shutdownSignal`): the server ends an answer
 * still being produced (an event stream at its graceful shutdown, a HEAD answered with the
 * GET's fields) by aborting it, made or not yet.
 *
 * @module
 */
import type { Environ } from './types.ts';

/**
 * On the environ, once `tsgi.signal` was made: its controller, for the server to abort
 * ({@link abortRequestSignal}); before that, the reason the server ended the answer with, which
 * the signal is made aborted with. A symbol key, as `lazyEnvironKey`'s slot: spread copies keep it.
 */
const CONTROLLER = Symbol('tsgi.signal_controller');

type Slots = Record<typeof CONTROLLER, AbortController | DOMException | undefined>;

/**
 * The controller of `environ`'s `tsgi.signal`, made now (call it once, as the signal is made):
 * aborted already when the server ended the answer before ({@link abortRequestSignal}).
 */
export function requestSignalController(environ: Environ): AbortController {
  const slots = environ as unknown as Slots;
  const ended = slots[CONTROLLER];
  const controller = new AbortController();
  slots[CONTROLLER] = controller;
  if (ended instanceof DOMException) controller.abort(ended);
  return controller;
}

/**
 * The server ends the answer of `environ` while its body is still being produced (an event
 * stream at the graceful shutdown: `serverShuttingDown()`; a HEAD answered with the GET's
 * fields: `bodyClosedEarly()`): `tsgi.signal` aborts with `reason`, before the body is closed,
 * so a source that waits on it stops at once. A signal not made yet is made aborted. Nothing
 * happens once it aborted (the client left first).
 */
export function abortRequestSignal(environ: Environ, reason: DOMException): void {
  const slots = environ as unknown as Slots;
  const controller = slots[CONTROLLER];
  if (controller === undefined) slots[CONTROLLER] = reason;
  else if (controller instanceof AbortController) controller.abort(reason);
}
