/**
 * Refusing a request body whose `Content-Encoding` the body readers do not undo.
 *
 * @module
 */
import { HTTPUnsupportedMediaType } from '../exceptions/client-errors.ts';
import { codingsOf } from '../http/codings.ts';

/** The most characters of one coding a refusal's reason shows, and the most codings it names. */
const SHOWN_CODING = 40;
const SHOWN_CODINGS = 3;

/**
 * `codings`, as a refusal's reason names them: the first three, each cut after 40 characters
 * (`…`), then how many more (`a, b, c and 2 more`). The field is the client's to fill (up to
 * the server's header limit, 16 KiB by default): the 415 answers a short reason, not an echo.
 */
export function shownCodings(codings: readonly string[]): string {
  const shown = codings.slice(0, SHOWN_CODINGS).map((coding) => (coding.length > SHOWN_CODING ? `${coding.slice(0, SHOWN_CODING)}…` : coding));
  const more = codings.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
}

/**
 * Refuses a request body sent with a content coding (RFC 9110 §8.4: `gzip`, `br`, …) before a
 * reader interprets its bytes as text, JSON or a form. The readers do not decode codings (as
 * Werkzeug's and WebOb's do not; Express's body parsers inflate gzip, deflate and br), so the
 * coded bytes would otherwise read as invalid JSON (a 400 blaming the client's JSON) or as a
 * form of garbage fields. `identity` is no coding; an absent or empty field passes.
 *
 * @param contentEncoding the request's `Content-Encoding` (`HTTP_CONTENT_ENCODING`), if any;
 *   anything but a string counts as none.
 * @throws HTTPUnsupportedMediaType (415) naming the codings ({@link shownCodings}), with `Accept-Encoding: identity`
 *   (RFC 9110 §15.5.16: the response says which codings would have been accepted).
 */
export function refuseContentCoding(contentEncoding: unknown): void {
  if (typeof contentEncoding !== 'string' || contentEncoding === '') return;
  const codings = codingsOf(contentEncoding, 'identity');
  if (codings.length === 0) return;
  throw new HTTPUnsupportedMediaType(
    `The body is sent with Content-Encoding ${shownCodings(codings)}, which this reader does not decode: send it uncoded.`,
    { headers: [['Accept-Encoding', 'identity']] },
  );
}
