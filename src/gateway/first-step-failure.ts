/**
 * A body that failed at its opening or first step once its app had given its head, as a layer
 * that took that step itself (to learn the status: `compress`, `timeout`, `etag`, the body
 * filters, `cascade`; `callWithHeadEdit` for a lazy start) passes it on: the app's head, then
 * a body that fails with the same error at its first step. The server then answers as it does
 * without the layer (docs/spec.md §7.4): its own 500, or the exception's answer, keeping the
 * held head's fields of no representation (`heldFields`), and the layers above see what they
 * would have seen. The head comes from `callApp` itself (`callAppKeepingHead`, call-app.ts).
 *
 * @module
 */
import type { App, Body, Environ, StartResponse } from './types.ts';
import { readableThrow } from './unreadable-throw.ts';

/**
 * @internal What `callAppKeepingHead` (call-app.ts) rejects with when the app's body failed at
 * its opening or first step after the app gave `startResponse` its head: that failure (`error`,
 * as thrown) and the head. Never reaches a server or a layer above: {@link passingFirstStepFailure}
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

/**
 * @internal The body's own failure behind `error` when it is a {@link FirstStepFailure}, else
 * `error`; a value nothing can read (a revoked `Proxy`) as `readableThrow` stands it in.
 */
export function failureOf(error: unknown): unknown {
  const readable = readableThrow(error);
  return readable instanceof FirstStepFailure ? readableThrow(readable.error) : readable;
}

/**
 * @internal A layer's app whose {@link FirstStepFailure} (the app's body failed at its first
 * step, which the layer took) is answered as the app answered without the layer: the head the
 * app gave is passed on through `startResponse` (what that throws, a `lint` above refusing the
 * head, is thrown), and the body answered fails with the same error at its first step. Any
 * other failure of `layer` is thrown as it is (a value nothing can read, as `readableThrow`
 * stands it in).
 */
export function passingFirstStepFailure(layer: (environ: Environ, startResponse: StartResponse) => Promise<Body>): App {
  return (environ, startResponse) =>
    layer(environ, startResponse).catch((thrown: unknown) => {
      const error = readableThrow(thrown);
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
