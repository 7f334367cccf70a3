/**
 * `Request.getResponse`'s engine: calling an app and wrapping its answer in a `Response`
 * without buffering a streamed body (WebOb's `call_application`).
 *
 * @module
 */
import { type App, type Environ, type StartResponse, closeBody, concatBytes, openBody } from '../gateway.ts';
import { Response } from '../response.ts';

/**
 * Calls an app and wraps its answer in a `Response` without buffering the body: waits for
 * the first chunk (so a lazy `startResponse` has run), then streams the rest.
 */
export async function callApplication(environ: Environ, app: App): Promise<Response> {
  let status: string | undefined;
  let headers: Array<[string, string]> = [];
  const startResponse: StartResponse = (s, h, error) => {
    if (status !== undefined && error === undefined) throw new TypeError('startResponse called twice without an error');
    status = s;
    headers = h;
  };
  const body = await app(environ, startResponse);
  if (Array.isArray(body) && status !== undefined) {
    return buildResponse(environ, status, headers, body as Uint8Array[]);
  }
  const iterator = openBody(body);
  let first: IteratorResult<Uint8Array>;
  try {
    first = await iterator.next();
  } catch (error) {
    closeBody(iterator);
    throw error;
  }
  if (status === undefined) {
    closeBody(iterator);
    throw new TypeError('the app returned without calling startResponse');
  }
  if (first.done) return buildResponse(environ, status, headers, []);
  const rest: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]() {
      let sentFirst = false;
      return {
        async next() {
          if (!sentFirst) {
            sentFirst = true;
            return first;
          }
          return iterator.next();
        },
        async return() {
          closeBody(iterator);
          return { done: true, value: undefined };
        },
      };
    },
  };
  return buildResponse(environ, status, headers, rest);
}

/**
 * Wraps what an app started into a `Response`. The app's own `Content-Length` is kept as sent
 * (a HEAD answer declares the length of a body it does not send); without one, an array body
 * gets its computed length and a stream gets none. An answer that carries no body by
 * definition (to HEAD, or 1xx/204/304, RFC 9110 §8.6) gets no computed length: its empty body
 * says nothing about the representation's length.
 */
function buildResponse(
  environ: Environ,
  status: string,
  headers: Array<[string, string]>,
  body: Uint8Array[] | AsyncIterable<Uint8Array>,
): Response {
  const res = new Response(null, { status, headers, contentType: null });
  let length: string | null = null;
  for (const [name, value] of headers) {
    if (name.toLowerCase() === 'content-length') {
      length = value;
      break;
    }
  }
  if (Array.isArray(body)) {
    for (const chunk of body) {
      if (!(chunk instanceof Uint8Array)) throw new TypeError('the app returned a body chunk that is not a Uint8Array');
    }
    res.body = concatBytes(body);
  } else {
    res.body = body;
  }
  if (length !== null) res.headers.set('Content-Length', length);
  else if (environ.REQUEST_METHOD === 'HEAD' || isBodiless(res.statusCode)) res.headers.delete('content-length');
  return res;
}

/** Statuses whose responses never carry content (RFC 9110 §15.2, §15.3.5, §15.4.5). */
function isBodiless(code: number): boolean {
  return code < 200 || code === 204 || code === 304;
}
