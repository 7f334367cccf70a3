/**
 * Request bodies the app left unread (wholly, or after a loop left with `break`), on the fetch runtimes: Bun and `@hono/node-server` close
 * a connection whose request body is still arriving as soon as the answer is written, and the
 * reset that unread input causes destroys the answer before the client reads it (a `413`, a
 * `403`, a `401` to an upload is never seen: `EPIPE`, "connection reset"). Node's `serve()`
 * solves this with a lingering close (src/adapters/node/linger.ts); a fetch handler has no
 * socket, so the rest of the body is read and dropped before the answer is handed over.
 *
 * @module
 */
import { dropStream } from '../../gateway/stream.ts';
import { wasLeftPartWay } from './input.ts';

/** How many bytes of an unread request body are read and dropped before the answer, at most. */
export const DRAIN_BYTES = 4 * 1024 * 1024;
/** How long (ms) the answer waits for the rest of an unread request body, at most. */
export const DRAIN_TIME = 2000;

/**
 * Reads and drops what is left of `request`'s body when the app never touched it (not locked,
 * not disturbed) or left its loop over `tsgi.input` part-way (a `break`: `wasLeftPartWay`),
 * as Node's lingering close does for `serve()`: up to {@link DRAIN_BYTES} or
 * {@link DRAIN_TIME}, whichever comes first; past either the body is cancelled, and the
 * runtime resets the connection as before. A body the app read to its end, one it is still
 * reading (locked), or one whose `Content-Length` is past {@link DRAIN_BYTES}, is left alone.
 * Answers `undefined` at once when there is nothing to drain (no body, or one the app read or
 * is reading), else a promise that never rejects. The app reading `tsgi.input` afterwards
 * (still running after `timeout` answered) fails with an `AbortError` (see `dropStream`).
 */
export function drainUnread(request: globalThis.Request): Promise<void> | undefined {
  const body = request.body;
  if (body === null || body.locked || (request.bodyUsed && !wasLeftPartWay(body))) return undefined;
  // A body declared past the bound cannot be drained: reading part of it would only delay the answer.
  if (Number(request.headers.get('content-length')) > DRAIN_BYTES) return undefined;
  dropStream(body);
  return drain(body.getReader());
}

/** Reads `reader` to its end, or to the bounds of {@link drainUnread}, dropping the bytes. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<null>((resolve) => (timer = setTimeout(resolve, DRAIN_TIME, null)));
  let done = false;
  try {
    for (let bytes = 0; bytes <= DRAIN_BYTES; ) {
      const step = await Promise.race([reader.read(), expired]);
      if (step === null) break;
      if (step.done) {
        done = true;
        break;
      }
      bytes += step.value.byteLength;
    }
  } catch {
    // The client left, or the runtime failed the body: nothing more to drain.
  } finally {
    clearTimeout(timer);
    if (!done) void reader.cancel().catch(() => undefined);
  }
}
