/**
 * Running apps with a `Request`: `req.getResponse(app)` (WebOb's `get_response`) and the
 * engine of `Request.application` (WebOb's `wsgify`), both in charge of the request's end.
 *
 * @module
 */
import { type App, type AppLike, type Body, type Environ, type StartResponse, toApp } from '../gateway/types.ts';
import { isThenable } from '../gateway/body.ts';
import { HTTPException } from '../exceptions.ts';
import { Response } from '../response/response.ts';
// A cycle (request.ts imports this module), safe as middleware/compose.ts's: `Request` is used
// only when an app runs, and only request.ts loads this module (loaded first, request.ts would
// read `RequestApplication` before it is set).
import { Request } from './request.ts';
import { callApplication } from './call.ts';
import { claimCleanup, endWithBody, finishRequest, hasForm, releaseCleanup } from './cleanup.ts';
import { setBodyKeepingLength } from './stream-body.ts';

/**
 * What a `Request.application` handler may return: a `Response`, an `HTTPException`, a string
 * (sent as `200 text/plain; charset=utf-8`), or another gateway app (a function or an object
 * with `respond`) that then answers the same environ. Anything else (`undefined` from a
 * forgotten `return`…) is a `TypeError` at run time.
 */
export type HandlerResult = Response | HTTPException | string | AppLike;

/** A `Request.application` handler. */
export type Handler = (req: Request) => HandlerResult | Promise<HandlerResult>;

/** Running a gateway app on a `Request` (installed on it; see `descriptors.ts`). */
export abstract class RequestApplication {
  declare readonly environ: Environ;

  /**
   * Runs a gateway app on this request and returns its answer as a {@link Response}
   * (WebOb `get_response`). The body is not buffered: a streamed body stays streamed.
   * Errors thrown by the app propagate.
   *
   * Called outside any `Request.application` (in a test, a script), it takes charge of the
   * request's end: uploads the app parsed are cleaned up once the response body is read to
   * its end or closed, or at once when the body came back in memory.
   */
  async getResponse(app: AppLike): Promise<Response> {
    const environ = this.environ;
    const owner = claimCleanup(environ);
    let res: Response;
    try {
      res = await callApplication(environ, toApp(app));
    } catch (error) {
      return fail(error, environ, owner);
    }
    if (!owner) return res;
    if (!res.isStreamed) {
      await finishRequest(environ);
    } else {
      const body = res.body as Body;
      const ended = await endWithBody(body, environ);
      if (ended !== body) setBodyKeepingLength(res, ended);
    }
    return res;
  }
}

/** The gateway app of `Request.application(handler)` (see there). */
export function handlerApp(handler: Handler): App {
  return (environ, startResponse) => {
    const req = new Request(environ);
    const owner = claimCleanup(environ);
    let result: HandlerResult | PromiseLike<HandlerResult>;
    try {
      result = handler(req);
    } catch (error) {
      return serveError(error, req, owner, startResponse);
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (value) => serve(value, req, owner, startResponse),
        (error: unknown) => serveError(error, req, owner, startResponse),
      );
    }
    return serve(result, req, owner, startResponse);
  };
}

// The steps of `handlerApp`, written as plain functions so the synchronous path allocates no
// closures. `owner` is true when this app has charge of the request's cleanup (see cleanup.ts).

/** Answers with what the handler returned. */
function serve(result: HandlerResult, req: Request, owner: boolean, startResponse: StartResponse): Body | Promise<Body> {
  try {
    const body = respondWith(result, req, startResponse);
    if (!owner) return body;
    const environ = req.environ;
    if (isThenable(body)) {
      return Promise.resolve(body).then(
        (value) => endWithBody(value, environ),
        (error: unknown) => fail(error, environ, owner),
      );
    }
    return endWithBody(body, environ);
  } catch (error) {
    return fail(error, req.environ, owner);
  }
}

/** A thrown `HTTPException` is the answer; anything else propagates. */
function serveError(error: unknown, req: Request, owner: boolean, startResponse: StartResponse): Body | Promise<Body> {
  return error instanceof HTTPException ? serve(error, req, owner, startResponse) : fail(error, req.environ, owner);
}

/** Propagates `error`, after removing the uploads the handler parsed. */
function fail(error: unknown, environ: Environ, owner: boolean): Promise<never> {
  if (owner && hasForm(environ)) return finishRequest(environ).then(() => Promise.reject(error));
  if (owner) releaseCleanup(environ);
  throw error;
}

function respondWith(result: HandlerResult, req: Request, startResponse: StartResponse): Body | Promise<Body> {
  if (result instanceof Response) return result.respond(req.environ, startResponse);
  if (typeof result === 'string') return new Response(result).respond(req.environ, startResponse);
  if (result instanceof HTTPException) return result.getResponse(req).respond(req.environ, startResponse);
  if (typeof result === 'function') return result(req.environ, startResponse);
  if (result && typeof result === 'object' && typeof result.respond === 'function') {
    return result.respond(req.environ, startResponse);
  }
  throw new TypeError(
    `Request.application handler returned ${result === null ? 'null' : typeof result}: expected a Response, HTTPException, string or app`,
  );
}
