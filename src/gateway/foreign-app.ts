/**
 * Node framework apps (Express, Connect, Koa) given where a gateway app is expected: they are
 * functions or objects too, but of `(req, res, next)`, and called as gateway apps they fail
 * every request (`res.setHeader is not a function`). Told apart once, where an app is taken
 * (`serve()`, `toNodeHandler()`, `toFetchHandler()`, `new TestClient()`, `tsgi serve`), never per request.
 *
 * @module
 */

/**
 * The framework of a Node app given where a gateway app is expected: `'an Express or
 * Connect'` for a function with `handle()` and `listen()`, `'a Koa'` for an object with
 * `callback()` and `listen()`; `undefined` for anything else.
 */
export function nodeFramework(value: unknown): string | undefined {
  if (value === null || (typeof value !== 'function' && typeof value !== 'object')) return undefined;
  const { handle, listen, callback } = value as { handle?: unknown; listen?: unknown; callback?: unknown };
  if (typeof listen !== 'function') return undefined;
  if (typeof value === 'function' && typeof handle === 'function') return 'an Express or Connect';
  if (typeof callback === 'function') return 'a Koa';
  return undefined;
}

/**
 * Throws when `app` is a Node framework's app ({@link nodeFramework}), naming it.
 *
 * @param where - who was given it, for the message (`serve`, `TestClient`).
 * @throws TypeError `serve: this is an Express or Connect app, not a gateway app: …`.
 */
export function refuseNodeFramework(app: unknown, where: string): void {
  const framework = nodeFramework(app);
  if (framework === undefined) return;
  throw new TypeError(
    `${where}: this is ${framework} app, not a gateway app (environ, startResponse): run it with its own listen(), and mount tsgi apps inside it with toNodeHandler`,
  );
}
