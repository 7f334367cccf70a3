/**
 * A thrown value the failure path can inspect. Internal: not part of the public API.
 *
 * @module
 */

/**
 * `error` as it came, unless reading it throws: a revoked `Proxy` (or one whose traps throw) fails
 * every `instanceof` and property read, and the server's own handling of the failure with them,
 * which left the request hanging and its rejection unhandled. Such a value stands as an `Error`
 * saying so (without it as its `cause`: the log's cause chain would read it), so the failure is
 * logged and answered as any other: by `serve()`, `toFetchHandler`, the `TestClient` and `errors`.
 */
export function readableThrow(error: unknown): unknown {
  if ((typeof error !== 'object' && typeof error !== 'function') || error === null) return error;
  try {
    void (error instanceof Error);
    void (error as { code?: unknown }).code;
    return error;
  } catch {
    return new Error('the app threw a value that cannot be read (a revoked Proxy?)');
  }
}
