/**
 * Typed environ keys: {@link defineEnvironKey} names a per-request value that middleware put
 * in the environ (docs/spec.md §2.4) and reads and writes it with its type, instead of a
 * string key and a cast at every use (Flask's `g`, Hono's typed `c.get`/`c.set`, Python's
 * `contextvars.ContextVar` objects).
 *
 * @module
 */
import type { Environ } from './types.ts';

/** Where a key is read or written: an environ, or anything holding one (a `Request`). */
type EnvironHolder = Environ | { readonly environ: Environ };

/**
 * A typed extension key of the environ, made by {@link defineEnvironKey}: its `name` and
 * typed `get`, `set` and `delete`. Each takes a `Request` (anything with an `environ`) or an
 * environ.
 */
export interface EnvironKey<T> {
  /** The key in the environ, e.g. `'tsgi.auth_user'`; `environ[key.name]` is the same value. */
  readonly name: string;
  /**
   * The value stored under {@link EnvironKey.name}, or `undefined` when there is none. The
   * value is answered as it is stored, not checked: write it through {@link EnvironKey.set}.
   */
  get(from: EnvironHolder): T | undefined;
  /** Stores `value` under {@link EnvironKey.name}, for the layers below (and above) to read. */
  set(on: EnvironHolder, value: T): void;
  /**
   * Removes the key. (Deleting a property is slower for V8 than overwriting it: in hot paths,
   * prefer setting a value that means "none" when `T` has one.)
   */
  delete(on: EnvironHolder): void;
}

/** A key name: a prefix, a dot, then the rest (`tsgi.auth_user`, `myapp.user`), as spec §2.4 asks. */
const KEY_NAME = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_.-]+$/;

/**
 * Defines a typed environ key: one object, made once at module scope and exported, through
 * which the middleware that sets a value and the apps that read it agree on its name and type.
 * The toolkit's own are `authUserKey`, `authTicketKey` and `proxyFixOrigKey`.
 *
 * @param name - the environ key: a prefix owned by whoever defines it, a dot, then the rest
 *   (`myapp.user`; the toolkit's keys are `tsgi.` + snake_case). CGI keys (`REMOTE_USER`,
 *   `HTTP_*`) have no dot and are typed on `Environ` itself.
 * @throws TypeError when `name` has no prefix and dot, or characters outside `A-Z a-z 0-9 _ - .`.
 *
 * @example
 * ```ts
 * import { Request, Response, defineEnvironKey, defineMiddleware } from 'tsgi';
 *
 * interface Tenant { id: string; plan: 'free' | 'pro' }
 * export const tenantKey = defineEnvironKey<Tenant>('myapp.tenant');
 *
 * // A middleware sets it…
 * export const tenants = defineMiddleware(async (req, app) => {
 *   tenantKey.set(req, await db.tenantFor(req.host));
 *   return req.getResponse(app);
 * });
 *
 * // …and the app reads it, typed: Tenant | undefined.
 * export const site = Request.application((req) => new Response(`plan: ${tenantKey.get(req)?.plan}`));
 * ```
 */
export function defineEnvironKey<T>(name: string): EnvironKey<T> {
  if (typeof name !== 'string' || !KEY_NAME.test(name)) {
    throw new TypeError(`an environ key is a prefix, a dot and a name (as "myapp.user"), not ${JSON.stringify(name)}`);
  }
  return Object.freeze({
    name,
    get: (from: EnvironHolder) => environOf(from)[name] as T | undefined,
    set: (on: EnvironHolder, value: T) => {
      environOf(on)[name] = value;
    },
    delete: (on: EnvironHolder) => {
      delete environOf(on)[name];
    },
  });
}

/** The environ of a request (its `environ`: a `Request` of any copy of tsgi, any view of one) or the environ itself. */
export function environOf(holder: EnvironHolder): Environ {
  const environ = 'environ' in holder && typeof holder.environ === 'object' && holder.environ !== null ? holder.environ : holder;
  return environ as Environ;
}
