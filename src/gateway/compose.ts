/**
 * Stacking middleware in reading order ({@link compose}).
 *
 * @module
 */
import { type App, type AppLike, toApp } from './types.ts';

/**
 * Stacks middleware in reading order: `compose(a, b, c)(app)` is `a(b(c(app)))`, so the first
 * is the outermost layer (it sees the request first and the response last). With no layers
 * it answers the app itself.
 *
 * Each layer is a {@link Middleware} called with one argument, the app below (already an
 * `App`): any middleware whose options are all optional goes in as it is, and an arrow
 * function binds options (`(app) => basicAuth(app, { verify })`). A function typed
 * `(app: App) => App` fits too.
 *
 * @example
 * ```ts
 * const stack = compose(
 *   accessLog,
 *   (app) => errors(app, { debug: process.env.NODE_ENV === 'development' }),
 *   compress,
 * );
 * export const app = stack(mount({ '/': home, '/blog': blog }));
 * ```
 * @throws TypeError when a layer is not a function or does not answer a function.
 */
export function compose(...layers: Array<(app: App) => App>): (app: AppLike) => App {
  for (const layer of layers) {
    if (typeof layer !== 'function') throw new TypeError('compose() takes middleware functions (app) => App');
  }
  return (app) => {
    let wrapped = toApp(app);
    for (let i = layers.length - 1; i >= 0; i--) {
      wrapped = layers[i]!(wrapped);
      if (typeof wrapped !== 'function') throw new TypeError(`middleware #${i + 1} of compose() did not return an app`);
    }
    return wrapped;
  };
}
