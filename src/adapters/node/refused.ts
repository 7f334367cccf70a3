/**
 * Reporting the requests the Node server answers itself, without calling the app (a malformed
 * request, a head too large or too slow, a declared body past `maxBodySize`, one request too
 * many in flight): `serve()`'s `onRefused`, which `tsgi serve` turns into access log lines, as
 * nginx logs its own 400s.
 *
 * @module
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { LogStream } from '../../gateway/types.ts';
import { logError } from '../../gateway/log.ts';
import { redactQuery } from '../../gateway/redact-query.ts';
import { callListener } from './listener-call.ts';

/** A request the server answered itself, without calling the app: what `onRefused` gets. */
export interface RefusedRequest {
  /**
   * The status sent: 400, 404 (a path outside `scriptName`), 408, 413, 414 (a request target past `maxHeaderSize`), 417, 431, 501, 503, 505 (an HTTP/1 request line of another version than 1.0 or 1.1);
   * for an upgrade, that of the `HTTPException` its handler threw (a 403, a 426, a redirect's 3xx).
   */
  readonly status: number;
  /** The reason sent as the body's one line, e.g. `invalid character in the request target`. */
  readonly reason: string;
  /** The method, when the request line was parsed (not for a request Node's parser refused). */
  readonly method: string | undefined;
  /** The request-target as received (`/path?q`), when the request line was parsed. */
  readonly target: string | undefined;
  /** `HTTP/1.1`, `HTTP/2.0`…, when the request line was parsed. */
  readonly protocol: string | undefined;
  /** The client's address (the peer's; no proxy header is read), absent on a Unix socket. */
  readonly remoteAddress: string | undefined;
  /** The request's header fields (Node's `req.headers`), when the head was parsed. */
  readonly headers: IncomingHttpHeaders | undefined;
  /** Bytes of the answer's body. */
  readonly bytes: number;
  /** When the answer was sent. */
  readonly time: Date;
}

/**
 * The `onRefused` option of `serve()` and `toNodeHandler()`. It may be `async` (a line shipped
 * to a store): the server goes on meanwhile, and `serve()`'s `close()` waits for the promises
 * still pending, until its `timeout`, as for `tsgi.wait_until`'s work; a promise it returns
 * that rejects is logged, as an error it throws.
 */
export type RefusalListener = (refused: RefusedRequest) => void;

/**
 * A reporter for `listener` (undefined without one): it builds the {@link RefusedRequest} of
 * a refusal and calls the listener, whose error (thrown, or the rejection of the promise it
 * returns) is written to `log` rather than let through (the answer is out; the server goes on),
 * its request line's query redacted as `redact` (the server's `redactQuery`) asks. The promise
 * an `async` listener returns goes to `waitUntil` when given (`serve()`'s `tsgi.wait_until`,
 * for `close()` to wait for).
 */
export function refusalReporter(
  listener: RefusalListener | undefined,
  log: LogStream | undefined,
  redact: readonly string[] = [],
  waitUntil?: (promise: Promise<unknown>) => void,
): Reporter | undefined {
  if (listener === undefined) return undefined;
  if (typeof listener !== 'function') throw new TypeError('onRefused must be a function');
  return (status, reason, bytes, req, socket) => {
    const parsed = req !== undefined;
    const refused: RefusedRequest = {
      status,
      reason,
      method: parsed ? req.method : undefined,
      target: parsed ? req.url : undefined,
      protocol: parsed ? `HTTP/${req.httpVersion}` : undefined,
      remoteAddress: (socket ?? req?.socket)?.remoteAddress,
      headers: parsed ? req.headers : undefined,
      bytes,
      time: new Date(),
    };
    const settled = callListener(
      () => listener(refused),
      (error) => logError(log, `${refused.method ?? '-'} ${refused.target === undefined ? '-' : redactQuery(refused.target, redact)} (onRefused threw)`, error),
    );
    if (settled !== undefined) waitUntil?.(settled);
  };
}

/**
 * Reports one refusal: its status, reason and body size, and the request when its head was
 * parsed (else the socket, for the client's address).
 */
export type Reporter = (status: number, reason: string, bytes: number, req: IncomingMessage | undefined, socket?: Socket) => void;
