/**
 * The shared rule of middleware that change a response body (`compress`, and the response
 * filters of `tsgi/proxy`): which responses may be changed, and what the change does to the
 * header fields that describe the bytes.
 *
 * @module
 */
import { type App, type AppLike, type Body, type Environ, toApp } from '../gateway/types.ts';
import { callApp } from '../gateway/call-app.ts';
import { isBodilessStatus } from '../gateway/status.ts';
import { HeaderList } from '../http/header-list.ts';

/**
 * True when a filter may change the body of this response: not for HEAD (no body; its fields
 * describe the GET answer, so they stay as they are), 1xx, 204 and 304 (no content), 206 or
 * anything with `Content-Range` (a part cannot be transformed on its own).
 */
export function isTransformable(environ: Environ, code: number, headers: HeaderList): boolean {
  return environ.REQUEST_METHOD !== 'HEAD' && code >= 200 && !isBodilessStatus(code) && code !== 206 && !headers.has('content-range');
}

/**
 * The integrity fields computed over the bytes sent, which any change of the body (a content
 * coding added or removed, or the text rewritten) makes wrong:
 * - `Content-Digest` (RFC 9530 §2): of the content, the bytes as sent, codings applied;
 * - `Repr-Digest` (RFC 9530 §3): of the selected representation data, which includes its
 *   content coding (RFC 9110 §8.1), so compressing changes it too;
 * - `Digest` (RFC 3230 §4.3.2, obsoleted by RFC 9530): of the instance, after content coding;
 * - `Content-MD5` (RFC 1864; RFC 2616 §14.15, dropped by RFC 7231 Appendix B): of the body,
 *   after content coding.
 */
const DIGEST_FIELDS = ['content-digest', 'repr-digest', 'digest', 'content-md5'];

/**
 * Marks the fields of a response whose body is being changed: `Content-Length` and
 * `Accept-Ranges` are dropped (the new length is unknown, and byte ranges would address the
 * old bytes), and so are `Content-Digest`, `Repr-Digest`, `Digest` and `Content-MD5` (digests
 * of the old bytes, RFC 9530); a strong `ETag` becomes weak (`W/"…"`): the bytes differ, the
 * meaning does not (RFC 9110 §8.8.1).
 */
export function markTransformed(headers: HeaderList): void {
  headers.delete('content-length');
  headers.delete('accept-ranges');
  for (const name of DIGEST_FIELDS) headers.delete(name);
  const etag = headers.get('etag')?.trim();
  if (etag && !etag.startsWith('W/')) headers.set('ETag', `W/${etag}`);
}

/**
 * Decides, from the fields of a transformable response (which it may change further), whether
 * to transform its body: answers the transformation, or null to leave the response alone.
 */
export type ChooseTransform = (headers: HeaderList, environ: Environ) => ((body: Body) => Body) | null;

/**
 * A body-filter middleware: calls `app`, and for a transformable response ({@link
 * isTransformable}) for which `choose` answers a transformation, marks the fields
 * ({@link markTransformed}) and sends the transformed body. Anything else passes through with
 * its fields and body untouched, still streamed.
 */
export function bodyFilter(app: AppLike, choose: ChooseTransform): App {
  const inner = toApp(app);
  return async (environ, startResponse) => {
    const started = await callApp(inner, environ);
    const headers = new HeaderList();
    headers.list.push(...started.headers);
    if (isTransformable(environ, Number(started.status.slice(0, 3)), headers)) {
      const transform = choose(headers, environ);
      if (transform !== null) {
        markTransformed(headers);
        startResponse(started.status, headers.list);
        return transform(started.body);
      }
    }
    startResponse(started.status, started.headers);
    return started.body;
  };
}
