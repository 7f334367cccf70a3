/**
 * Serving a `Response` as a gateway app (WebOb's `response(environ, start_response)`).
 *
 * @module
 */
import type { Body, Environ, StartResponse } from '../gateway/types.ts';
import type { Members } from '../http/descriptors.ts';
import type { Response } from './response.ts';
import { discardBody, serveConditional } from './conditional.ts';

/** A {@link Response} as a gateway app. */
export interface ResponseServing {
  /**
   * Serves this response as a gateway app (WebOb's `response(environ, start_response)`):
   * starts the response with this status and headers, and returns the body. A HEAD request
   * gets the headers and an empty body (a streamed body is closed unread). With
   * {@link Response.conditionalResponse}, preconditions and ranges are evaluated first (see
   * `serveConditional`). The response itself is not changed.
   */
  respond(environ: Environ, startResponse: StartResponse): Body;

  /** This response as an {@link App} function. */
  toApp(): (environ: Environ, startResponse: StartResponse) => Body;

  /** A short description for logs: `<Response 200 OK text/plain 5 bytes>`. */
  toString(): string;
}

export const servingMembers: Members<Response, ResponseServing> = {
  respond(environ, startResponse) {
    if (this.conditionalResponse) return serveConditional(this, environ, startResponse);
    startResponse(this.status, this.headers.list);
    const body = this.body;
    if (environ.REQUEST_METHOD === 'HEAD') {
      if (this.isStreamed) discardBody(body);
      return [];
    }
    if (this.isStreamed) return body as Body;
    return (body as Uint8Array).byteLength === 0 ? [] : [body as Uint8Array];
  },
  toApp() {
    return (environ, startResponse) => this.respond(environ, startResponse);
  },
  toString() {
    const size = this.isStreamed ? 'streamed' : `${(this.body as Uint8Array).byteLength} bytes`;
    return `<Response ${this.status} ${this.contentType ?? '-'} ${size}>`;
  },
};
