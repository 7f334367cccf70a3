/**
 * `tsgi/node`: running a gateway app on Node's `node:http`. `serve(app)` starts a server (also
 * exported from the package root); `toNodeHandler(app)` gives a `(req, res)` handler for an
 * existing `http.Server`, Express or Connect; `createEnviron(req)` builds the environ of a
 * request. See docs/server.md.
 *
 * @module
 */
export { type CloseOptions, type ServeOptions, type ServerHandle, type UpgradeContext, type UpgradeHandler, type ClosedUpgrade, type UpgradeCloseListener, serve } from '../adapters/node/serve.ts';
export { toNodeHandler } from '../adapters/node/handler.ts';
export { DEFAULT_MAX_HEADERS, type NodeEnvironOptions, createEnviron } from '../adapters/node/environ.ts';
export { type RefusalListener, type RefusedRequest } from '../adapters/node/refused.ts';
