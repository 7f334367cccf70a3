/**
 * The one-body rule of `Request.blank` and the test client's calls: `json`, `form` (with
 * `files` for a multipart body) or `body`, never two.
 *
 * @module
 */

/** The body options a request builder takes, of which one may be given (`form` with `files` counts once). */
export interface BodyChoice {
  readonly json?: unknown;
  readonly form?: unknown;
  readonly files?: unknown;
  readonly body?: unknown;
}

const BODY_KEYS = ['json', 'form', 'files', 'body'] as const;

/**
 * Checks that `options` gives one body: the builder would send the first of `json`, `files`,
 * `form` and `body` and drop the rest unsaid (Werkzeug's `EnvironBuilder` refuses `json` with
 * `data` too). `form` with `files` is one body, the multipart one.
 *
 * @param what - the call, first in the message (`Request.blank`, `POST /notes`).
 * @throws TypeError naming the bodies given: `Request.blank: give one body: json, form (with
 *   files) or body, not json and form`.
 */
export function assertOneBody(what: string, options: BodyChoice): void {
  const given = BODY_KEYS.filter((key) => options[key] !== undefined);
  if (given.length > 1 && given.join() !== 'form,files') {
    throw new TypeError(`${what}: give one body: json, form (with files) or body, not ${given.join(' and ')}`);
  }
}
