/**
 * The error a test client call fails with.
 *
 * @module
 */
import type { Response } from '../response/response.ts';

/**
 * A test client call that did not go as the test expects (WebTest's `AppError`): an
 * unexpected status, output on `tsgi.errors`, a redirect loop, a form field or link that is
 * not on the page. The message names the method and URL and shows the start of the body;
 * `response` is the answer when there was one, and `cause` the app's own error when one was
 * logged.
 */
export class TestClientError extends Error {
  /** The answer that failed the expectation, when there was one (a `TestResponse`). */
  readonly response: Response | undefined;

  constructor(message: string, options: { response?: Response; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TestClientError';
    this.response = options.response;
  }
}

/** At most `limit` characters of `text`, with `…` when cut. */
export function preview(text: string, limit = 500): string {
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}
