/**
 * The body of a `Response` as bytes, text or JSON, and buffering a streamed one.
 *
 * @module
 */
import { type Body } from '../gateway/types.ts';
import { readBody } from '../gateway/body.ts';
import { decodeText } from '../http/charset.ts';
import type { Members } from '../http/descriptors.ts';
import type { Response } from './response.ts';

/** Views of a {@link Response}'s body held in memory. */
export interface ResponseBodyViews {
  /**
   * The body bytes.
   *
   * @throws TypeError when the body is streamed: `await res.readBody()` first.
   */
  get bytes(): Uint8Array;
  set bytes(value: Uint8Array);

  /**
   * The body decoded with the charset (`utf-8` when none); malformed bytes become U+FFFD.
   * Same stream rule as `bytes`.
   *
   * @throws RangeError for a charset no decoder knows.
   */
  get text(): string;
  set text(value: string);

  /**
   * The body parsed as JSON (throws `SyntaxError` when it is not). Setting serialises the
   * value and sets Content-Type to `application/json` unless it is already a JSON type.
   */
  get json(): unknown;
  set json(value: unknown);

  /**
   * Reads a streamed body into memory (the body becomes those bytes, with Content-Length) and
   * returns it; returns the bytes at once when the body is already in memory.
   */
  readBody(): Promise<Uint8Array>;
}

export const bodyMembers: Members<Response, ResponseBodyViews> = {
  bytes: {
    get() {
      if (this.isStreamed) throw new TypeError('the response body is a stream: await res.readBody() to buffer it');
      return this.body as Uint8Array;
    },
    set(value: Uint8Array) {
      this.body = value;
    },
  },
  text: {
    get() {
      return decodeText(this.bytes, this.charset);
    },
    set(value: string) {
      this.body = value;
    },
  },
  json: {
    get() {
      return JSON.parse(this.text);
    },
    set(value: unknown) {
      const type = this.contentType;
      if (type === null || !(type === 'application/json' || type.endsWith('+json'))) {
        this.headers.set('Content-Type', 'application/json');
      }
      this.body = JSON.stringify(value);
    },
  },
  async readBody() {
    if (!this.isStreamed) return this.body as Uint8Array;
    const bytes = await readBody(this.body as Body);
    this.body = bytes;
    return bytes;
  },
};
