/**
 * Node framework apps (Express, Connect, Koa) given where a gateway app is expected: they are
 * functions or objects too, but of `(req, res, next)`, and called as gateway apps they fail
 * every request (`res.setHeader is not a function`). Told apart once, where an app is taken
 * (`serve()`, `toNodeHandler()`, `toFetchHandler()`, `new TestClient()`, `tsgi serve`), never per request.
 *
 * @module
 */

/**
 * The Node framework app or router given where a gateway app is expected: `framework` is
 * `'an Express or Connect'` (`kind: 'app'`) for a function with `handle()` and `listen()`,
 * `'an Express'` (`kind: 'router'`) for one with `handle()`, `use()` and a `stack` array but no
 * `listen()` (`express.Router()`), `'a Koa'` (`kind: 'app'`) for an object with `callback()`
 * and `listen()`; `run` is the advice for a message (`run it with its own listen()`, or for a
 * router, which has none, `mount it in an Express app (app.use(router)) and run that with its
 * listen()`). `undefined` for anything else.
 */
export function nodeFrameworkKind(value: unknown): { framework: string; kind: 'app' | 'router'; run: string } | undefined {
  if (value === null || (typeof value !== 'function' && typeof value !== 'object')) return undefined;
  const { handle, listen, callback, use, stack } = value as { handle?: unknown; listen?: unknown; callback?: unknown; use?: unknown; stack?: unknown };
  if (typeof listen !== 'function') {
    if (typeof value === 'function' && typeof handle === 'function' && typeof use === 'function' && Array.isArray(stack)) {
      return { framework: 'an Express', kind: 'router', run: 'mount it in an Express app (app.use(router)) and run that with its listen()' };
    }
    return undefined;
  }
  const run = 'run it with its own listen()';
  if (typeof value === 'function' && typeof handle === 'function') return { framework: 'an Express or Connect', kind: 'app', run };
  if (typeof callback === 'function') return { framework: 'a Koa', kind: 'app', run };
  return undefined;
}

/**
 * Throws when `app` is a Node framework's app or router ({@link nodeFrameworkKind}), naming it.
 *
 * @param where - who was given it, for the message (`serve`, `TestClient`).
 * @throws TypeError `serve: this is an Express or Connect app, not a gateway app: …`.
 */
export function refuseNodeFramework(app: unknown, where: string): void {
  const found = nodeFrameworkKind(app);
  if (found === undefined) return;
  throw new TypeError(
    `${where}: this is ${found.framework} ${found.kind}, not a gateway app (environ, startResponse): ${found.run}, and mount tsgi apps inside it with toNodeHandler`,
  );
}
