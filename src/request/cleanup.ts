/**
 * The end of a request: the streamed answers `getResponse` handed to handlers that nobody
 * sent are closed (see inner-responses.ts), and the temporary files of a parsed form
 * (`environ['tsgi.form']`) are removed, once the response body has been sent or closed.
 *
 * A server cannot be asked to do it (a gateway app only returns a body), so the first
 * `Request.application` or `Request.getResponse` to see an environ takes charge of it: when
 * its body iteration ends, fails or is closed early (`return()`), or its handler fails, the
 * request is finished. Apps called below it (through `getResponse` or middleware) leave that
 * to it, so uploads stay readable and inner responses open until the outermost response is
 * done.
 *
 * @module
 */
import { type Body, type Environ } from '../gateway/types.ts';
import { afterBody, wrapBody } from '../gateway/body-watch.ts';
import { closeErrorLogger } from '../gateway/call-app.ts';
import { isBodyReadable } from './input.ts';
import { BufferedInput } from '../gateway/input.ts';
import { closeCallsRunning, handOver } from '../gateway/close-calls.ts';
import { FORM_ENVIRON_KEY, type ParsedForm, abortPendingForm } from '../forms/parse.ts';
import { COPIES_KEY, OWNER_KEY, hasCopies, takeCopies } from '../gateway/cleanup-owner.ts';
import { INNER_KEY, carryInnerResponses, closeInnerResponses, hasInnerResponses } from './inner-responses.ts';

/**
 * Takes charge of the cleanup of `environ` when nobody has: answers true for the first caller,
 * false while an owner's response is under way.
 */
export function claimCleanup(environ: Environ): boolean {
  if (environ[OWNER_KEY]) return false;
  // The environ itself, not `true`: a copy of it then names the owner (gateway/cleanup-owner.ts).
  environ[OWNER_KEY] = environ;
  return true;
}

/** Gives the charge back without cleaning up (nothing was parsed). */
export function releaseCleanup(environ: Environ): void {
  // Not `delete`: deleting a key turns the environ into a slow dictionary-mode object.
  environ[OWNER_KEY] = false;
}

/**
 * A copy of `environ` with `changes` (`req.copy()`, `req.copyGet()`), holding none of the
 * original's request-end state: no form parse (the copy parses its own body), no kept inner
 * responses, no noted copies. It keeps the owner's mark (`tsgi.cleanup_owner`), so under a
 * `Request.application` the owner finishes what the copy leaves (a form it parses, a stream
 * `getResponse` keeps on it), as for any spread copy (gateway/cleanup-owner.ts); with no owner,
 * the first `getResponse` on the copy takes charge of it.
 */
export function copyEnviron(environ: Environ, changes: Partial<Environ>): Environ {
  const copy: Environ = { ...environ, ...changes };
  // Not `delete` (a slow dictionary-mode object), and no key added when the original has none.
  for (const key of [FORM_ENVIRON_KEY, INNER_KEY, COPIES_KEY]) if (copy[key] !== undefined) copy[key] = undefined;
  return copy;
}

/** True when a form parse has started on `environ`, so there may be files to remove. */
export function hasForm(environ: Environ): boolean {
  return environ[FORM_ENVIRON_KEY] instanceof Promise;
}

/**
 * True when the end of the request on `environ` has work to do: a form to clean up, inner
 * responses whose stream nobody took (see inner-responses.ts), or copies of the environ that
 * left some (see gateway/cleanup-owner.ts). On a request that parsed no form and streamed
 * nothing through `getResponse`, three property reads: the check every request pays.
 */
export function hasRequestEnd(environ: Environ): boolean {
  return hasForm(environ) || hasInnerResponses(environ) || hasCopies(environ);
}

/**
 * Removes the temporary files of the form parsed on `environ`, if any (a failed parse has
 * already removed its own). Idempotent; never rejects.
 */
export async function cleanupEnviron(environ: Environ): Promise<void> {
  const form = environ[FORM_ENVIRON_KEY];
  if (!(form instanceof Promise)) return;
  try {
    await (await (form as Promise<ParsedForm>)).cleanup();
  } catch {
    // a failed parse cleaned up after itself; a failed removal is not the client's problem
  }
}

/**
 * Ends the request on `environ` and releases the charge: closes the inner responses nobody
 * sent (first, as their streams may still read the uploads), then cleans the form up. A form
 * parse still reading the body (started by a handler that answered without waiting for it) is
 * not waited for, which would hold the answer back until the client had sent its whole
 * upload: it is stopped, and removes its files as it fails; the answer goes out at once.
 * While work given to `res.callOnClose` runs, the files stay: they are removed once it is done
 * (and the server's `tsgi.wait_until` is handed that removal). The copies of the environ that
 * layers below passed on (see gateway/cleanup-owner.ts) are finished with it: their inner
 * responses closed, their forms stopped and removed.
 */
export async function finishRequest(environ: Environ): Promise<void> {
  const copies = takeCopies(environ);
  await closeInnerResponses(environ);
  for (const copy of copies) await closeInnerResponses(copy);
  let aborted = abortPendingForm(environ[FORM_ENVIRON_KEY]);
  for (const copy of copies) aborted = abortPendingForm(copy[FORM_ENVIRON_KEY]) || aborted;
  const cleanup = () => cleanupAll(environ, copies);
  // Work run after the answer (`res.callOnClose`) may still read the uploads: they stay until it
  // is done, and the server's shutdown waits for their removal too.
  const working = closeCallsRunning(environ);
  if (working !== undefined) {
    handOver(environ, working.then(cleanup).then(() => releaseCleanup(environ)));
    return;
  }
  if (aborted) {
    void cleanup().then(() => releaseCleanup(environ));
    return;
  }
  await cleanup();
  releaseCleanup(environ);
}

/**
 * Removes the uploads of `environ`'s form and of each copy's own (see {@link cleanupEnviron}):
 * a copy made after the parse began holds `environ`'s form, removed once.
 */
async function cleanupAll(environ: Environ, copies: Environ[]): Promise<void> {
  for (const copy of copies) if (copy[FORM_ENVIRON_KEY] !== environ[FORM_ENVIRON_KEY]) await cleanupEnviron(copy);
  const form = environ[FORM_ENVIRON_KEY];
  await cleanupEnviron(environ);
  // A body kept in memory (`await req.bytes()` before the parse) replays: the parsed form, whose
  // files are gone now, is forgotten, so an app run again on this environ (a raw layer retrying
  // it) parses the body anew rather than read removed files. A body read once keeps its form:
  // there is nothing to parse again, and its files in memory stay readable.
  if (form instanceof Promise && environ[FORM_ENVIRON_KEY] === form && environ['tsgi.input'] instanceof BufferedInput) {
    environ[FORM_ENVIRON_KEY] = undefined;
  }
}

/**
 * What a layer that puts the environ back to `saved` between tries (`cascade`) does first, so
 * the owner above still ends the request whole: a form the skipped app parsed (a
 * `tsgi.form` that `saved` lacks, which the owner would never see once the key is gone) is
 * finished now, its files removed (a parse still reading is stopped); the streamed responses it
 * was handed are carried into `saved`, to be closed at the request's end. Never rejects.
 */
export async function finishSkipped(environ: Environ, saved: Environ): Promise<void> {
  carryInnerResponses(environ, saved);
  const form = environ[FORM_ENVIRON_KEY];
  if (form === saved[FORM_ENVIRON_KEY]) return;
  abortPendingForm(form);
  await cleanupEnviron(environ);
}

// `afterBody` (run a finish once the body is done, however it ends) lives in body-watch.ts;
// re-exported here for the request modules that take it from this one.
export { afterBody };

/**
 * What an owner does with the body it answers. An array body is complete: with nothing to
 * finish (no parsed form, no inner response kept) the charge is released and the array
 * answered as it is, else the request is finished at once and the array answered (a promise of
 * it). A streamed body is wrapped so the request ends with it (see {@link afterBody}): the
 * body itself may still parse the form (`await req.files()` in a generator streaming its
 * progress) or be handed inner responses as it is produced, so a body with nothing to finish
 * yet keeps the charge too when the request has a body to parse (`isBodyReadable`), and at its
 * end finishes what it left, or only releases the charge (a sync body stays sync then, see
 * {@link wrapBody}); what the body's `return()` throws is logged (`closeErrorLogger`). Without
 * a request body, the charge is released and the body answered as it is.
 */
export function endWithBody(body: Body, environ: Environ): Body | Promise<Body> {
  if (!hasRequestEnd(environ)) {
    // Nothing a body could still parse (no request body): the charge goes at once, and the
    // streamed answer of a GET goes out unwrapped.
    if (Array.isArray(body) || !isBodyReadable(environ)) {
      releaseCleanup(environ);
      return body;
    }
    return endingWithBody(body, environ);
  }
  return finishedWithBody(body, environ);
}

// The closures of `endWithBody`'s slow paths are made in functions of their own: V8 allocates
// the context of a function whose variables a closure captures as the function starts, whether
// or not that closure is made, and the fast path (an array, nothing to finish) makes none.

/** `body` wrapped to finish the request, or only release the charge, once it ends (see {@link endWithBody}). */
function endingWithBody(body: Body, environ: Environ): Body {
  const end = () => (hasRequestEnd(environ) ? finishRequest(environ) : releaseCleanup(environ));
  return wrapBody(body, { end, error: end, close: (returned) => returned.then(end), closeError: closeErrorLogger(environ) });
}

/** `body` once the request is finished: at once for an array, else as the body ends (see {@link endWithBody}). */
function finishedWithBody(body: Body, environ: Environ): Body | Promise<Body> {
  if (Array.isArray(body)) return finishRequest(environ).then(() => body);
  return afterBody(body, () => finishRequest(environ), closeErrorLogger(environ));
}
