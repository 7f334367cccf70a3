/**
 * The head an app gave `startResponse`, as the test client sees it under `callApp`: what a
 * server holds once the app answered with its body, until that body's first steps come.
 *
 * @module
 */
import { type App, type Body } from '../gateway/types.ts';
import { isThenable } from '../gateway/body.ts';

/** What {@link recordingHead} saw of an app's answer. */
export interface GivenHead {
  /** True once the app answered with its body (returned it, or its promise resolved). */
  answered: boolean;
  /** The headers of the last `startResponse` call the server side accepted (unchecked). */
  headers: unknown;
}

/**
 * `app`, with what it gives `startResponse` and whether it answered recorded in `given`, so
 * that the test client tells a body that failed at its opening or first step (`callApp` takes
 * it), the head given and held, from an app that threw (no head held), as `serve()` tells
 * them apart (docs/spec.md §7.4). `startResponse` is the caller's, called first: what it throws
 * is thrown unrecorded.
 */
export function recordingHead(app: App, given: GivenHead): App {
  return (environ, startResponse) => {
    const body = app(environ, (status, headers, error) => {
      startResponse(status, headers, error);
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
