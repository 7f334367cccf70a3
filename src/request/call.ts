/**
 * `Request.getResponse`'s engine: calling an app and wrapping its answer in a `Response`
 * without buffering a streamed body (WebOb's `call_application`).
 *
 * @module
 */
import { type App, type Body, type Environ } from '../gateway/types.ts';
import { checkChunk, concatBytes } from '../gateway/body.ts';
import { isBodilessStatus } from '../gateway/status.ts';
import { sameFieldName } from '../gateway/fields.ts';
import { callApp } from '../gateway/call-app.ts';
import { HEAD_ANSWER, Response } from '../response/response.ts';
import { setBodyKeepingLength } from './stream-body.ts';
import { keepInnerResponse } from './inner-responses.ts';

/**
 * Calls an app and wraps its answer in a `Response` without buffering the body: waits for
 * the first chunk (so a lazy `startResponse` has run, see `callApp`), then streams the rest.
 * An array body becomes bytes in memory; any other body stays a stream, whose early close
 * logs what the app's `return()` throws to `environ['tsgi.errors']` (`callApp`'s default).
 *
 * @param keep - keep a streamed answer to be closed when the request ends if nobody takes it
 *   (`getResponse` inside a `Request.application`, see inner-responses.ts); default false.
 * @throws (rejects with) what the app throws before its first chunk; TypeError when the app
 *   never called `startResponse`, gives a body that is not an iterable of `Uint8Array`, or an
 *   invalid status or header.
 */
export async function callApplication(environ: Environ, app: App, keep = false): Promise<Response> {
  const started = await callApp(app, environ);
  const res = buildResponse(environ, started.status, started.headers, started.body);
  return keep ? keepInnerResponse(environ, res) : res;
}

/**
 * Wraps what an app started into a `Response`. The app's own `Content-Length` is kept as sent
 * (a HEAD answer declares the length of a body it does not send); without one, an array body
 * gets its computed length and a stream gets none. An answer that carries no body by
 * definition (to HEAD, or 1xx/204/304, RFC 9110 §8.6) gets no computed length: its empty body
 * says nothing about the representation's length.
 */
function buildResponse(environ: Environ, status: string, headers: Array<[string, string]>, body: Body): Response {
  const res = new Response(null, { status, headers, contentType: null });
  let length: string | null = null;
  for (const [name, value] of headers) {
    if (sameFieldName(name, 'content-length')) {
      length = value;
      break;
    }
  }
  const bytes = Array.isArray(body) ? arrayBytes(body) : null;
  setBodyKeepingLength(res, bytes ?? body, length);
  if (environ.REQUEST_METHOD === 'HEAD') {
    if (length === null) res.headers.delete('content-length');
    // No bytes, or a stream not read yet: what a layer reads or makes of it is not the GET body.
    if (bytes === null || bytes.byteLength === 0) res[HEAD_ANSWER]();
  } else if (length === null && isBodilessStatus(res.statusCode)) res.headers.delete('content-length');
  return res;
}

/** The chunks of an array body joined, once each is checked to be a `Uint8Array`. */
function arrayBytes(chunks: readonly unknown[]): Uint8Array {
  return concatBytes(chunks.map(checkChunk));
}

