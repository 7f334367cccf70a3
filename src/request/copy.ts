/**
 * Copies of a `Request` (WebOb's `copy` and `copy_get`): a request of the same class over a
 * copy of the environ, to change and send to another app while the original stays as it was.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { EMPTY_INPUT } from '../gateway/input.ts';
import { type ReadOptions, checkReadOptions, readWhole } from './body.ts';
import { bodyTooLarge } from '../forms/limits.ts';
import { copyEnviron } from './cleanup.ts';

/** The environ keys of the body `copyGet` leaves out: its framing, type and coding. */
const BODY_KEYS = ['CONTENT_TYPE', 'CONTENT_LENGTH', 'HTTP_TRANSFER_ENCODING', 'HTTP_CONTENT_ENCODING', 'tsgi.input_terminated'] as const;

/** Copying a `Request` (installed on it; see `descriptors.ts`). */
export abstract class RequestCopy {
  declare readonly environ: Environ;

  /**
   * A request of the same class (`MyRequest` gives a `MyRequest`) over a shallow copy of the
   * environ, with a body both can read (WebOb's `req.copy()`, which makes the body seekable and
   * copies it). Change the copy (`pathInfoPop()`, `method`, `headers`, `query`) and send it to
   * another app with `await copy.getResponse(app)`: the original keeps its path, method,
   * headers and body for the app it goes on to.
   *
   * `req.getResponse(app)` itself hands the app this request's environ, as WebOb's
   * `get_response` does: what the request or the app changes there (a `pathInfoPop()` before
   * the call, the app's own) is still changed after it. Copy the request first to keep it.
   *
   * The body is read whole into memory first, as `await req.bytes()` reads it (a live body is
   * then kept in `tsgi.input`, for every later reader of either request): give `maxBodySize`
   * to bound it. The copy parses its own form. Values in the environ are shared, not cloned;
   * properties set on the request object itself (`req.user = …`) are not copied (keep state
   * in the environ, see `Request`). Under a `Request.application`, its end finishes the copy
   * too (the uploads of a form the copy parsed are removed, a stream it kept is closed).
   *
   * @param options - `maxBodySize`: the largest body, in bytes, read into memory (default
   *   unlimited, as `bytes()`).
   * @returns (a promise of) the copy.
   * @throws (rejects with) what `req.bytes()` rejects with: HTTPContentTooLarge (413) past
   *   `maxBodySize`, HTTPBadRequest (400) for a body that broke off, the `Error` of a body read
   *   earlier without being kept (`the request body was read by the form parse … and not
   *   kept`: call `copy()` before `form()`, or `await req.bytes()` first) or being read now;
   *   TypeError for options that are not a plain object or hold an unknown key.
   *
   * @example
   * ```ts
   * // Answer /api/* from the API app, with its own mount point; anything else from the site.
   * const api = Request.middleware(async (req, site) => {
   *   if (req.pathInfoPeek() !== 'api') return site;
   *   const copy = await req.copy({ maxBodySize: 1024 * 1024 });
   *   copy.pathInfoPop(); // the copy's SCRIPT_NAME is /api, its PATH_INFO the rest
   *   return copy.getResponse(apiApp);
   * });
   * ```
   */
  async copy(options?: ReadOptions): Promise<this> {
    checkReadOptions(options, 'copy');
    await readWhole(this, options?.maxBodySize ?? Infinity, bodyTooLarge);
    return new (this.constructor as new (environ: Environ) => this)(copyEnviron(this.environ, {}));
  }

  /**
   * A `GET` request of the same class over a copy of the environ without a body (WebOb's
   * `req.copy_get()`): `REQUEST_METHOD` is `GET`, and `Content-Type`, `Content-Length`,
   * `Transfer-Encoding` and `Content-Encoding` are left out, with an empty `tsgi.input`; the
   * path, query and other headers are this request's. Synchronous: nothing is read, and this
   * request's body is left for its own readers. To fetch a page for the answer to a `POST`
   * (the page to show after a form), or to ask another app what a `GET` would answer.
   *
   * As {@link RequestCopy.copy}: values are shared, not cloned; the copy parses nothing of the
   * original's.
   *
   * @example
   * ```ts
   * const page = await req.copyGet().getResponse(site); // what GET answers for this URL
   * ```
   */
  copyGet(): this {
    const changes: Partial<Environ> = { REQUEST_METHOD: 'GET', 'tsgi.input': EMPTY_INPUT };
    const copy = copyEnviron(this.environ, changes);
    for (const key of BODY_KEYS) if (key in copy) delete copy[key];
    return new (this.constructor as new (environ: Environ) => this)(copy);
  }
}
