/**
 * A request body counted as it is read, for a limit decided while streaming (`serve()`'s
 * `maxBodySize`, `req.stream({ maxBodySize })`).
 *
 * @module
 */

/**
 * `input` counted as it is read: the `next()` whose chunk would bring the total past
 * `maxBodySize` bytes throws what `tooLarge()` answers (an `HTTPContentTooLarge`, so
 * `req.bytes()`, `req.form()` and `Request.application` answer 413; a raw app that lets it
 * propagate gets a 413 from the server), after `input`'s iterator was closed (`return()`), so
 * nothing of it listens to the stream. The rest of the body is left unread: the server
 * closes the connection after the answer. `return()` is passed on, as a `break` out of the
 * input would be.
 *
 * @param maxBodySize - the most bytes handed over.
 * @param tooLarge - makes the error thrown past the limit (called once, when it is passed).
 */
export function limitInput(input: AsyncIterable<Uint8Array>, maxBodySize: number, tooLarge: () => unknown): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      const source = input[Symbol.asyncIterator]();
      let total = 0;
      return {
        async next() {
          const step = await source.next();
          if (!step.done) {
            total += step.value.byteLength;
            if (total > maxBodySize) {
              // A `for await` does not call `return()` on a throwing `next()`: let go of the stream here.
              await source.return?.();
              throw tooLarge();
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
