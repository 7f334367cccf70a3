/**
 * Sending a streamed body with backpressure, and closing its iterator when the client leaves.
 *
 * @module
 */
import { type Body } from '../../gateway/types.ts';
import { type BodyIterator, checkChunk, closeBody, isThenable, openBody } from '../../gateway/body.ts';
import type { ExchangeState } from './state.ts';
import { sendHead } from './head.ts';
import { markBodyStarted } from './body-started.ts';
import { endWith } from './end.ts';
import { closeAfterResponse } from './close-after-response.ts';
import { guardSend } from './send-timeout.ts';
import { http2Stream, responseGone } from './http2-compat.ts';
import { bodyClosedEarly, isAbort, serverShuttingDown, unlessAbort } from '../../gateway/abort.ts';
import { abortRequestSignal } from '../../gateway/signal-controller.ts';
import { STOP, type StreamStop, streamStopOf } from '../../gateway/shutdown.ts';
import { settleHead } from '../../gateway/server-status.ts';
import { askSecondStep, secondStepInTurn } from '../../gateway/second-step.ts';
import { isBodyFailure } from '../../exceptions/body-failure.ts';

type Step = IteratorResult<Uint8Array>;

/**
 * Sends a streamed body with backpressure: the next chunk is asked for only once the last
 * one was accepted. The headers wait for the first chunk; a body that ends at its second
 * step is sent with Content-Length. An empty first chunk sends them at once (spec §6: it
 * commits the head), its second step not waited for, so a failure after it is a cut. When the client leaves, the iterator's `return()` is
 * called at once (even while a `next()` is pending), in the request's async context, and
 * nothing more is asked of it.
 * Errors go to `exchange.fail()`; this never rejects, and settles once the body ended or its
 * `return()` settled; a failure before the head is written (the body's opening, its
 * first or second step, a bad chunk in hand) is told as one of a held head (`fail`'s `held`:
 * the server's answer keeps the head's fields of no representation). The second step is asked
 * for before the head goes out (but after an empty first chunk); when the exchange ends without taking it (the client left, a
 * HEAD answer ended), a failure of that step is still logged, as one while streaming would be.
 *
 * A `text/event-stream` body ends when `exchange.shutdown` begins (the server's graceful
 * shutdown; one with a `Content-Encoding` is first given `CODED_STREAM_GRACE` to end by
 * itself, as `compress` ends it, its coding finished), even while it waits for its next event
 * (its first one too, when its fields were given before it: it is then answered with an
 * empty body; a body that reaches the server once the shutdown began, its app having answered
 * after it, is given a turn of the event loop for an event it has at once), while the head
 * waits for its second step (the head then goes out with the first chunk), or for the client
 * to read: its `return()` is called and the response ends as a
 * complete one (the last chunk, or the end of the HTTP/2 stream), so an `EventSource`
 * reconnects, to another worker, where a stream cut at the shutdown's timeout would have held
 * it until then. Such a body also stops waiting at once when the client leaves.
 *
 * When this ends the answer before its body's end for its own reasons (that end of an event
 * stream: `serverShuttingDown()`; the rest of a HEAD's, 204's or 304's body:
 * `bodyClosedEarly()`), the request's `tsgi.signal` aborts with that reason before `return()`
 * is called, so a source that waits on it alone stops at once.
 */
export async function pump(exchange: ExchangeState, body: Body): Promise<void> {
  let iterator: BodyIterator;
  try {
    iterator = openBody(body);
  } catch (error) {
    // The app answered: a head it gave is held, as for a failure of the body's first step.
    exchange.fail(error, true);
    return;
  }
  const res = exchange.res;
  /** True once this pump ended the answer before the body's end, aborting `tsgi.signal`. */
  let abandoned = false;
  // Closing the body after the client left, or after this pump aborted `tsgi.signal`: an abort
  // is the body stopping as asked.
  const onError = (error: unknown) => {
    const asked = isAbort(error) && (abandoned || responseGone(res));
    if (!asked && !isBodyFailure(exchange.environ, error)) exchange.log(error);
  };
  let releasing: Promise<void> | undefined;
  const release = () => (releasing ??= closeBody(iterator, onError));
  if (exchange.headGone()) {
    await release();
    return;
  }
  let closed = false;
  /** True once this pump ended the response itself (`res.end()`): a `close` then is no client leaving. */
  let finished = false;
  /** True once the body answered done: it is over, not closed (spec §6), even when its head is refused. */
  let ended = false;
  let wake: (() => void) | undefined;
  const onDrain = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  /** An event stream's end at the shutdown (see `watchEventStream`). */
  let stop: StreamStop | undefined;
  const closeNow = () => {
    // Not `res.writableFinished`: an HTTP/2 response reads as finished once the client reset
    // its stream, and the body (an idle event stream) would then never be closed.
    if (finished || closed) return;
    closed = true;
    res.off('drain', onDrain);
    release();
    onDrain();
    stop?.stop();
  };
  // The body is closed in the request's async context, not the connection's: its `finally`
  // and `accessLog`'s line see the store set around the `request` event (OpenTelemetry's span).
  const context = exchange.requestContext();
  const onClose = () => context.runInAsyncScope(closeNow);
  /** `step`, or {@link STOP} once an event stream is to end (the client left, the shutdown). */
  const nextOf = (step: Step | PromiseLike<Step>) => (stop === undefined ? step : stop.race(step));
  /** True once the fields were looked at for an event stream (see `watchEventStream`). */
  let watched = false;
  /** Has an event stream end at the shutdown, once its fields are given: a wait for the client ends then too. */
  const watchEventStream = () => {
    watched = true;
    // A coded one that its coding layer (`compress`) ended at the shutdown had its body closed
    // there: its `tsgi.signal` aborts once it ended, so a source waiting on it alone stops.
    stop = streamStopOf(exchange.shutdown, exchange.headers!, exchange.environ, onDrain, () => abortRequestSignal(exchange.environ, serverShuttingDown()));
  };
  /**
   * Ends the response as a complete one, and closes the body: the shutdown's end of an event
   * stream. `tsgi.signal` aborts first, so a source waiting on it alone stops at once.
   */
  const endNow = async () => {
    res.end();
    finished = true;
    // Now, not after the body's cleanup below: once the answer is sent Node detaches the socket
    // from `res` and keeps the connection alive (a source's `finally` may take that long).
    if (exchange.shutdown?.signal.aborted === true) closeAfterResponse(res);
    abandoned = true;
    abortRequestSignal(exchange.environ, serverShuttingDown());
    await release();
  };
  const drain = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
      res.once('drain', onDrain);
      guardSend(res, exchange.sendTimeout);
    });
  res.once('close', onClose);
  // On HTTP/2 the stream's own `close` too: for a HEAD request (a stream Node ended at once),
  // the response emits none when the client resets the stream.
  const stream = http2Stream(res);
  stream?.once('close', onClose);
  /** The second step, asked for ahead and not yet taken: its failure must still be logged. */
  let untaken: PromiseLike<Step> | undefined;
  /**
   * True while the head the app gave is held, unwritten, for the body's first two steps: a
   * failure then keeps the head's fields (`fail`); false once it is being sent, so a head that
   * is refused gets a bare 500.
   */
  let held = false;
  try {
    // Fields given before the first chunk: an event stream may end at the shutdown before it,
    // also one whose app answered once the shutdown began (see `StreamStop`: an event it has at
    // once is sent first).
    if (exchange.headers !== undefined) watchEventStream();
    held = true;
    const firstStep = iterator.next() as Step | Promise<Step>;
    const first = await nextOf(firstStep);
    if (closed) return;
    if (first === STOP) {
      // No event yet: an empty answer, which `EventSource` reconnects after, as after any end.
      untaken = firstStep as Promise<Step>;
      held = false;
      sendHead(exchange, 0);
      return await endNow();
    }
    let step = first;
    if (step.done) {
      ended = true;
      held = false;
      sendHead(exchange, 0);
      res.end();
      finished = true;
      return;
    }
    let chunk = checkChunk(step.value);
    markBodyStarted(res);
    // None after an empty first chunk: the head goes out now, unframed by a length, and a
    // failure from there on is a cut.
    const pending = askSecondStep(iterator, chunk);
    let second: Step | undefined;
    if (pending !== undefined) {
      // An event stream ends at the shutdown also when it begins while the head waits for this
      // step: the head goes out then, with the first chunk, and the stream ends after it.
      if (!watched && exchange.headers !== undefined) watchEventStream();
      if (isThenable<Step>(pending)) {
        const waited = await secondStepInTurn(pending, stop);
        second = waited === STOP ? undefined : waited;
        if (second === undefined) untaken = pending;
      } else second = pending;
      if (closed) return;
      if (second !== undefined) {
        if (second.done) {
          ended = true;
          held = false;
          sendHead(exchange, chunk.byteLength);
          // Node drops the bytes of a HEAD, 204 or 304 answer itself, not those of a 205.
          if (exchange.noBody) res.end();
          else endWith(res, chunk);
          // As an array body's: a client that stops reading a large chunk is cut (sendTimeout).
          guardSend(res, exchange.sendTimeout);
          finished = true;
          return;
        }
        checkChunk(second.value); // a bad chunk still in hand answers 500, not a cut
      }
    }
    held = false;
    sendHead(exchange, undefined);
    if (exchange.noBody) {
      res.end();
      // The rest of the body is not wanted (a HEAD answered with the GET's fields): its source
      // is told before it is closed (in `finally`), so one waiting on `tsgi.signal` stops at once.
      abandoned = true;
      abortRequestSignal(exchange.environ, bodyClosedEarly());
      return;
    }
    if (!watched) watchEventStream();
    // HTTP/2 only (see ExchangeState.declaredStreamLength): bytes the body may still send.
    let allowed = exchange.declaredStreamLength;
    if (allowed !== -1) allowed = withinDeclared(allowed, chunk, exchange.declaredStreamLength);
    if (!res.write(chunk)) await drain();
    if (closed) return;
    untaken = undefined;
    const asked = pending ?? (iterator.next() as Step | Promise<Step>);
    let next: Step | typeof STOP = second ?? (await nextOf(asked));
    if (next === STOP) untaken = asked as Promise<Step>;
    for (;;) {
      if (closed) return;
      if (next === STOP) return await endNow();
      const step = next;
      if (step.done) {
        ended = true;
        if (allowed > 0) throw lengthMismatch(exchange.declaredStreamLength, exchange.declaredStreamLength - allowed);
        res.end();
        finished = true;
        return;
      }
      chunk = checkChunk(step.value);
      if (allowed !== -1) allowed = withinDeclared(allowed, chunk, exchange.declaredStreamLength);
      if (!res.write(chunk)) {
        await drain();
        if (closed) return;
      }
      // An event in hand when the shutdown began is sent, then the stream ends.
      if (stop?.due === true) return await endNow();
      const pendingStep = iterator.next() as Step | Promise<Step>;
      next = await nextOf(pendingStep);
      // A step the stop left pending is not taken: its failure must still be logged.
      if (next === STOP) untaken = pendingStep as Promise<Step>;
    }
  } catch (error) {
    exchange.fail(error, held);
  } finally {
    // The head is out (`sendHead` settled it), or the server's own answer (`fail`) replaced it,
    // or the client left before it: a line waiting for that goes.
    settleHead(exchange.environ);
    res.off('close', onClose);
    stream?.off('close', onClose);
    stop?.dispose();
    // An event stream that ended once the shutdown began (ended by it, or by its coding layer
    // finishing first) takes its connection along: the client's reconnect goes elsewhere (the
    // shutdown's own end, `endNow`, did so already).
    if (stop !== undefined && !abandoned && (finished || ended) && exchange.shutdown?.signal.aborted === true) closeAfterResponse(res);
    // Left untaken by the shutdown's end: an abort is the body stopping on the signal as asked.
    untaken?.then(undefined, stop?.due === true ? unlessAbort(onError) : onError);
    if (!finished && !ended) await release(); // settles once the body's finally has run (see ServerState.pumping)
  }
}

/**
 * The bytes still allowed once `chunk` is sent, when that leaves some or none.
 *
 * @throws the length-mismatch error when `chunk` goes past them (it is then not sent).
 */
function withinDeclared(allowed: number, chunk: Uint8Array, declared: number): number {
  if (chunk.byteLength > allowed) throw lengthMismatch(declared, declared - allowed + chunk.byteLength);
  return allowed - chunk.byteLength;
}

/** The error of a body that does not add up to its declared `Content-Length` (the code Node's HTTP/1.1 check uses). */
function lengthMismatch(declared: number, sent: number): Error {
  const message = `Response body of ${sent > declared ? 'at least ' : ''}${sent} bytes does not match the Content-Length of ${declared} bytes set in the header`;
  return Object.assign(new Error(message), { code: 'ERR_HTTP_CONTENT_LENGTH_MISMATCH' });
}
