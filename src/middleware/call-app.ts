/**
 * Two steps shared by the middleware: calling an app until its status is known
 * ({@link callApp}), and watching a body as it is consumed ({@link wrapBody}).
 *
 * @module
 */
import {
  type App,
  type Body,
  type BodyIterator,
  type Environ,
  type StartResponse,
  closeBody,
  isAsyncIterable,
  openBody,
} from '../gateway.ts';

/** An app's answer once its status is known: the first chunk has been produced, none sent. */
export interface StartedApp {
  /** The status line the app gave, as given (not validated). */
  status: string;
  /** The header pairs the app gave, as given (not validated). */
  headers: Array<[string, string]>;
  /** The whole body, the already-produced first chunk included; iterate it once. */
  body: Body;
  /** Closes the body unread (calls the app's iterator `return()`); safe to call twice. */
  close(): void;
}

/**
 * Calls `app` and waits for its status: its body is opened and the first chunk pulled, so a
 * `startResponse` called lazily, during iteration, has run. Nothing is sent: the caller
 * decides what to do with the answer (forward it, replace it, drop it with `close()`).
 *
 * The `startResponse` given to the app accepts a second call with `error` until `callApp`
 * returns; after that such a call re-throws `error` (PEP 3333: the headers are out).
 *
 * @param onCloseError - told what the body's `return()` throws when closed early.
 * @throws (rejects with) what the app throws before its first chunk, and `TypeError` when
 *   the body is not an iterable or the app never called `startResponse`.
 */
export async function callApp(app: App, environ: Environ, onCloseError?: (error: unknown) => void): Promise<StartedApp> {
  let status: string | undefined;
  let headers: Array<[string, string]> = [];
  let committed = false;
  const startResponse: StartResponse = (s, h, error) => {
    if (committed) {
      if (error !== undefined) throw error;
      throw new TypeError('startResponse was called again after the response started');
    }
    if (status !== undefined && error === undefined) throw new TypeError('startResponse was called twice without an error');
    status = s;
    headers = h;
  };
  const body = await app(environ, startResponse);
  if (Array.isArray(body) && status !== undefined) {
    committed = true;
    return { status, headers, body: body as Uint8Array[], close() {} };
  }
  const iterator = openBody(body);
  let first: IteratorResult<Uint8Array>;
  try {
    first = await iterator.next();
  } catch (error) {
    closeBody(iterator, onCloseError);
    throw error;
  }
  if (status === undefined) {
    closeBody(iterator, onCloseError);
    throw new TypeError('the app returned a body without calling startResponse');
  }
  committed = true;
  if (first.done) return { status, headers, body: [], close() {} };
  const replay = replayFirst(first.value, iterator, !isAsyncIterable(body), onCloseError);
  return { status, headers, body: replay.body, close: replay.close };
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** A body that yields `first`, then the rest of `iterator`; sync when the app's body was. */
function replayFirst(first: Uint8Array, iterator: BodyIterator, sync: boolean, onCloseError?: (error: unknown) => void): { body: Body; close(): void } {
  let pendingFirst = true;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    closeBody(iterator, onCloseError);
  };
  const step = (): IteratorResult<Uint8Array> | Promise<IteratorResult<Uint8Array>> => {
    if (closed) return DONE;
    if (pendingFirst) {
      pendingFirst = false;
      return { done: false, value: first };
    }
    return iterator.next();
  };
  const it = sync
    ? { next: step as () => IteratorResult<Uint8Array>, return: () => (close(), DONE), [Symbol.iterator]() { return this; } }
    : { next: async () => step(), return: async () => (close(), DONE), [Symbol.asyncIterator]() { return this; } };
  return { body: it as Body, close };
}

/** What {@link wrapBody} reports; each hook must not throw. */
export interface BodyHooks {
  /** Each chunk, before it is handed on. */
  chunk?(chunk: Uint8Array): void;
  /** The body ended normally. */
  end?(): void;
  /** The consumer stopped early and called `return()` (e.g. the client went away). */
  close?(): void;
  /** The body threw; the error is re-thrown to the consumer after this hook. */
  error?(error: unknown): void;
  /** The app's `return()` threw while being closed. */
  closeError?(error: unknown): void;
}

/**
 * Wraps a body so `hooks` see it being consumed. Exactly one of `end`, `close` and `error`
 * is called, once. A sync body stays sync (so servers can still send a one-chunk body with
 * Content-Length), an async one stays async.
 *
 * @throws TypeError when `body` is not an iterable (see `openBody`).
 */
export function wrapBody(body: Body, hooks: BodyHooks): Body {
  const iterator = openBody(body);
  const sync = !isAsyncIterable(body);
  let open = true;
  const onStep = (step: IteratorResult<Uint8Array>): IteratorResult<Uint8Array> => {
    if (!open) return DONE;
    if (step.done) {
      open = false;
      hooks.end?.();
      return DONE;
    }
    hooks.chunk?.(step.value);
    return step;
  };
  const onError = (error: unknown): never => {
    if (open) {
      open = false;
      hooks.error?.(error);
    }
    throw error;
  };
  const close = (): IteratorReturnResult<undefined> => {
    if (open) {
      open = false;
      hooks.close?.();
      closeBody(iterator, hooks.closeError);
    }
    return DONE;
  };
  if (sync) {
    const it = {
      next(): IteratorResult<Uint8Array> {
        if (!open) return DONE;
        let step: IteratorResult<Uint8Array>;
        try {
          step = (iterator as Iterator<Uint8Array>).next();
        } catch (error) {
          return onError(error);
        }
        return onStep(step);
      },
      return: close,
      [Symbol.iterator]() {
        return this;
      },
    };
    return it;
  }
  const it = {
    async next(): Promise<IteratorResult<Uint8Array>> {
      if (!open) return DONE;
      let step: IteratorResult<Uint8Array>;
      try {
        step = await iterator.next();
      } catch (error) {
        return onError(error);
      }
      return onStep(step);
    },
    async return(): Promise<IteratorResult<Uint8Array>> {
      return close();
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return it;
}
