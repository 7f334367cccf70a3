/**
 * One request to the upstream through undici's `dispatch`: the response head as a promise and
 * the response body as a pull-based async iterator, with backpressure both ways.
 *
 * @module
 */
import { type Dispatcher, undici } from './undici.ts';
import { endingReset } from './upstream-socket.ts';
import type { UpstreamTiming } from '../gateway/upstream-timing-key.ts';

/** The upstream's response head. */
export interface UpstreamHead {
  statusCode: number;
  statusMessage: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Bytes queued from the upstream before reading from its socket pauses. Reading resumes only
 * once the queue is empty, not as soon as it is below this: undici puts what it has not parsed
 * back into the socket when paused, and reads it all again, with what came since, as one new
 * buffer when resumed, so resuming for every chunk taken (a steady client slower than an
 * upstream of small chunks: an event stream under `compress`) made it read ahead without end,
 * each queued chunk keeping a copy of megabytes alive (1 GB for 20 MB of events).
 */
const HIGH_WATER = 64 * 1024;

type Step = IteratorResult<Uint8Array, undefined>;
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
/** The `head` of an exchange that is over. */
const RELEASED: Promise<never> = Promise.reject(new Error('the upstream exchange is over'));
RELEASED.catch(() => undefined);
const IGNORE = (): void => undefined;

/** Why an exchange was closed by this side (the client left, or the body was closed early). */
export class ExchangeClosed extends Error {
  override name = 'ExchangeClosed';
}

/**
 * The exchange's time limits, ms: `headers` for the response head, counted from the start of
 * the request, stopped while the request body waits on the client and restarted by each chunk
 * of it sent; `body` for the longest
 * pause between two chunks of the response body while the client keeps up.
 */
export interface ExchangeTimeouts {
  headers: number;
  body: number;
}

/** Fires an exchange's timeout (a plain function, so arming the timer allocates no closure). */
function expire(exchange: UpstreamExchange): void {
  exchange.timedOut();
}

/**
 * A dispatch handler (undici's controller API) that exposes the upstream's final answer as
 * {@link UpstreamExchange.head} (interim 1xx answers are dropped, a 103's fields told to
 * {@link UpstreamExchange.onEarlyHints}; a status past 599 fails it with an error of code
 * `HPE_INVALID_STATUS`) and, once the head is in,
 * as an async iterator of body chunks (none for a 204 or 304, whatever follows them).
 * Chunks queue up to 64 KiB; past that the socket is paused until the consumer catches up, so
 * a slow client slows the upstream down instead of filling memory. Closing the iterator early
 * (`return()`) or calling {@link UpstreamExchange.abort} aborts the upstream request, which
 * closes its connection.
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler, AsyncIterableIterator<Uint8Array> {
  /**
   * Settles with the response head, or rejects with the error that came first. Take it before
   * dispatching: once the exchange is over it is released (see {@link UpstreamExchange.release}),
   * and a dispatcher may be over at once (a `MockAgent` answers synchronously).
   */
  get head(): Promise<UpstreamHead> {
    return this.headPromise;
  }
  private headPromise: Promise<UpstreamHead>;
  private headSettled = false;
  /** Called once the exchange is over, however it ended. */
  onFinish: (() => void) | undefined = undefined;
  /**
   * Where the exchange writes its times (see {@link UpstreamExchange.timeFrom}): the head's
   * when it comes in, the end's when the exchange is over.
   */
  private timing: UpstreamTiming | undefined = undefined;
  /** `performance.now()` when the request was first sent, for {@link timing}. */
  private sentAt = 0;
  /** Called with the fields of each interim `103 Early Hints` before the head; must not throw. */
  onEarlyHints: ((headers: UpstreamHead['headers']) => void) | undefined = undefined;
  private resolveHead!: (head: UpstreamHead) => void;
  private rejectHead!: (error: Error) => void;
  private controller: Dispatcher.DispatchController | undefined = undefined;
  private closedWith: Error | undefined = undefined;
  /**
   * Why the client left (its signal's reason), while nobody closed the body: a read of the
   * body past the queued chunks rejects with it, so a layer reading the answer whole (a
   * filter's `res.json()`) never takes what came before for the whole answer.
   */
  private leftWith: unknown = undefined;
  private headIn = false;
  private bodiless = false;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private ended = false;
  private failure: Error | undefined = undefined;
  private uploadFailure: unknown = undefined;
  /**
   * True while the answer may be an early one (RFC 9112 §9.5), whose reset may be §9.6's: from
   * {@link uploading} until {@link uploaded} (part of the request body is still to go), and for
   * good when the head came before that.
   */
  private uploadOpen = false;
  private wake: (() => void) | undefined = undefined;
  /**
   * True from {@link waitingForClient} until {@link requestProgress}: a read of the request body
   * is pending on the client. undici reads the body once before the request starts (for its
   * length), so {@link onRequestStart} arms no timer while this holds.
   */
  private clientPending = false;

  /**
   * The one timer of the exchange (head, then body pauses), or undefined when none runs.
   * undici's own `headersTimeout` and `bodyTimeout` are left off: they make a coarse timer
   * object per request that lives until undici's next timer sweep, long enough for V8 to
   * promote it, and that steady promotion makes V8 grow its young generation (measured
   * 2026-12-03, small answers at 10,000 a second: 70–150 KB promoted per scavenge with them,
   * none without). A Node timer, cleared as soon as it is not needed, dies young.
   */
  private timer: NodeJS.Timeout | undefined = undefined;
  private readonly timeouts: ExchangeTimeouts | undefined;

  constructor(timeouts?: ExchangeTimeouts) {
    this.timeouts = timeouts;
    this.headPromise = new Promise<UpstreamHead>((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
    });
    this.headPromise.catch(() => undefined);
  }

  /**
   * Records in `timing` the milliseconds from `sentAt` (a `performance.now()`) to the final
   * head (`header`) and to the end of the exchange, however it ended (`response`).
   */
  timeFrom(timing: UpstreamTiming, sentAt: number): void {
    this.timing = timing;
    this.sentAt = sentAt;
  }

  /** Aborts the upstream request (at once, or as soon as it starts); a no-op once it ended. */
  abort(reason: Error): void {
    if (this.ended || this.failure !== undefined || this.closedWith !== undefined) return;
    this.closedWith = reason;
    // Not started on a connection yet (waiting for one of the pool's): settled now, as a
    // timeout settles it (undici drops the request when its turn comes, see onRequestStart),
    // not when a connection frees, which behind long streams may be hours.
    if (this.controller === undefined) return this.onResponseError(undefined, reason);
    if (!this.controller.aborted) this.controller.abort(reason);
    this.finish();
  }

  /**
   * Aborts the upstream request because the client left (`reason`: its signal's), after which
   * the body's reads reject with `reason` once the queued chunks are taken, instead of ending
   * as if the answer were whole; a no-op once the exchange ended.
   */
  clientLeft(reason: unknown): void {
    if (this.ended || this.failure !== undefined || this.closedWith !== undefined) return;
    this.leftWith = reason ?? new ExchangeClosed('the client went away');
    this.abort(new ExchangeClosed('the client went away'));
  }

  /**
   * Stops the head's timeout while the request body waits on the client: a slow upload is no
   * slow upstream (the server's own limits deal with a client that stalls).
   */
  waitingForClient(): void {
    this.clientPending = true;
    if (!this.headIn) this.disarm();
  }

  /** Starts the head's timeout afresh: a chunk of the request body (or its end) went to the upstream. */
  requestProgress(): void {
    this.clientPending = false;
    if (this.headIn || this.controller === undefined || this.timeouts === undefined) return;
    if (this.ended || this.failure !== undefined || this.closedWith !== undefined) return;
    this.arm(this.timeouts.headers);
  }

  /** Records that the request has a body, still to be sent (see {@link uploaded}). */
  uploading(): void {
    this.uploadOpen = true;
  }

  /**
   * Records that the whole request body was read from the client and handed to the upstream's
   * connection. An answer whose head came before is still an early one: the upstream answered
   * without waiting for the upload, which it may leave unread (in its socket's buffers when the
   * upload was small, or the rest sent after the head).
   */
  uploaded(): void {
    if (!this.headIn) this.uploadOpen = false;
  }

  /**
   * Records that the request body could not be read from the client (it broke off, sent a
   * malformed body, or went past the server's `maxBodySize`): the upload, and so the
   * exchange, fails because of the client, not the upstream. The first error is kept.
   */
  uploadFailed(error: unknown): void {
    this.uploadFailure ??= error;
  }

  /** The error reading the request body from the client threw, or undefined (see {@link uploadFailed}). */
  get uploadError(): unknown {
    return this.uploadFailure;
  }

  /**
   * Starts the head's timeout once the request is handed to the dispatcher: until undici
   * starts it on a connection ({@link onRequestStart}, which starts the timeout afresh), it
   * waits for a free one of the pool's (`connections`), and that wait is the upstream's too.
   */
  dispatched(): void {
    if (this.controller !== undefined || this.timeouts === undefined || this.clientPending) return;
    if (this.ended || this.failure !== undefined || this.closedWith !== undefined) return;
    this.arm(this.timeouts.headers);
  }

  /** The timer's end: the head, or the next body chunk, did not come in time. */
  timedOut(): void {
    this.timer = undefined;
    if (this.ended || this.failure !== undefined || this.closedWith !== undefined) return;
    const { errors } = undici();
    const error = this.headIn
      ? new errors.BodyTimeoutError()
      : this.controller === undefined
        ? new errors.HeadersTimeoutError('Headers Timeout Error: no connection to the upstream was ready within headersTimeout (all of the pool\'s busy, or connecting)')
        : new errors.HeadersTimeoutError();
    if (this.controller && !this.controller.aborted) this.controller.abort(error);
    else this.onResponseError(undefined, error);
  }

  /** Starts the timer afresh for `ms` milliseconds. */
  private arm(ms: number): void {
    this.disarm();
    this.timer = setTimeout(expire, ms, this);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** True when {@link abort} was called before the exchange ended. */
  get aborted(): boolean {
    return this.closedWith !== undefined;
  }

  // Dispatch handler (called by undici).

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Aborted (the client left), or timed out waiting for a connection (answered 504 already),
    // before a connection took it: not sent. Thrown, not `controller.abort()`: undici then drops
    // the request and leaves the connection as it is (client-h1's `writeH1` catches it), where an
    // abort destroys that connection, a healthy kept-alive one the pool had just freed for it, so
    // every request given up in the queue cost the upstream a new connection.
    const stopped = this.closedWith ?? this.failure;
    if (stopped !== undefined) throw stopped;
    this.controller = controller;
    if (this.timeouts !== undefined && !this.clientPending) {
      // The wait for a connection is over: the head's time starts afresh (the same timer, as
      // {@link dispatched} armed it for `headers` too: no second one made).
      if (this.timer !== undefined) this.timer.refresh();
      else this.arm(this.timeouts.headers);
    }
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: UpstreamHead['headers'], statusMessage?: string): void {
    // An interim answer: the final one follows. A 103 Early Hints goes to `onEarlyHints` (the
    // proxy passes its links on); the others (RFC 9110 §15.2) are the server's, and dropped.
    if (statusCode < 200) {
      if (statusCode === 103 && this.onEarlyHints !== undefined && !this.headIn && this.closedWith === undefined) this.onEarlyHints(headers);
      return;
    }
    // RFC 9110 §15: a code past 599 is invalid, and a client takes it for a 5xx; undici (llhttp)
    // reads 100–999. Passed on, `new Response()` refuses it (the fetch adapter's 500) and a
    // browser may too: a malformed answer, as one undici refuses.
    if (statusCode > 599) {
      // llhttp's code for a status line it refuses: `classify` takes it for a malformed answer.
      const error = Object.assign(new Error(`invalid status code ${statusCode}: a status is 100 to 599 (RFC 9110 §15)`), { code: 'HPE_INVALID_STATUS' });
      if (this.controller && !this.controller.aborted) this.controller.abort(error);
      else this.onResponseError(undefined, error);
      return;
    }
    this.headIn = true;
    if (this.timeouts !== undefined) this.arm(this.timeouts.body);
    // RFC 9110 §6.4.1: a 204 or 304 has no content, whatever its Content-Length says (a 304's
    // is the 200's length, which undici would take for a body that never came, failing the
    // request later with a length mismatch).
    this.bodiless = statusCode === 204 || statusCode === 304;
    if (this.timing !== undefined) {
      this.timing.header = performance.now() - this.sentAt;
      // Such an answer is whole with its head, as nginx times it (its length is 0): undici's
      // late end or length mismatch does not move the end of the exchange.
      if (this.bodiless) {
        this.timing.response = this.timing.header;
        this.timing = undefined;
      }
    }
    this.headSettled = true;
    this.resolveHead({ statusCode, statusMessage: statusMessage ?? '', headers });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Uint8Array): void {
    // undici hands over empty chunks too (about 15 in a 1 MiB answer): nothing to pass on.
    if (this.closedWith !== undefined || chunk.byteLength === 0) return;
    this.queue.push(chunk);
    this.queued += chunk.byteLength;
    if (this.queued >= HIGH_WATER) {
      // A client slower than the upstream is no upstream pause: no timeout while paused.
      controller.pause();
      this.disarm();
    } else this.timer?.refresh();
    this.notify();
  }

  onResponseEnd(): void {
    // undici ends an answer without a length at a reset of its connection too (see
    // endingReset): the upstream failed in the middle of it. Unless the answer began, or
    // ended, while part of the upload was still to go: the upstream answered before reading it
    // all, and its kernel resets a connection closed with data unread (RFC 9112 §9.6), so the
    // answer may well be whole.
    const reset = endingReset();
    if (reset !== undefined && !this.uploadOpen) return this.onResponseError(undefined, reset);
    this.ended = true;
    this.notify();
    this.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (!this.headIn) {
      this.headSettled = true;
      this.rejectHead(this.closedWith ?? error);
    }
    this.failure ??= error;
    this.notify();
    this.finish();
  }

  // The body (called by the server, once the head is in).

  next(): Promise<Step> {
    if (this.bodiless) return Promise.resolve(DONE);
    const chunk = this.queue.shift();
    if (chunk !== undefined) {
      this.queued -= chunk.byteLength;
      if (this.queued === 0 && this.controller?.paused) {
        this.controller.resume();
        if (this.timeouts !== undefined) this.arm(this.timeouts.body);
      }
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.leftWith !== undefined) return Promise.reject(this.leftWith);
    if (this.closedWith !== undefined || this.ended) return Promise.resolve(DONE);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    }).then(() => this.next());
  }

  return(): Promise<Step> {
    this.leftWith = undefined;
    this.abort(new ExchangeClosed('the response body was closed before its end'));
    this.queue = [];
    this.notify();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private finish(): void {
    this.disarm();
    if (this.timing !== undefined) {
      this.timing.response = performance.now() - this.sentAt;
      this.timing = undefined;
    }
    if (this.headSettled) this.release();
    const done = this.onFinish;
    this.onFinish = undefined;
    done?.();
  }

  /**
   * Lets go of what the exchange holds once it is over and its head was handed on: undici's
   * connection keeps up to 256 finished requests, and their handlers, before it drops them, so
   * what a handler still holds then outlives V8's young-generation collections and is
   * promoted. Under a steady load of small answers that promotion grew the young generation to
   * its maximum within 30 s (RSS about 310 MB); released, nothing is promoted (RSS about
   * 185 MB; measured 2026-12-03, bench/history.md).
   */
  private release(): void {
    this.controller = undefined;
    this.headPromise = RELEASED;
    this.resolveHead = this.rejectHead = IGNORE;
  }
}
