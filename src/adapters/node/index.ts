/**
 * The Node.js server adapter: runs a gateway app on `node:http`.
 *
 * `serve(app)` starts a server; `toNodeHandler(app)` gives a `(req, res)` handler for an
 * existing `http.Server` or for Express/Connect; `createEnviron(req)` builds the environ.
 *
 * The parts live beside this file, one concept each: `environ.ts` (the environ of a request),
 * `handler.ts` (the `(req, res)` handler), `exchange.ts` (`startResponse`, app errors),
 * `state.ts` (what `head.ts` and `pump.ts` use of an exchange), `head.ts` (status line,
 * headers, framing), `end.ts` (a whole small body in one socket write),
 * `pump.ts` (streamed bodies with backpressure), `linger.ts` (unread request bodies and the
 * lingering close), `continue.ts` (`Expect: 100-continue`), `serve.ts` (`serve`, `close`).
 *
 * @module
 */
export { DEFAULT_MAX_HEADERS, type NodeEnvironOptions, createEnviron } from './environ.ts';
export { toNodeHandler } from './handler.ts';
export { type ServeOptions, type ServerHandle, serve } from './serve.ts';
