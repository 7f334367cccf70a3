/**
 * A body that failed at its opening or first step once its app had given its head, as a layer
 * that took that step itself (to learn the status: `compress`, `timeout`, `etag`, the body
 * filters, `cascade`; `callWithHeadEdit` for a lazy start) passes it on: the app's head, then
 * a body that fails with the same error at its first step. The server then answers as it does without the layer (docs/spec.md §7.4): its
 * own 500, or the exception's answer, keeping the held head's fields of no representation
 * (`heldFields`), and the layers above see what they would have seen.
 *
 * @module
 */
import type { App, Body, Environ, StartResponse } from './types.ts';
import { isThenable } from './body.ts';
import { type StartedApp, callApp } from './call-app.ts';

/**
 * @internal {@link callApp} for a layer that passes the app's answer on and must not be there
 * when its body fails at its first step (`compress`, `timeout`, `etag`, the body filters,
 * `cascade`): a body that fails at its opening or first step once the app answered with it and
 * gave its head rejects with a {@link FirstStepFailure} carrying that head and the failure, which the layer's
 * {@link passingFirstStepFailure} answers as the app's answer (the head, then a body failing
 * with the same error), so the server answers as without the layer (its 500 or the exception's,
 * the held head's fields of no representation kept). Anything else rejects as from `callApp`:
 * an app that threw, or whose promise rejected, held no head.
 */
export async function callAppKeepingHead(app: App, environ: Environ, onCloseError?: (error: unknown) => void): Promise<StartedApp> {
  const given: GivenHead = { answered: false, status: undefined, headers: undefined };
  try {
    return await callApp(recordingHead(app, given), environ, onCloseError);
  } catch (error) {
    if (given.answered && given.status !== undefined) throw new FirstStepFailure(error, given.status, given.headers!);
    throw error;
  }
}

/** What {@link recordingHead} saw of an app's answer. */
interface GivenHead {
  /** True once the app answered with its body (returned it, or its promise resolved). */
  answered: boolean;
  /** The status and headers of the last `startResponse` call `callApp` accepted (unchecked). */
  status: string | undefined;
  headers: Array<[string, string]> | undefined;
}

/**
 * `app`, with what it gives `startResponse` and whether it answered recorded in `given`, so a
 * body that failed at its opening or first step (which `callApp` takes), its head given, is
 * told from an app that threw (no head held), as `serve()` tells them apart (docs/spec.md
 * §7.4). `startResponse` is `callApp`'s, called first: what it throws is thrown unrecorded.
 */
function recordingHead(app: App, given: GivenHead): App {
  return (environ, startResponse) => {
    const body = app(environ, (status, headers, error) => {
      startResponse(status, headers, error);
      given.status = status;
      given.headers = headers;
    });
    if (!isThenable<Body>(body)) {
      given.answered = true;
      return body;
    }
    return Promise.resolve(body).then((answer) => {
      given.answered = true;
      return answer;
    });
  };
}

/**
 * @internal What {@link callAppKeepingHead} rejects with when the app's body failed at its opening
 * or first step after the app gave `startResponse` its head: that failure (`error`, as thrown)
 * and the head. Never reaches a server or a layer above: {@link passingFirstStepFailure}
 * answers it.
 */
export class FirstStepFailure {
  /** What the body threw (anything: an `Error`, an `HTTPException`, a string). */
  readonly error: unknown;
  /** The status line the app gave, unchecked. */
  readonly status: string;
  /** The header pairs the app gave, unchecked. */
  readonly headers: Array<[string, string]>;

  constructor(error: unknown, status: string, headers: Array<[string, string]>) {
    this.error = error;
    this.status = status;
    this.headers = headers;
  }
}

/** @internal The body's own failure behind `error` when it is a {@link FirstStepFailure}, else `error`. */
export function failureOf(error: unknown): unknown {
  return error instanceof FirstStepFailure ? error.error : error;
}

/**
 * @internal A layer's app whose {@link FirstStepFailure} (the app's body failed at its first
 * step, which the layer took) is answered as the app answered without the layer: the head the
 * app gave is passed on through `startResponse` (what that throws, a `lint` above refusing the
 * head, is thrown), and the body answered fails with the same error at its first step. Any
 * other failure of `layer` is thrown as it is.
 */
export function passingFirstStepFailure(layer: (environ: Environ, startResponse: StartResponse) => Promise<Body>): App {
  return (environ, startResponse) =>
    layer(environ, startResponse).catch((error: unknown) => {
      if (!(error instanceof FirstStepFailure)) throw error;
      startResponse(error.status, error.headers);
      return failingBody(error.error);
    });
}

/**
 * @internal A body whose first step fails with `error` (an async generator: done after it),
 * what a layer that took the first step of a body that failed there answers in its place.
 */
export async function* failingBody(error: unknown): AsyncGenerator<Uint8Array, void, undefined> {
  throw error;
}
