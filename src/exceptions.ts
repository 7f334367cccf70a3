/**
 * HTTP exceptions: one class per registered 3xx/4xx/5xx status. Each can be thrown (from a
 * `Request.application` handler), returned, or served as a gateway app.
 *
 * - `exceptions/base.ts`: `HTTPException` and its options;
 * - `response/error-body.ts`: the negotiated body (plain text, HTML, JSON), `escapeHtml`;
 * - `exceptions/redirects.ts`: `HTTPRedirection`, `absoluteLocation`, the 3xx classes;
 * - `exceptions/client-errors.ts`, `exceptions/server-errors.ts`: the 4xx and 5xx classes;
 * - `exceptions/abort.ts`: `statusExceptions`, `abort`, `redirect`.
 *
 * @module
 */
export { type HTTPExceptionOptions, type RequestLike, HTTPException } from './exceptions/base.ts';
export { escapeHtml } from './response/error-body.ts';
export * from './exceptions/redirects.ts';
export * from './exceptions/client-errors.ts';
export * from './exceptions/server-errors.ts';
export * from './exceptions/abort.ts';
