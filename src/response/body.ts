/**
 * Reading a `Response`'s body whole, the same calls as on a `Request` and a fetch `Response`:
 * `await res.bytes()`, `await res.text()`, `await res.json()`.
 *
 * @module
 */
import type { Body } from '../gateway/types.ts';
import { readBody } from '../gateway/body.ts';
import { decodeText } from '../http/charset.ts';

/**
 * What a response body can be set to: text (encoded with the response charset), bytes (a
 * `Uint8Array`, an `ArrayBuffer`, or any other typed array / `DataView`, taken as its bytes),
 * or a sync/async iterable of chunks that is streamed as it is produced (a generator, a Node
 * `Readable`, a web `ReadableStream`). A chunk is a `Uint8Array` (a `Buffer`) or a string, sent
 * as UTF-8 whatever the response charset (Werkzeug's `iter_encoded`: `Readable.from(['a'])`, a
 * Node stream after `setEncoding('utf8')`). `null` and `undefined` mean an empty body.
 */
export type ResponseBody =
  | string
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | Iterable<Uint8Array | string>
  | AsyncIterable<Uint8Array | string>
  | null
  | undefined;

/**
 * @internal The key of `Response`'s method that hands its streamed body out to be sent or
 * read whole (`respond`, `toFetch`, `bytes`, and the copy `getResponse` hands up): it throws
 * when that stream can be iterated once only and was handed out before. Not exported from the
 * package.
 */
export const TAKE_STREAM: unique symbol = Symbol('tsgi.response_take_stream');

/**
 * @internal The key of a function a `Response` in memory runs when its body is read whole or
 * converted (`bytes()`, `text()`, `json()`, `toFetch()`), once: set by `getResponse` outside
 * any `Request.application` on an answer that holds `callOnClose` work, which then runs (see
 * `handOnCalls` in request/application.ts). Absent on every other response. Not exported from
 * the package.
 */
export const READ_HOOK: unique symbol = Symbol('tsgi.response_read_hook');

/**
 * @internal The key of `Response`'s method that takes the bytes {@link ResponseBodyReaders.bytes}
 * read from its stream as its body: the `body` setter, except on an answer to HEAD whose bytes
 * are not the GET body (see `HEAD_ANSWER` in response.ts), which keeps its declared
 * `Content-Length` when the read found nothing. Not exported from the package.
 */
export const READ_BACK: unique symbol = Symbol('tsgi.response_read_back');

/**
 * True when a streamed body can be iterated once only: an iterator (a generator, an async
 * generator, anything with `next()`), a Node stream (`pipe()`) or a web `ReadableStream`
 * (`getReader()`). An array, or an iterable that makes a new iterator each time, can be sent
 * again.
 */
export function isOneShot(body: Body): boolean {
  if (Array.isArray(body)) return false;
  const value = body as { next?: unknown; pipe?: unknown; getReader?: unknown };
  return typeof value.next === 'function' || typeof value.pipe === 'function' || typeof value.getReader === 'function';
}

/** The error of a one-shot streamed body handed out a second time (see `TAKE_STREAM`). */
export function streamTakenError(): TypeError {
  return new TypeError(
    'this Response streams a body that can be read once, and it was already sent or read: build a Response per request, or `await res.bytes()` once to keep the body in memory',
  );
}

/** Whole-body readers of a `Response` (installed on it; see `descriptors.ts`). */
export abstract class ResponseBodyReaders {
  abstract get body(): Uint8Array | Body;
  abstract set body(value: ResponseBody);
  abstract isStreamed(): boolean;
  abstract [TAKE_STREAM](): Body;
  declare [READ_HOOK]: (() => void) | undefined;
  abstract [READ_BACK](bytes: Uint8Array): void;
  abstract get charset(): string | null;
  abstract set charset(value: string | null);

  /**
   * The whole body as bytes. A streamed body is read to its end first and then kept in
   * memory (the body becomes those bytes, with their `Content-Length`), so it can be read
   * again, as fetch's `bytes()` but repeatable; a body in memory answers at once.
   *
   * @throws (rejects with) what the stream throws; TypeError for a chunk that is neither a
   *   `Uint8Array` nor a string (strings are read as UTF-8, see {@link ResponseBody}), and for a stream that can be read once (a generator, a Node or web stream)
   *   and was already sent, or is being read by another call.
   */
  async bytes(): Promise<Uint8Array> {
    if (!this.isStreamed()) {
      this[READ_HOOK]?.();
      return this.body as Uint8Array;
    }
    const bytes = await readBody(this[TAKE_STREAM]());
    this[READ_BACK](bytes);
    return bytes;
  }

  /**
   * The whole body decoded with the response's charset (`utf-8` when none); malformed bytes
   * become U+FFFD. Buffers a streamed body as {@link ResponseBodyReaders.bytes} does.
   *
   * @throws RangeError for a charset no decoder knows.
   */
  async text(): Promise<string> {
    return decodeText(await this.bytes(), this.charset);
  }

  /**
   * The whole body parsed as JSON (as {@link ResponseBodyReaders.text}, then `JSON.parse`).
   *
   * @throws SyntaxError when the body is not JSON.
   */
  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }
}
