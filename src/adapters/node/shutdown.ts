/**
 * The server's graceful shutdown as the exchanges see it: the event streams being sent, ended
 * together when the shutdown signal aborts, through one listener on that signal, however many
 * streams are open.
 *
 * @module
 */
/**
 * The event streams being sent under one shutdown signal (`serve()`'s, or the one given to
 * `toNodeHandler`): each registers how to end it, and all are ended when the signal aborts,
 * through one listener on the signal (a caller's signal gets no listener per stream).
 */
export class ShutdownWatch {
  readonly signal: AbortSignal;
  readonly #ends = new Set<() => void>();

  constructor(signal: AbortSignal) {
    this.signal = signal;
    signal.addEventListener('abort', () => {
      for (const end of this.#ends) end();
      this.#ends.clear();
    }, { once: true });
  }

  /**
   * Calls `end` when the shutdown begins: at once when it has. Answers the function that
   * forgets it (call it when the stream ended another way).
   */
  watch(end: () => void): () => void {
    if (this.signal.aborted) {
      end();
      return () => {};
    }
    this.#ends.add(end);
    return () => this.#ends.delete(end);
  }
}
