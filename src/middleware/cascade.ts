/**
 * Trying apps in turn until one answers: Paste's `Cascade`, `Rack::Cascade`.
 *
 * @module
 */
import { type App, type AppLike, type Environ, toApp } from '../gateway/types.ts';
import { isHTTPException } from '../exceptions/base.ts';
import { Request } from '../request/request.ts';
import { finishSkipped } from '../request/cleanup.ts';
import { logError } from '../gateway/log.ts';
import { type StartedApp, callApp } from '../gateway/call-app.ts';

/** Options of {@link cascade}. */
export interface CascadeOptions {
  /** Status codes that mean "try the next app"; default `[404, 405]` (as `Rack::Cascade`). */
  catch?: Iterable<number> | undefined;
  /**
   * Largest request body buffered for replaying, in bytes; default unlimited (as
   * `Request.bytes()`). A larger body answers 413 Content Too Large (RFC 9110 §15.5.14)
   * before any app runs. The same name as the forms' and `Request`'s body limit.
   */
  maxBodySize?: number | undefined;
}

/**
 * Tries `apps` in order and answers the first answer whose status is not in `catch`; when
 * every app answers a caught status, the last app's answer is sent as it is.
 *
 * The request body is read once (with `Request.bytes()`, so the environ keeps a replayable
 * `tsgi.input`) and every app reads the same bytes. Every app gets the environ itself
 * (docs/spec.md §8), put back as it was before each new try, so what a skipped app changed
 * (`SCRIPT_NAME` after a `mount`, keys it added) does not leak into the next, while what the
 * answering app changes stays visible to the layers above. The uploads a skipped app parsed
 * are removed before the next try, and the streamed answers it got through `getResponse` are
 * closed when the request ends, as its own would be. The body of a
 * skipped answer is closed unread (its iterator's `return()` runs, so `finally` blocks
 * clean up). An `HTTPException` an app throws before its head counts as its answer: one with
 * a caught status (`abort(404)` in a raw app) tries the next app, as a returned 404 does; any
 * other propagates, and the server answers it as itself (see `escapedAnswer`). Other errors
 * propagate too: put `errors()` outside the cascade.
 *
 * @example
 * ```ts
 * // Static files first, the application when no file matches.
 * export const app = cascade([directoryApp('public'), site], { catch: [404, 405] });
 * ```
 * @throws TypeError when `apps` is empty or holds something that is not an app.
 */
export function cascade(apps: Iterable<AppLike>, options: CascadeOptions = {}): App {
  const list = [...apps].map((app) => toApp(app));
  if (list.length === 0) throw new TypeError('cascade() needs at least one app');
  const caught = new Set(options.catch ?? [404, 405]);
  const maxBodySize = options.maxBodySize;
  const last = list[list.length - 1]!;
  if (list.length === 1) return last;
  return async (environ, startResponse) => {
    try {
      await new Request(environ).bytes(maxBodySize === undefined ? undefined : { maxBodySize });
    } catch (error) {
      if (isHTTPException(error)) return error.getResponse(environ).respond(environ, startResponse);
      throw error;
    }
    const line = `${environ.REQUEST_METHOD} ${environ.SCRIPT_NAME}${environ.PATH_INFO}`;
    const onCloseError = (error: unknown) => logError(environ['tsgi.errors'], `${line} (cascade, closing a skipped body)`, error);
    const saved = { ...environ };
    for (let i = 0; i < list.length - 1; i++) {
      if (i > 0) await restore(environ, saved);
      let started: StartedApp;
      try {
        started = await callApp(list[i]!, environ, onCloseError);
      } catch (error) {
        // A raw app's `throw new HTTPNotFound()` is its 404, as a returned one is.
        if (isHTTPException(error) && caught.has(error.code)) continue;
        throw error;
      }
      const code = Number.parseInt(String(started.status).slice(0, 3), 10);
      if (!caught.has(code)) {
        startResponse(started.status, started.headers);
        return started.body;
      }
      started.close();
    }
    await restore(environ, saved);
    return last(environ, startResponse);
  };
}

/**
 * Puts the environ back as it was before an app changed it (keys added are removed), once
 * what the skipped app left for the request's end is settled (its form's files removed, the
 * responses it was handed kept for the owner: see `finishSkipped`).
 */
async function restore(environ: Environ, saved: Environ): Promise<void> {
  await finishSkipped(environ, saved);
  for (const key of Object.keys(environ)) if (!Object.hasOwn(saved, key)) delete environ[key];
  Object.assign(environ, saved);
}
