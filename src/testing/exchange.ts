/**
 * The server side of the test client: running an app on an environ as `serve()` does, and
 * reading its answer the way a client receives it.
 *
 * @module
 */
import { STOP, type ShutdownWatch, streamStopOf } from '../gateway/shutdown.ts';
import { bodyClosedEarly, isAbort, serverShuttingDown, unlessAbort } from '../gateway/abort.ts';
import type { App, Environ } from '../gateway/types.ts';
import { type StartedApp, callAppKeepingHead } from '../gateway/call-app.ts';
import { FirstStepFailure } from '../gateway/first-step-failure.ts';
import { checkChunk, closeBody, concatBytes, describe, isThenable, openBody } from '../gateway/body.ts';
import { wrapBody } from '../gateway/body-watch.ts';
import { resumeSteps } from '../gateway/resume.ts';
import { secondStepInTurn } from '../gateway/second-step.ts';
import { CONNECTION_FIELDS, assertHeader, isRequiredUpgrade } from '../gateway/fields.ts';
import { hasNoContent, isBodilessStatus } from '../gateway/status.ts';
import { appDeclaredLength, finalStatus } from '../gateway/head-rules.ts';
import { logRequestError, wasLogged } from '../gateway/log.ts';
import { escapedAnswer } from '../exceptions/escaped.ts';
import { isBodyFailure } from '../exceptions/body-failure.ts';
import { awaitHead, serverStatusKey, setServerBytes, settleHead } from '../gateway/server-status.ts';
import { keptWork } from '../gateway/kept-context.ts';
import { inputFailure } from '../request/input.ts';
import { isBrokenBody } from './streamed-input.ts';
import { heldFields, keepingHeldFields } from '../gateway/held-fields.ts';
import { readableThrow } from '../gateway/unreadable-throw.ts';

/** What a client receives: the status line, the header fields, the body. */
export interface Answer {
  status: string;
  headers: Array<[string, string]>;
  /**
   * The whole body; or, run with `buffered: false` (see {@link runApp}), the body still being
   * produced: its chunks as they come, a cut thrown as {@link CutResponse} by its `next()`.
   */
  body: Uint8Array | AsyncIterableIterator<Uint8Array>;
}

/** Options of {@link runApp}. */
export interface RunOptions {
  /**
   * Told of each error logged, before it is logged (the test client keeps the first as the
   * `cause` of the call's failure).
   */
  onError?: ((error: unknown) => void) | undefined;
  /** Read the body whole before answering (default `true`); `false` answers at the head. */
  buffered?: boolean | undefined;
  /**
   * Told when the head is committed, as the server commits it: the body's first chunk was
   * taken (the head may still wait for the second step), or the head went out without one.
   * Early hints are refused after (docs/spec.md §2.5). May be told more than once.
   */
  onCommitted?: (() => void) | undefined;
  /** The server's shutdown: a `text/event-stream` body ends when it begins, read live or whole. */
  shutdown?: ShutdownWatch | undefined;
  /**
   * The controller of the request's `tsgi.signal`, aborted as the Node adapter aborts it when
   * the server ends the answer itself while its body is still being produced, before the body
   * is closed, so a source that waits on the signal alone stops at once: with
   * `serverShuttingDown()` when the shutdown ends an event stream, `bodyClosedEarly()` when the
   * rest of a streamed body is not wanted (a HEAD answered with the GET's fields, a 204, 205 or
   * 304). Left alone once aborted (the client left first).
   */
  requestSignal?: AbortController | undefined;
}

/** The error of an answer cut after its head (the server resets the connection). */
export class CutResponse extends Error {}

type Step = IteratorResult<Uint8Array>;

/** The cut of an answer whose body failed after its head. */
function cut(error: unknown): CutResponse {
  return new CutResponse(`the response was cut after its head: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

const INTERNAL_ERROR = new TextEncoder().encode('Internal Server Error\n');

/**
 * The server's own 500 for an app that failed before its head (see the Node adapter), with the
 * `kept` fields of a head it replaces (`heldFields`, which has neither of its own).
 */
function internalError(kept: ReadonlyArray<[string, string]> = []): Answer {
  const headers: Array<[string, string]> = [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(INTERNAL_ERROR.byteLength)],
    ...kept,
  ];
  return { status: '500 Internal Server Error', headers, body: INTERNAL_ERROR };
}

/** The titles of the server's refusals before the app. */
const REFUSAL_TITLES = { 400: 'Bad Request', 417: 'Expectation Failed', 431: 'Request Header Fields Too Large', 501: 'Not Implemented' } as const;

/**
 * The server's answer to a request the app must not see, `<Title>: <detail>` as plain text: a
 * `400 Bad Request` for a path it cannot decode (docs/spec.md §2.1), an invalid Host, framing
 * in doubt; a `417 Expectation Failed` for an `Expect` it cannot meet (RFC 9110 §10.1.1); a
 * `431 Request Header Fields Too Large` for more header fields than it takes (RFC 6585 §5); a
 * `501 Not Implemented` for a transfer coding it cannot decode (RFC 9112 §6.1).
 */
export function refusalAnswer(code: keyof typeof REFUSAL_TITLES, detail: string): Answer {
  const title = REFUSAL_TITLES[code];
  const body = new TextEncoder().encode(`${title}: ${detail}\n`);
  const headers: Array<[string, string]> = [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(body.byteLength)],
  ];
  return { status: `${code} ${title}`, headers, body };
}

/**
 * `answer` as the server sends it to a request of `method`: to a HEAD, without the bytes of a
 * body held whole (RFC 9110 §9.3.2), its fields, `Content-Length` included, as they are (as
 * `serve()` sends its own `400` and `500` to a HEAD); otherwise `answer` itself.
 */
export function sentTo(method: string | undefined, answer: Answer): Answer {
  if (method !== 'HEAD' || !(answer.body instanceof Uint8Array) || answer.body.byteLength === 0) return answer;
  return { ...answer, body: new Uint8Array(0) };
}

/**
 * The head as the server sends it: the status and header pairs checked (a final status, token
 * names, field-value characters, one Content-Length of digits), hop-by-hop fields dropped, a
 * Content-Length dropped on a 204 (RFC 9110 §8.6) and on a 205, which the caller frames with
 * `Content-Length: 0` (§15.3.6), as the server does.
 *
 * @returns the head and the declared length (`-1` when none).
 * @throws TypeError for anything the app got wrong, as the server's `sendHead` does.
 */
function checkHead(started: StartedApp): { status: string; code: number; headers: Array<[string, string]>; declared: number } {
  const { code } = finalStatus(started.status, started.headers);
  if (!Array.isArray(started.headers)) throw new TypeError('startResponse headers must be an array of [name, value] pairs');
  const headers: Array<[string, string]> = [];
  let declared = -1;
  for (const pair of started.headers as unknown[]) {
    if (!Array.isArray(pair)) throw new TypeError(`header is not a [name, value] pair (${describe(pair)})`);
    const [name, value] = pair as [string, string];
    assertHeader(name, value);
    const lower = name.toLowerCase();
    if (lower === 'content-length') {
      declared = appDeclaredLength(value, declared);
      if (code === 204 || code === 205) continue;
    } else if (CONNECTION_FIELDS.has(lower) && !isRequiredUpgrade(lower, code)) continue;
    headers.push([name, value]);
  }
  return { status: started.status, code, headers, declared };
}

/**
 * Runs `app` on `environ` the way `serve()` does and reads the answer whole, as a client
 * would: the app is called, its status waited for (a lazy `startResponse` included), the head
 * checked, the body iterated to its end, or closed with `return()` when the answer carries no
 * body (HEAD, 204, 205, 304: at most two steps are taken first, as the server takes them to frame
 * the answer). As in the server, the head goes out once the body's second step is known: an
 * app error up to there (the app call, the first step and a second one that comes within one
 * turn of the event loop, as the server waits for it, an invalid head or chunk, an array
 * body, or one that ended there, that contradicts its `Content-Length`) is logged to `tsgi.errors` with the request line
 * and answered `500 Internal Server Error` as plain text (an `HTTPException` is the answer
 * instead, logged only when a 5xx: `escapedAnswer`; `answering` marks that second run), with
 * the fields of no representation of a head the app gave with its body (`heldFields`); an
 * error after it is logged and throws {@link CutResponse}, since the server cuts the
 * connection then (a stream that contradicts its `Content-Length` too).
 *
 * With `buffered: false` (Werkzeug's `buffered=False`) a streamed body is not read whole: the
 * answer comes once its head would go out, as the server decides it: after the first chunk,
 * and the second step if it comes within one turn of the event loop (`raceImmediate`, as `serve()`; a body
 * that ends there is whole, with its `Content-Length`), but for an empty first chunk, which
 * sends the head at once (docs/spec.md §6: what fails after it is a cut). The rest is the answer's body, an
 * async iterator (`resumeSteps`): a failure of it, a length that contradicts `Content-Length`
 * included, is logged and thrown as {@link CutResponse} by its `next()`, the app's iterator
 * closed; its `return()` closes the app's iterator and settles when that has. An array body,
 * and the answers without a body, are read as with `buffered`.
 *
 * A 205 gets `Content-Length: 0` in place of the app's (RFC 9110 §15.3.6), as the server sends it.
 * `Content-Length` is added, when the app gave none, to an answer whose body was an array or
 * ended after its first chunk within that turn, as the server frames those; longer streams get none (the
 * server sends them chunked). Framing fields the server adds (`Date`, `Connection`,
 * `Keep-Alive`, `Transfer-Encoding`) are left out.
 */
export async function runApp(app: App, environ: Environ, options: RunOptions = {}, answering = false): Promise<Answer> {
  try {
    // The server's own 500 (below) goes to a HEAD without its text, as any answer.
    return sentTo(environ.REQUEST_METHOD, await answerOf(app, environ, options, answering));
  } finally {
    settleHead(environ);
  }
}

/** {@link runApp}'s work, the head settled once it is over. */
async function answerOf(app: App, environ: Environ, options: RunOptions, answering: boolean): Promise<Answer> {
  const log = environ['tsgi.errors'];
  // `note` follows the request line: ` 502`, the status an escaped HTTPException answered.
  const report = (error: unknown, note = '') => {
    // The failed read of the request body, bare or wrapped, is the client's doing: answered as
    // its 4xx before the head, a cut after it, never logged as the app's (as the server does).
    if (isBrokenBody(error) || isBodyFailure(environ, error)) return;
    options.onError?.(error);
    if (!wasLogged(environ, error)) logRequestError(log, environ, note, error); // `errors` logged it already
  };
  let started: StartedApp;
  // Before the head an HTTPException is the answer (see escapedAnswer); a second one is a 500.
  // The status is left for accessLog (as the Node adapter does) before `close` ends the app's
  // body, which writes its line.
  // `kept`: the fields of a head held for the body's first two steps, which failed (`heldFields`).
  const beforeHead = async (
    error: unknown,
    close?: () => unknown,
    kept?: Array<[string, string]>,
  ): Promise<Answer> => {
    error = readableThrow(error);
    // A streamed body's own break that a raw app let through: the 400 the readers answer (as `serve()`).
    if (isBrokenBody(error)) error = inputFailure(error);
    const exception = answering ? null : escapedAnswer(error, report, environ);
    serverStatusKey.set(environ, exception?.code ?? 500);
    // The plain 500's bytes, for the access log, whose line closing the body may write.
    if (exception === null) setServerBytes(environ, INTERNAL_ERROR.byteLength);
    await close?.();
    if (exception !== null) {
      const app = exception.toApp();
      const answer = kept === undefined ? app : keepingHeldFields(app, kept);
      return runApp(answer, environ, options, true);
    }
    report(error);
    return internalError(kept);
  };
  // As the server: a layer above may see the body end while the app is called (`timeout` and
  // `compress` take its first step); what it leaves for the head waits until runApp is over,
  // then runs in the async context it was left in (a middleware's store, through `bindBody`).
  awaitHead(environ, { pending: undefined, keeping: (then) => keptWork(environ, then) });
  try {
    started = await callAppKeepingHead(app, environ, report);
  } catch (thrown) {
    const error = readableThrow(thrown);
    // The body failed at its opening or first step (`callApp` takes it), the head given: the
    // server held that head, and keeps its fields of no representation; an app that threw, none.
    if (error instanceof FirstStepFailure) return beforeHead(error.error, undefined, heldFields(error.headers));
    return beforeHead(error);
  }
  let head: ReturnType<typeof checkHead>;
  const inMemory = Array.isArray(started.body) ? (started.body as unknown[]) : null;
  /** The bytes of an array body, every chunk counted (a HEAD reads two steps of it only). */
  let arrayLength = 0;
  try {
    head = checkHead(started);
    // An array body is checked before the head goes out, so its faults answer 500.
    if (inMemory !== null) {
      for (const chunk of inMemory) arrayLength += checkChunk(chunk).byteLength;
      if (head.declared !== -1 && head.declared !== arrayLength && environ.REQUEST_METHOD !== 'HEAD' && !hasNoContent(head.code)) {
        throw new TypeError(`the app declared Content-Length: ${head.declared} but its body has ${arrayLength} bytes`);
      }
    }
  } catch (error) {
    return beforeHead(error, () => started.close());
  }
  // The server's own answer (an escaped HTTPException's page): its bytes, for the access log.
  if (answering && inMemory !== null) setServerBytes(environ, arrayLength);
  const headers = head.headers;
  // A 205 carries no content (RFC 9110 §15.3.6): the server sends none of the app's bytes.
  const noBody = environ.REQUEST_METHOD === 'HEAD' || hasNoContent(head.code);
  // Unbuffered, a stream is answered at its head: its second step is waited for a turn of the event loop only.
  const live = options.buffered === false && !noBody && inMemory === null;
  const chunks: Uint8Array[] = [];
  const iterator = openBody(started.body);
  let steps = 0;
  let ended = false;
  /** The head went out before the second step came (as the server sends it): what fails after is a cut. */
  let headOut = false;
  /** Live: the second step, taken or still pending, when the body goes on after the head. */
  let rest: Step | PromiseLike<Step> | undefined;
  // An event stream ends at the shutdown, as the server ends it (docs/spec.md §2.6): read live
  // (see resumeSteps), and read whole too, which then answers what came before it.
  // Its `tsgi.signal` aborts then too (see shutdownEnd): before the body is closed when the end
  // is due, or when a coded stream that `compress` finished at the shutdown has ended (StreamStop's
  // `onCodedEnd`); one function for both, the abort made once.
  const end = shutdownEnd(options.requestSignal);
  const stop = noBody || inMemory !== null || options.shutdown === undefined ? undefined : streamStopOf(options.shutdown, headers, environ, end, end);
  /**
   * Buffered, the step awaited, or {@link STOP} once the event stream is to end; never for the
   * first, in hand already (`callApp` took it): one asked for after the shutdown began sends it.
   */
  const untilStop = (step: Step | PromiseLike<Step>) => (stop === undefined || live || steps === 0 ? step : stop.race(step));
  /**
   * The second step if it comes within a turn of the event loop, else `undefined`: the head
   * goes out then, as it does when the shutdown ends an event stream within that turn.
   */
  const headWait = async (step: PromiseLike<Step>): Promise<Step | undefined> => {
    const waited = await secondStepInTurn(step, stop);
    return waited === STOP ? undefined : waited;
  };
  /** True once the shutdown ended a buffered event stream: its body is being closed. */
  let stopped = false;
  /**
   * True once the rest of a bodiless answer's stream was given up and `tsgi.signal` aborted for
   * it (`bodyClosedEarly`): an abort its source throws then (a `sleep` given the signal) is the
   * body stopping as asked, not an app error, as the server's pump takes it.
   */
  let closedEarly = false;
  const unlessClosedEarly = (error: unknown) => {
    if (!(closedEarly && isAbort(error))) report(error);
  };
  try {
    // As the server: the head waits for the second step for one turn of the event loop, so a
    // failure up to there answers 500; a step that comes later finds the head out.
    while (!(noBody && steps === 2)) {
      const pending = iterator.next() as Step | PromiseLike<Step>;
      // The shutdown may begin while the head waits: an event stream ends then too (see resumeSteps).
      let step: Step | typeof STOP | undefined = steps === 1 && !headOut && isThenable<Step>(pending) ? await headWait(pending) : await untilStop(pending);
      if (step === undefined) {
        headOut = true;
        options.onCommitted?.();
        if (live) {
          rest = pending;
          break;
        }
        if (noBody) {
          // The server ends a bodiless answer at its head and logs what the step left fails with,
          // but the abort it asked for (below).
          (pending as PromiseLike<Step>).then(undefined, unlessClosedEarly);
          break;
        }
        step = await untilStop(pending);
      }
      if (step === STOP) {
        // The body is closed, not waited for (a generator stuck in a wait takes its return()
        // only once that wait ends); a failure of the step left pending is still reported.
        stopped = true;
        (pending as PromiseLike<Step>).then(undefined, unlessAbort(report));
        void closeBody(iterator, report);
        break;
      }
      if (step.done) {
        ended = true;
        break;
      }
      // Counted once its chunk passed the check: a bad one at the second step, in hand while
      // the head is held, answers 500 with the held fields, as the server's, not a cut.
      const chunk = checkChunk(step.value);
      chunks.push(chunk);
      steps++;
      if (steps === 1) {
        options.onCommitted?.(); // the body started: its second step runs after
        // An empty first chunk sends the head at once, as the server sends it (spec §4, §6):
        // its second step is not waited for, and what fails from there on is a cut.
        if (chunk.byteLength === 0) {
          headOut = true;
          if (live) break; // `rest` undefined: the second step is asked for as the body is read
          if (noBody) break;
        }
      }
      if (live && steps === 2) {
        rest = step;
        break;
      }
    }
  } catch (error) {
    stop?.dispose();
    if (steps < 2 && !headOut) {
      // The server's answer in place of a head held for the body's first two steps keeps its
      // fields that are no representation's (`heldFields`: `X-Request-Id`, `Access-Control-*`…).
      return beforeHead(error, () => closeBody(iterator, report), heldFields(headers));
    }
    await closeBody(iterator, report);
    report(error);
    throw cut(error);
  }
  options.onCommitted?.();
  if (live && (rest !== undefined || headOut)) {
    const body = liveBody(resumeSteps(chunks[0]!, rest, iterator, head.declared, report, undefined, stop), report);
    return { status: head.status, headers, body };
  }
  stop?.dispose();
  if (!ended && !stopped) {
    // The rest of a bodiless answer's stream is not wanted: its source is told first, as the
    // server tells it.
    if (inMemory === null) {
      closedEarly = true;
      options.requestSignal?.abort(bodyClosedEarly());
    }
    await closeBody(iterator, unlessClosedEarly);
  }
  const body = concatBytes(chunks);
  const known = inMemory !== null || (ended && chunks.length <= 1 && !headOut);
  // A 205 frames its empty content, whatever the app gave, as the server frames it.
  if (head.code === 205) headers.push(['Content-Length', '0']);
  else if (head.declared === -1) {
    // An array is framed by all its bytes, those of a HEAD the server drops included.
    const size = inMemory !== null ? arrayLength : body.byteLength;
    if (known && !isBodilessStatus(head.code) && (!noBody || size !== 0)) headers.push(['Content-Length', String(size)]);
  } else if (!noBody && head.declared !== body.byteLength) {
    const error = new TypeError(`the app declared Content-Length: ${head.declared} but its body has ${body.byteLength} bytes`);
    // A body that ended by its second step is framed with the head, as the server frames it: a 500.
    if (known) return beforeHead(error);
    report(error);
    throw cut(error);
  }
  return { status: head.status, headers, body: noBody ? new Uint8Array(0) : body };
}

/**
 * What the `StreamStop` of an event stream calls once the end of its event stream is due:
 * `tsgi.signal` (its `controller`) aborts with `serverShuttingDown()`, as under `serve()`.
 */
function shutdownEnd(controller: AbortController | undefined): (() => void) | undefined {
  return controller === undefined ? undefined : () => controller.abort(serverShuttingDown());
}

/**
 * The body of a live answer: `rest` as the client reads it, a failure logged (`report`), the
 * app's iterator closed, and thrown as the cut the client sees.
 */
function liveBody(rest: AsyncIterableIterator<Uint8Array>, report: (error: unknown) => void): AsyncIterableIterator<Uint8Array> {
  const error = async (failure: unknown): Promise<never> => {
    report(failure);
    await rest.return?.();
    throw cut(failure);
  };
  // `close` hands the app's `return()` on: the reader's close settles once it has.
  return wrapBody(rest, { error, close: (returned) => returned }, { async: true }) as AsyncIterableIterator<Uint8Array>;
}
