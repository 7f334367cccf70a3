/**
 * A request body counted as it is read, for a limit decided while streaming (`serve()`'s
 * `maxBodySize`, `req.stream({ maxBodySize })`).
 *
 * @module
 */

/** Options of {@link limitInput}. */
export interface LimitInputOptions {
  /**
   * `input` is live (docs/spec.md §3): each of its iterations reads on from where the last one
   * stopped, as the Node adapter's `tsgi.input` does. The limit then holds for the bytes of all
   * its iterations together, so an app that reads the body in several loops (a `for await` left
   * with `break`, then another) is stopped at the limit as one loop is; once passed, every
   * later `next()` throws the same error at once. Default false: each iteration is counted from
   * its start, as for a replayable input (a `BufferedInput` yields the whole body each time).
   */
  live?: boolean | undefined;
}

/**
 * `input` counted as it is read: the `next()` whose chunk would bring the total past
 * `maxBodySize` bytes throws what `tooLarge()` answers (an `HTTPContentTooLarge`, so
 * `req.bytes()`, `req.form()` and `Request.application` answer 413; a raw app that lets it
 * propagate gets a 413 from the server), after `input`'s iterator was closed (`return()`), so
 * nothing of it listens to the stream. The rest of the body is left unread: the server
 * closes the connection after the answer. `return()` is passed on, as a `break` out of the
 * input would be. A body of exactly `maxBodySize` bytes passes.
 *
 * @param maxBodySize - the most bytes handed over (per iteration, or in all with `options.live`).
 * @param tooLarge - makes the error thrown past the limit (called once per iteration that
 *   passes it; with `options.live`, once).
 */
export function limitInput(
  input: AsyncIterable<Uint8Array>,
  maxBodySize: number,
  tooLarge: () => unknown,
  options: LimitInputOptions = {},
): AsyncIterable<Uint8Array> {
  const live = options.live === true;
  /** With `live`: the bytes all iterations took, and the error once the limit was passed. */
  const shared: { total: number; passed?: { error: unknown } } = { total: 0 };
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      const source = input[Symbol.asyncIterator]();
      const count = live ? shared : { total: 0 };
      return {
        async next() {
          if (count.passed !== undefined) throw count.passed.error;
          const step = await source.next();
          if (!step.done) {
            count.total += step.value.byteLength;
            if (count.total > maxBodySize) {
              // A `for await` does not call `return()` on a throwing `next()`: let go of the stream here.
              await source.return?.();
              const error = tooLarge();
              if (live) count.passed = { error };
              throw error;
            }
          }
          return step;
        },
        async return(value?: unknown) {
          return (await source.return?.(value)) ?? { done: true, value: undefined };
        },
      };
    },
  };
}
