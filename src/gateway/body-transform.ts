/**
 * Changing a body as it is consumed ({@link transformBody}): each chunk of the wrapped body
 * becomes what a transformer answers for it, with the closing rules of {@link wrapBody}.
 *
 * @module
 */
import { type Body } from './types.ts';
import { checkChunk, describe, sendsHeadEarly } from './body.ts';
import { wrapBody } from './body-watch.ts';

/**
 * What a step of a {@link BodyTransformer} answers: one chunk, several (sent in order, one per
 * `next()`), or nothing (`undefined`, or `[]`). Empty chunks are left out (they would send
 * nothing, and a last empty chunk would keep a server from framing the body with its length),
 * but for the empty first chunk of an async body, which sends its head before any content
 * (docs/spec.md §6: an event stream waiting for its first event, as `proxy` sends one): when
 * nothing was handed on yet and the answer for it is empty, it is passed on as it is. A sync
 * body's (an array's `[empty, bytes]`) is left out too: it waits for nothing, and the
 * server can then send a one-chunk output with `Content-Length`. A promise of it is waited for.
 */
export type TransformedChunks = Uint8Array | readonly Uint8Array[] | undefined | void;

/** Handed to {@link BodyTransformer.transform}: ends the output early, as WHATWG's `TransformStreamDefaultController.terminate()`. */
export interface BodyTransformController {
  /**
   * Ends the transformed body after the chunks this `transform` call answers: the wrapped body
   * is closed (its `return()`, as on an early stop) once they have been taken, is read no
   * further, and `flush` is not called. For a middleware that cuts a body short (the first N
   * bytes, the head of a page).
   */
  terminate(): void;
}

/**
 * How {@link transformBody} changes a body, shaped like the transformer of a WHATWG
 * `TransformStream`, with the chunks answered instead of enqueued. Both methods are called as
 * methods (a class instance keeps its `this`), one call at a time, never after the body was
 * closed early.
 */
export interface BodyTransformer {
  /**
   * The chunks to send for one chunk of the wrapped body (a `Uint8Array`, checked). Leave it
   * out to pass chunks through unchanged. A throw (or rejection) closes the wrapped body and
   * reaches the consumer.
   */
  transform?: ((chunk: Uint8Array, controller: BodyTransformController) => TransformedChunks | PromiseLike<TransformedChunks>) | undefined;
  /**
   * The chunks to send once the wrapped body has ended, before the end (what a decoder or a
   * matcher held back). Not called when the body failed, was closed early or terminated. A
   * throw reaches the consumer; the wrapped body is over by then, so nothing is closed.
   */
  flush?: (() => TransformedChunks | PromiseLike<TransformedChunks>) | undefined;
}

type Step = IteratorResult<Uint8Array>;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
const NONE: readonly Uint8Array[] = Object.freeze([]);

/**
 * `body`, each chunk replaced by what `transformer.transform` answers for it, and followed by
 * what `transformer.flush` answers at its end (see {@link BodyTransformer}): the streaming body
 * rewrite of a middleware (upper-casing text, injecting a banner, cutting after N bytes,
 * re-chunking) without hand-writing an async generator around the app's body, which would
 * leave that body open when closed before its first `next()` (docs/spec.md §8).
 *
 * Pull-based: the wrapped body is asked for a chunk only when the chunks of the last one have
 * all been taken, so a slow client slows the app down (spec §7.3). The answer is always async,
 * a sync body's too: a transformer may answer a promise at any chunk, which a sync iterator
 * could not wait for. Servers still send a body whose first chunk is followed by its end within
 * a turn of the event loop with `Content-Length` (spec §7.1), so an array body transformed into
 * one chunk keeps one, of the new length (more chunks go out chunked).
 *
 * Closing follows {@link wrapBody}, on which it is built: the wrapped body is opened at the
 * first `next()` and closed (its `return()`: a generator's `finally` runs, a Node stream is
 * destroyed, a `ReadableStream` cancelled) exactly once when the output stops early: by the
 * consumer's `return()` (also one before the first `next()`, or while a `next()` is pending;
 * it answers once the body's `return()` has), by a `transform` that throws or answers
 * something that is not chunks, or by {@link BodyTransformController.terminate}. It is never
 * closed once it has ended or failed. Errors propagate as from a `for await` generator doing
 * the same: the body's own failure and a throw of `transform` or `flush` reject the `next()`
 * (a server then cuts the connection, or answers 500 before the head); what the body's
 * `return()` throws rejects the consumer's `return()` (a server logs it) or, after
 * `terminate()`, the last `next()`; when a `transform` error is already on its way, it is
 * kept for a later `return()` (servers call one after a failure). A transformer's own resources are freed by wrapping the answer in {@link wrapBody}
 * (`end`, `close`, `error`). One `next()` at a time, as servers call it (spec §6).
 *
 * Nothing is thrown here. The `next()` rejects with `TypeError` for a body that is not an
 * iterable, a chunk of it that is not a `Uint8Array`, and a transformer answer that is neither
 * a `Uint8Array`, an array of them nor `undefined` (a string, say: encode it first).
 *
 * WSGI: the generator `(f(c) for c in app_iter)` a rewriting middleware returns, wrapped in
 * Werkzeug's `ClosingIterator(…, app_iter.close)` so the app's iterable is closed whatever
 * happens (a bare generator never closes it in Python, nor does a WebOb `resp.app_iter`
 * replaced by one; in JavaScript `for await` does, except when the generator is closed before
 * it started). WHATWG: `body.pipeThrough(new TransformStream(transformer))`.
 *
 * @example
 * ```ts
 * import { type App } from 'tsgi';
 * import { transformBody } from 'tsgi/middleware';
 *
 * // Upper-cases text/plain answers as they stream.
 * const upperCase = (app: App): App => async (environ, startResponse) => {
 *   let plain = false;
 *   const body = await app(environ, (status, headers, error) => {
 *     const type = headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '';
 *     plain = /^text\/plain\b/i.test(type);
 *     // 'ﬁ' (3 bytes) becomes 'FI' (2): the app's Content-Length would be wrong (spec §8); the server frames the new body.
 *     const kept = plain ? headers.filter(([name]) => name.toLowerCase() !== 'content-length') : headers;
 *     startResponse(status, kept, error);
 *   });
 *   const decoder = new TextDecoder();   // UTF-8; holds a character split between chunks
 *   const encoder = new TextEncoder();
 *   return transformBody(body, {
 *     // startResponse has been called by the first chunk (it may be called lazily, spec §8)
 *     transform: (chunk) => (plain ? encoder.encode(decoder.decode(chunk, { stream: true }).toUpperCase()) : chunk),
 *     flush: () => (plain ? encoder.encode(decoder.decode().toUpperCase()) : undefined),
 *   });
 * };
 * ```
 */
export function transformBody(body: Body, transformer: BodyTransformer): AsyncIterableIterator<Uint8Array> {
  /** What the body's `return()` threw, told by wrapBody's closeError before its `return()` answers. */
  const closeFailures: unknown[] = [];
  /** The body's empty first chunk is passed on (an array's is not: see sendsHeadEarly). */
  const early = sendsHeadEarly(body);
  const source = wrapBody(body, { closeError: (error) => void closeFailures.push(error) }, { async: true })[Symbol.asyncIterator]();
  let closing: Promise<unknown[]> | undefined;
  /** Closes the body (once: wrapBody calls no second `return()`, nor one after its end); answers what that threw. */
  const closeSource = (): Promise<unknown[]> => (closing ??= source.return!().then(() => closeFailures));
  /** Closes the body, throwing what its `return()` threw (the first time only). */
  const closeOrThrow = async (): Promise<IteratorReturnResult<undefined>> => {
    const failures = await closeSource();
    if (failures.length > 0) throw failures.splice(0)[0];
    return DONE;
  };
  let queue: readonly Uint8Array[] = NONE;
  let at = 0;
  /** True once a chunk was handed out (the head with it). */
  let started = false;
  /** Nothing more is asked of the body: it ended, failed, was closed, or the output was terminated. */
  let finished = false;
  /** The consumer called `return()`: nothing more is handed out. */
  let closed = false;
  let terminated = false;
  const controller: BodyTransformController = {
    terminate() {
      terminated = true;
    },
  };
  const transform = async (chunk: unknown): Promise<readonly Uint8Array[]> => {
    try {
      const input = checkChunk(chunk);
      const chunks = chunksOf(transformer.transform === undefined ? input : await transformer.transform(input, controller), 'transform');
      // The body's empty first chunk sends its head now (spec §6): not held until the first output.
      return chunks.length === 0 && input.byteLength === 0 && !started && early ? [input] : chunks;
    } catch (error) {
      finished = true;
      await closeSource(); // the error on its way goes first; what the close threw waits for a later return()
      throw error;
    }
  };
  const pull = async (): Promise<Step> => {
    for (;;) {
      if (closed) return DONE;
      if (at < queue.length) {
        started = true;
        return { done: false, value: queue[at++]! };
      }
      if (finished) return DONE;
      if (terminated) {
        finished = true;
        return closeOrThrow();
      }
      let step: Step;
      try {
        step = await source.next();
      } catch (error) {
        finished = true; // the body failed: it is over, nothing to close
        if (closed) return DONE; // failing as our close ends it (a cancelled read): the close was ours
        throw error;
      }
      if (closed) return DONE;
      let chunks: readonly Uint8Array[];
      if (step.done) {
        finished = true;
        chunks = chunksOf(await transformer.flush?.(), 'flush');
      } else {
        chunks = await transform(step.value);
      }
      queue = chunks;
      at = 0;
    }
  };
  return {
    next: pull,
    async return(): Promise<IteratorReturnResult<undefined>> {
      if (closed) return DONE;
      closed = true;
      finished = true;
      queue = NONE;
      return closeOrThrow();
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** A transformer's answer as a list of chunks, empty ones left out. @throws TypeError for anything else. */
function chunksOf(answer: unknown, from: 'transform' | 'flush'): readonly Uint8Array[] {
  if (answer === undefined) return NONE;
  if (answer instanceof Uint8Array) return answer.byteLength === 0 ? NONE : [answer];
  if (Array.isArray(answer)) {
    for (const chunk of answer) {
      if (!(chunk instanceof Uint8Array)) throw new TypeError(`transformBody: ${from} answered an array holding ${describe(chunk)}: expected Uint8Array chunks`);
    }
    return answer.some((chunk: Uint8Array) => chunk.byteLength === 0) ? answer.filter((chunk: Uint8Array) => chunk.byteLength > 0) : answer;
  }
  throw new TypeError(`transformBody: ${from} answered ${describe(answer)}: expected a Uint8Array, an array of them, or undefined`);
}
