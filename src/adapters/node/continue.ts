/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1): the interim `100 Continue` goes out only when the
 * app starts reading the body, so a request the app refuses at once (401, 413) is answered
 * before the client uploads anything. Werkzeug and gunicorn behave the same way.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Failure, type FailureAware, type IterationClaim, readableChunks, withFailure } from '../../gateway/readable-input.ts';
import type { ReadTimeout } from '../../gateway/read-timeout.ts';

/**
 * The request body as `tsgi.input`, sending `100 Continue` once, at the first read (the first
 * `next()` of an iteration, unless the final response has already started): an iterator made
 * and never read (a fetch `Request` body handed to a handler that answers without reading it,
 * `fromFetchHandler`'s) sends nothing, so the client never uploads. Until then the connection
 * is marked to close after the response: a client told nothing may never send the body it
 * announced. It has `withFailure` (`req.stream()`'s 400 made by the reader, and its claim on
 * the body). Its reads keep to `timeout` (the server's `bodyTimeout`), whose clock starts once
 * `100 Continue` is out and a read waits.
 */
export function continueOnRead(req: IncomingMessage, res: ServerResponse, timeout?: ReadTimeout): AsyncIterable<Uint8Array> & FailureAware {
  const keepAlive = res.shouldKeepAlive;
  res.shouldKeepAlive = false;
  let continued = false;
  const sendContinue = (): void => {
    if (continued) return;
    continued = true;
    if (!res.headersSent && !res.writableEnded) {
      res.writeContinue();
      res.shouldKeepAlive = keepAlive;
    }
  };
  const input = (failure: Failure | undefined, claim?: IterationClaim): AsyncIterable<Uint8Array> & FailureAware => ({
    [Symbol.asyncIterator]: (): AsyncIterator<Uint8Array> => readableChunks(req, failure, timeout, claim, sendContinue),
    [withFailure]: input,
  });
  return input(undefined);
}
