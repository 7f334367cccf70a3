/**
 * Trying apps in turn until one answers: Paste's `Cascade`, `Rack::Cascade`.
 *
 * @module
 */
import { type App, type AppLike, type Environ, toApp } from '../gateway/types.ts';
import { isHTTPException } from '../exceptions/base.ts';
import { Request } from '../request/request.ts';
import { isBodyReadable } from '../request/input.ts';
import { bodyTooLarge } from '../forms/limits.ts';
import { BufferedInput, FailedInput, spoilInput } from '../gateway/input.ts';
import { InputRecording } from '../gateway/recorded-input.ts';
import { limitInput } from '../gateway/limit-input.ts';
import { nodeReadableOf } from '../gateway/readable-input.ts';
import { HTTPContentTooLarge } from '../exceptions/client-errors.ts';
import { finishSkipped } from '../request/cleanup.ts';
import { forgetSharedRequest } from '../request/application.ts';
import { declaredLength } from '../http/declared-length.ts';
import { logRequestError } from '../gateway/log.ts';
import { type StartedApp, callAppKeepingHead, passHead } from '../gateway/call-app.ts';
import { failureOf, passingFirstStepFailure } from '../gateway/first-step-failure.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';
import { describe } from '../gateway/body.ts';
import { CASCADE_SKIPS_KEY, type CascadeSkips } from '../gateway/cascade-skips.ts';

/** Options of {@link cascade}. */
export interface CascadeOptions {
  /** Status codes that mean "try the next app"; default `[404, 405]` (as `Rack::Cascade`). */
  catch?: Iterable<number> | undefined;
  /**
   * Largest request body the apps may read through the cascade, in bytes; default unlimited
   * (as `Request.bytes()`). It bounds what is recorded for replay (see {@link cascade}), so the
   * memory a request's recording can take, and every read, the last app's included. A
   * declared `Content-Length` past it answers 413 Content Too Large (RFC 9110 §15.5.14) before
   * any app runs; a body of undeclared length (chunked) when an app reads past it: that read
   * throws `HTTPContentTooLarge`, so `req.bytes()` or `req.form()` answers 413, as does a raw
   * app that lets it propagate, and so does every later read that gets that far. The same name
   * as the forms' and `Request`'s body limit.
   */
  maxBodySize?: number | undefined;
}

/** Every option of {@link CascadeOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const CASCADE_OPTIONS = { catch: true, maxBodySize: true } as const satisfies OptionNames<CascadeOptions>;

/**
 * Tries `apps` in order and answers the first answer whose status is not in `catch`; when
 * every app answers a caught status, the last app's answer is sent as it is.
 *
 * The request body streams: nothing is read in advance, and an app that never reads it (a
 * static-file app answering 404 or 405) costs nothing. What an app other than the last reads
 * from `tsgi.input` is recorded, so that if it is skipped the next app gets those bytes again,
 * followed by the rest of the stream, unread until then; the last app gets that as a stream,
 * nothing held for it, and each recorded chunk is let go once handed over. Once an app's
 * answer is taken (it gave `startResponse` a status not in `catch`, even before its first
 * chunk), what it reads from then on is not recorded, and what was recorded is let go. So a
 * body is held in memory only as far as a skipped app read it (`maxBodySize` bounds it):
 * `Request.bytes()` in an app before the last holds it whole, as it always does. For the
 * apps before the last, `tsgi.input` replays the body from its start at each iteration (as the
 * copy `Request.bytes()` keeps); for the last, and for the answering app once its answer is
 * taken, it reads on as a live input, once (docs/spec.md §3). An input that already replays
 * (a body read by `Request.bytes()` above the cascade) is given to every app as it is. The
 * bytes are the client's, so `CONTENT_LENGTH` stays right. A read that fails (the client left
 * mid-body: `req.bytes()` answers 400) fails for every app that reads that far; the input of a
 * skipped app reads no more (its reads throw) once the next app is called.
 *
 * Every app gets the environ itself (docs/spec.md §8), put back as it was before each new try
 * (then given the replay as `tsgi.input`), so what a skipped app changed
 * (`SCRIPT_NAME` after a `mount`, keys it added) does not leak into the next, while what the
 * answering app changes stays visible to the layers above. The uploads a skipped app parsed
 * are removed before the next try, and the streamed answers it got through `getResponse` are
 * closed when the request ends, as its own would be. The body of a
 * skipped answer is closed unread (its iterator's `return()` runs, so `finally` blocks
 * clean up), and its error page is never rendered: the apps before the last are told which
 * statuses the cascade skips (`tsgi.cascade_skips`, with those a cascade further out skips),
 * so an `errorPages` outside the cascade or inside one of those apps gives a caught status
 * the default body, the renderer being asked only for pages sent; the last app is told only
 * what the cascades further out skip. An
 * `HTTPException` an app throws before its head counts as its answer: one with a caught status
 * (`abort(404)` in a raw app) tries the next app, as a returned 404 does, unless the app had
 * given a status not in `catch` (its answer was taken: the next app could not get the body
 * whole; a caught status it gives after that is sent as it is); any other
 * propagates, and the server answers it as itself (see `escapedAnswer`). Other errors
 * propagate too: put `errors()` outside the cascade. A body that fails before its first chunk,
 * once its app gave a head the cascade takes, is passed on as it came (that head, then the
 * failure), so the server answers it as without the cascade, keeping the head's fields of no
 * representation (docs/spec.md §7.4).
 *
 * @example
 * ```ts
 * // Static files first, the application when no file matches.
 * export const app = cascade([directoryApp('public'), site], { catch: [404, 405] });
 * ```
 * @throws TypeError when `apps` is empty or holds something that is not an app, for a
 *   `maxBodySize` that is no non-negative number (a string read from the environment would
 *   compare with no size), and for a `catch` that is not a list of integer status codes (100
 *   to 999: a `'404'` would never match).
 */
export function cascade(apps: Iterable<AppLike>, options: CascadeOptions = {}): App {
  const list = [...apps].map((app) => toApp(app));
  checkOptions('cascade', options, CASCADE_OPTIONS);
  if (list.length === 0) throw new TypeError('cascade() needs at least one app');
  const caught = caughtCodes(options.catch);
  const maxBodySize = options.maxBodySize;
  if (maxBodySize !== undefined && (typeof maxBodySize !== 'number' || !(maxBodySize >= 0))) {
    throw new TypeError(`cascade: maxBodySize must be a non-negative number of bytes (Infinity for no limit), got ${String(maxBodySize)}`);
  }
  const last = list[list.length - 1]!;
  // One app, nothing to try before it: the app itself, unless a body limit is to be kept.
  if (list.length === 1 && maxBodySize === undefined) return last;
  return passingFirstStepFailure(async (environ, startResponse) => {
    const recording = recordInput(environ, maxBodySize);
    if (recording instanceof HTTPContentTooLarge) return recording.getResponse(environ).respond(environ, startResponse);
    const onCloseError = (error: unknown) =>
      logRequestError(environ['tsgi.errors'], environ, ' (cascade, closing a skipped body)', error);
    const saved = { ...environ };
    // What the apps before the last are told this cascade skips (their error pages are not
    // rendered), and what the cascades further out skip; the last app is told only the latter.
    const outer = environ[CASCADE_SKIPS_KEY] as CascadeSkips | undefined;
    let open = true;
    const skips: CascadeSkips = (code) =>
      (open && caught.has(code) && recording?.recording !== false) ||
      (outer !== undefined && outer(code));
    for (let i = 0; i < list.length - 1; i++) {
      if (i > 0) await restore(environ, saved);
      if (recording !== undefined) environ['tsgi.input'] = recording.reader();
      open = true;
      environ[CASCADE_SKIPS_KEY] = skips;
      let started: StartedApp;
      try {
        started = await callAppKeepingHead(recording === undefined ? list[i]! : stopsOnAnswer(list[i]!, recording, caught), environ, onCloseError);
      } catch (error) {
        // A raw app's `throw new HTTPNotFound()` is its 404, as a returned one is; not after it
        // gave a status not caught (the recording is over: the next app would miss bytes).
        const failure = failureOf(error);
        if (isHTTPException(failure) && caught.has(failure.code) && recording?.recording !== false) continue;
        open = false;
        unmark(environ, outer);
        // A body that failed at its first step, its head given, is passed on as it came.
        throw error;
      }
      const code = statusCode(started.status);
      if (!caught.has(code) || recording?.recording === false) {
        // The answer: what this app reads from now on is not recorded, what it read is let go;
        // its later error pages (a body failing) are rendered, unless a cascade further out
        // skips them.
        open = false;
        unmark(environ, outer);
        recording?.stop();
        // A head the layer above refuses (a `lint` outside) closes the body it never gets.
        passHead(started, startResponse);
        return started.body;
      }
      // Closed before the environ is put back for the next app: a skipped app that had charge
      // of the request's end (the outermost `Request.application`) finishes it as its streamed
      // body closes, which must not reach the next app's request (its form being parsed).
      await started.close();
    }
    await restore(environ, saved);
    if (recording !== undefined) {
      // The last app streams: what the others read, then the rest of the input, unrecorded.
      // When nobody read and there is no limit to count (none, or a declared length within it
      // on a Node request stream, whose parser ends the body there), it gets the input itself.
      if (recording.touched || (maxBodySize !== undefined && !(framed(environ) && new Request(environ).contentLength !== null))) {
        environ['tsgi.input'] = recording.reader();
        recording.stop();
      } else recording.close();
    }
    return last(environ, startResponse);
  });
}

/**
 * True when `tsgi.input` is a Node request stream (`serve()`, `toNodeHandler`), which Node's
 * HTTP parser holds to its declared `Content-Length`; a fetch `Request` made in process may
 * carry one its body does not keep to (see `limitBody`).
 */
function framed(environ: Environ): boolean {
  const input = environ['tsgi.input'];
  return input !== undefined && nodeReadableOf(input) !== undefined;
}

/** The set of `codes` (default 404 and 405), each checked to be an integer status code. */
function caughtCodes(codes: Iterable<number> | undefined): Set<number> {
  if (codes === undefined) return new Set([404, 405]);
  const set = typeof (codes as Partial<Iterable<number>> | null)?.[Symbol.iterator] === 'function' ? new Set<unknown>(codes) : undefined;
  if (set === undefined || ![...set].every((code) => Number.isInteger(code) && (code as number) >= 100 && (code as number) <= 999)) {
    const shown = set === undefined ? describe(codes) : `[${[...set].map((code) => (typeof code === 'number' ? String(code) : typeof code === 'string' ? JSON.stringify(code) : describe(code))).join(', ')}]`;
    throw new TypeError(`cascade: catch must list status codes, integers from 100 to 999 ([404, 405]), got ${shown}`);
  }
  return set as Set<number>;
}

/** The code of a status line (`'404 Not Found'` → 404). */
function statusCode(status: string): number {
  return Number.parseInt(String(status).slice(0, 3), 10);
}

/**
 * `app` given a `startResponse` that ends `recording` once the app gives a status not in
 * `caught`: that is its answer, so what it reads from then on (a body that reads the upload
 * before its first chunk, while `callApp` waits for that chunk) is not recorded. Should it
 * then give a caught status after all (`startResponse` again, with an error) or throw a caught
 * `HTTPException`, that is sent as its answer: the next app could not get the body whole.
 */
function stopsOnAnswer(app: App, recording: InputRecording, caught: ReadonlySet<number>): App {
  return (environ, startResponse) =>
    app(environ, (status, headers, error) => {
      startResponse(status, headers, error);
      if (!caught.has(statusCode(status))) recording.stop();
    });
}

/**
 * Puts back the {@link CascadeSkips} marker of the cascades further out (`outer`), or none,
 * once an app's answer is taken: the layers above then see what those skip only.
 */
function unmark(environ: Environ, outer: CascadeSkips | undefined): void {
  if (outer === undefined) delete environ[CASCADE_SKIPS_KEY];
  else environ[CASCADE_SKIPS_KEY] = outer;
}

/**
 * The recording of the request body that `cascade`'s apps read in turn; `undefined` when
 * there is nothing to record: no body (RFC 9112 §6.3), or an input that replays already (a
 * `BufferedInput` kept by `req.bytes()` above, a `FailedInput`). The 413 of a body declared
 * (or kept) past `maxBodySize`, decided before any app runs.
 */
function recordInput(environ: Environ, maxBodySize: number | undefined): InputRecording | HTTPContentTooLarge | undefined {
  const input = environ['tsgi.input'];
  if (maxBodySize !== undefined) {
    // As digits: `contentLength` is null past 15 of them (Node takes up to 2^64 - 1).
    const declared = declaredLength(environ);
    if (declared !== null && declared > maxBodySize) return bodyTooLarge(maxBodySize);
    if (input instanceof BufferedInput && input.bytes.byteLength > maxBodySize) return bodyTooLarge(maxBodySize);
  }
  if (input === undefined || input instanceof BufferedInput || input instanceof FailedInput || !isBodyReadable(environ)) return undefined;
  const source = maxBodySize === undefined ? input : limitInput(input, maxBodySize, () => bodyTooLarge(maxBodySize));
  // A client error of the input (a limit's 413, this one's or the server's) leaves the reading
  // app's input failed with it, as the input itself would be left: a later read gets it at
  // once, and an app error wrapping it (fetch's `TypeError: fetch failed`) answers it
  // (`bodyFailureBehind`). The next app's input is a fresh reader (see `restore`).
  return new InputRecording(source, (reader, error) => {
    if (isHTTPException(error) && error.code < 500) spoilInput(environ, reader, error);
  });
}

/**
 * Puts the environ back as it was before an app changed it (keys added are removed, the
 * request its layers shared too: `forgetSharedRequest`), once
 * what the skipped app left for the request's end is settled (its form's files removed, the
 * responses it was handed kept for the owner: see `finishSkipped`).
 */
async function restore(environ: Environ, saved: Environ): Promise<void> {
  await finishSkipped(environ, saved);
  for (const key of Object.keys(environ)) if (!Object.hasOwn(saved, key)) delete environ[key];
  forgetSharedRequest(environ, saved);
  Object.assign(environ, saved);
}
