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
 * or a sync/async iterable of `Uint8Array` chunks that is streamed as it is produced. `null`
 * and `undefined` mean an empty body.
 */
export type ResponseBody =
  | string
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | Iterable<Uint8Array>
  | AsyncIterable<Uint8Array>
  | null
  | undefined;

/** Whole-body readers of a `Response` (installed on it; see `descriptors.ts`). */
export abstract class ResponseBodyReaders {
  abstract get body(): Uint8Array | Body;
  abstract set body(value: ResponseBody);
  abstract isStreamed(): boolean;
  abstract get charset(): string | null;
  abstract set charset(value: string | null);

  /**
   * The whole body as bytes. A streamed body is read to its end first and then kept in
   * memory (the body becomes those bytes, with their `Content-Length`), so it can be read
   * again, as fetch's `bytes()` but repeatable; a body in memory answers at once.
   *
   * @throws (rejects with) what the stream throws; TypeError for a chunk that is not a
   *   `Uint8Array`.
   */
  async bytes(): Promise<Uint8Array> {
    if (!this.isStreamed()) return this.body as Uint8Array;
    const bytes = await readBody(this.body as Body);
    this.body = bytes;
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
