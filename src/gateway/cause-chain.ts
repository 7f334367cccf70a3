/**
 * Walking an error's `cause` chain (ES2022 `Error.prototype.cause`), the one way for every
 * reader of it: the body failure an app's error wraps, the code of a socket error undici
 * wraps, the causes the debug page shows.
 *
 * @module
 */

/**
 * Yields `error`, then its `cause`, that one's `cause`, and so on: at most `maxLinks` causes
 * after `error`. The walk ends at a cause that is `undefined`, at a link that is not an object
 * (its `cause` is not read), at a cause already yielded (a chain that loops), and at a `cause`
 * getter that throws. Lazy: a consumer that stops after a link keeps its `cause` unread.
 * Never throws.
 */
export function* causeChain(error: unknown, maxLinks: number): Generator<unknown, void, undefined> {
  const seen: unknown[] = [error];
  yield error;
  let link = error;
  while (seen.length <= maxLinks && typeof link === 'object' && link !== null) {
    try {
      link = (link as { cause?: unknown }).cause;
    } catch {
      return;
    }
    if (link === undefined || seen.includes(link)) return;
    seen.push(link);
    yield link;
  }
}
